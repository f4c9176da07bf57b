"""Session recording: WAV (or RF64/W64) plus a JSON sidecar, crash-safe, never blocking the music.

>>> from distill_live.record import Recorder, recover_sessions, session_metadata
>>> rec = Recorder(path, samplerate=48000, channels=2, metadata=session_metadata(model=m))
>>> rec.start(); rec.write(block); rec.event(frame, "temperature", 0.8, "osc"); rec.stop()
"""

from __future__ import annotations

from ..params import SOURCES
from .defaults import RecordDefaults
from .naming import part_path, resolve_record_path, session_filename, sidecar_path
from .recorder import Recorder
from .recovery import RecoveredSession, find_sidecars, prepare_record_path, recover_sessions
from .sidecar import (
    FORMAT_NAME,
    FORMAT_VERSION,
    STATUSES,
    active_sidecars,
    file_sha256,
    model_info,
    read_sidecar,
    session_metadata,
)
from .wavheader import repair_header
from .writer import CONTAINERS, SUBTYPES, WAV_SPLIT_BYTES

__all__ = [
    "Recorder",
    "RecordDefaults",
    "recover_sessions",
    "prepare_record_path",
    "RecoveredSession",
    "find_sidecars",
    "session_metadata",
    "model_info",
    "file_sha256",
    "read_sidecar",
    "sidecar_path",
    "part_path",
    "resolve_record_path",
    "session_filename",
    "repair_header",
    "active_sidecars",
    "SUBTYPES",
    "CONTAINERS",
    "WAV_SPLIT_BYTES",
    "SOURCES",
    "STATUSES",
    "FORMAT_NAME",
    "FORMAT_VERSION",
]
