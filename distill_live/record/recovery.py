"""Finding recordings cut off by a crash, repairing their files, marking them ``recovered``.

It may import the standard library, soundfile, :mod:`distill_live.errors` and the naming,
sidecar and header modules of this package; the recorder builds on it, never the reverse.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import soundfile as sf

from ..errors import RecordingError
from .naming import part_path, reserve_path, resolve_record_path
from .sidecar import active_sidecars, is_process_alive, read_sidecar, utc_now, write_sidecar
from .wavheader import repair_header

__all__ = ["RecoveredSession", "recover_sessions", "find_sidecars", "prepare_record_path"]


@dataclass(frozen=True)
class RecoveredSession:
    """One recording brought back: its sidecar, its parts, the frames found in them."""

    sidecar: Path
    parts: tuple[Path, ...]
    frames: int
    repaired: tuple[Path, ...]  # parts whose header had to be rewritten


def find_sidecars(
    folder_or_paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> list[Path]:
    """Sidecar paths named by a folder (its ``*.json`` files), sidecar paths, or audio paths
    (their ``PATH.json``)."""
    if isinstance(folder_or_paths, (str, os.PathLike)):
        items: list[str | os.PathLike[str]] = [folder_or_paths]
    else:
        items = list(folder_or_paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out.extend(sorted(q for q in p.glob("*.json") if not q.name.startswith(".")))
        elif p.suffix == ".json":
            out.append(p)
        else:
            out.append(Path(os.fspath(p) + ".json"))
    return out


def recover_sessions(
    folder_or_paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> list[RecoveredSession]:
    """Recover every recording left in status ``recording`` by a process that is gone.

    For each such sidecar: every part listed (and any later numbered part that exists) gets its
    header sizes rewritten from the file length if they disagree; the sidecar is marked
    ``recovered`` with the frames found, per part and in total. Recordings still being written
    (by this process, or by a live process on this host) and sidecars that are not ours are
    left alone. Returns what was recovered.
    """
    live = active_sidecars()
    done: list[RecoveredSession] = []
    for side in find_sidecars(folder_or_paths):
        if not side.is_file() or side.absolute() in live or not _maybe_recording(side):
            continue
        try:
            doc = read_sidecar(side)
        except RecordingError:
            continue
        if doc.get("status") != "recording" or is_process_alive(doc.get("writer")):
            continue
        done.append(_recover_one(side, doc))
    return done


def _maybe_recording(side: Path) -> bool:
    """Cheap pre-check (the status is near the top of our sidecars): skips reading whole
    finished sidecars when a folder holds many sessions."""
    try:
        with open(side, "rb") as f:
            head = f.read(1024)
    except OSError:
        return False
    return b'"status": "recording"' in head or b'"status":"recording"' in head


def _recover_one(side: Path, doc: dict[str, Any]) -> RecoveredSession:
    audio = doc.get("audio") or {}
    first = side.with_name(str(audio.get("file") or side.name[: -len(".json")]))
    listed = [side.with_name(str(p["file"])) for p in doc.get("parts") or [] if "file" in p]
    paths = listed or [first]
    # A part opened after the sidecar's last update would still follow the naming scheme.
    n = len(paths) + 1
    while part_path(first, n).exists():
        paths.append(part_path(first, n))
        n += 1
    parts_out: list[dict[str, Any]] = []
    repaired: list[Path] = []
    problems: list[str] = []
    total = 0
    last_mtime: float | None = None
    for p in paths:
        frames = 0
        if p.exists():
            last_mtime = p.stat().st_mtime
            try:
                if p.stat().st_size == 0:
                    _write_empty(p, audio)
                    repaired.append(p)
                elif repair_header(p):
                    repaired.append(p)
                frames = int(sf.info(str(p)).frames)
            except (RecordingError, OSError, RuntimeError) as e:
                problems.append(f"{p.name}: {e}")
        else:
            problems.append(f"{p.name}: missing")
        parts_out.append({"file": p.name, "frames": frames})
        total += frames
    with contextlib.suppress(OSError):
        os.unlink(reserve_path(first))
    rate = int(audio.get("samplerate") or 0)
    doc["status"] = "recovered"
    doc["reason"] = (
        "the recording process ended without finishing the recording (crash, kill or power "
        f"loss); {total} frames recovered"
        + (f"; problems: {'; '.join(problems)}" if problems else "")
    )
    doc["parts"] = parts_out
    doc["frames_written"] = total
    doc["duration_s"] = round(total / rate, 6) if rate else None
    if last_mtime is not None and not doc.get("end_utc"):
        doc["end_utc"] = (
            datetime.fromtimestamp(last_mtime, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z")
        )
    doc["recovered_utc"] = utc_now()
    doc["recovered_parts"] = [p.name for p in repaired]
    write_sidecar(side, doc)
    return RecoveredSession(side, tuple(paths), total, tuple(repaired))


def _write_empty(p: Path, audio: dict[str, Any]) -> None:
    """A zero-length part (killed before its header was written) becomes a valid empty file."""
    fmt = {"wav": "WAV", "rf64": "RF64", "w64": "W64"}.get(str(audio.get("container")), "WAV")
    with sf.SoundFile(
        str(p),
        "w",
        samplerate=int(audio.get("samplerate") or 48000),
        channels=int(audio.get("channels") or 2),
        format=fmt,
        subtype=str(audio.get("subtype") or "PCM_24"),
    ):
        pass


def prepare_record_path(
    target: str | os.PathLike[str], *, seed: int, container: str = "wav"
) -> tuple[Path, list[RecoveredSession]]:
    """What ``--record target`` and ``/distill/record/start [target]`` do before a start:
    recover the sessions a crash left in the target's folder, then pick the file name
    (:func:`~distill_live.record.resolve_record_path`). Returns ``(path, recovered)``."""
    path = resolve_record_path(target, seed=seed, container=container)
    recovered = recover_sessions(path.parent) if path.parent.is_dir() else []
    return path, recovered
