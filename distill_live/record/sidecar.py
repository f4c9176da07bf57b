"""The JSON sidecar that says exactly what a recording holds and how it was made.

The sidecar ``PATH.json`` sits next to the WAV ``PATH``. It is written before the WAV's first
frame and replaced atomically (a temporary file in the same folder, fsync, ``os.replace``) on
every update, so a reader, or a crash, only ever sees a complete document.

This module also keeps the registry of the sidecars this process is writing right now
(:func:`mark_active`, :func:`active_sidecars`): the recorder adds to it, recovery reads it to
leave running recordings alone. It may import the standard library, :mod:`distill_live.errors`
and :mod:`distill_live.params`; nothing else from distill_live.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import RecordingError
from ..params import SOURCES

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "SOURCES",
    "STATUSES",
    "utc_now",
    "file_sha256",
    "model_info",
    "session_metadata",
    "write_sidecar",
    "read_sidecar",
    "process_identity",
    "is_process_alive",
    "active_sidecars",
    "mark_active",
    "mark_inactive",
]

FORMAT_NAME = "distill_live.session"
FORMAT_VERSION = 1

#: ``recording`` while being written; then ``complete``, ``recovered`` (after a crash) or
#: ``failed`` (with a ``reason``).
STATUSES = ("recording", "complete", "recovered", "failed")


#: Sidecars of recordings running in this process (recovery must leave them alone).
_ACTIVE: set[Path] = set()
_ACTIVE_LOCK = threading.Lock()


def active_sidecars() -> frozenset[Path]:
    """Sidecar paths of the recordings this process is writing right now."""
    with _ACTIVE_LOCK:
        return frozenset(_ACTIVE)


def mark_active(sidecar: Path) -> None:
    """Register ``sidecar`` (an absolute path) as being written by this process."""
    with _ACTIVE_LOCK:
        _ACTIVE.add(sidecar)


def mark_inactive(sidecar: Path) -> None:
    """The recording of ``sidecar`` is finished (or failed): recovery may look at it again."""
    with _ACTIVE_LOCK:
        _ACTIVE.discard(sidecar)


def utc_now() -> str:
    """The current time in UTC, ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def model_info(model: Any) -> dict[str, Any] | None:
    """``{path, name, sha256, format_version}`` of a model (a DistillModel, a path, or None).

    Uses the model's own ``path``/``sha256``/``header`` where it has them; hashes the file
    when only the path is known. A model built in memory has ``path`` and ``sha256`` None.
    """
    if model is None:
        return None
    if isinstance(model, (str, os.PathLike)):
        p = Path(model)
        return {
            "path": str(p.resolve()),
            "name": p.stem,
            "sha256": file_sha256(p) if p.is_file() else None,
            "format_version": None,
        }
    path = getattr(model, "path", None)
    sha = getattr(model, "sha256", None)
    header = getattr(model, "header", None) or {}
    if not isinstance(header, Mapping):
        header = {}
    if sha is None and path is not None and Path(path).is_file():
        sha = file_sha256(path)
    name = header.get("name") or (Path(path).stem if path is not None else type(model).__name__)
    version = header.get("format_version", header.get("version"))
    return {
        "path": None if path is None else str(Path(path).resolve()),
        "name": str(name),
        "sha256": sha,
        "format_version": version,
    }


def session_metadata(
    *,
    model: Any = None,
    params: Mapping[str, Any] | None = None,
    seed: int | None = None,
    stereo: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The ``metadata`` a :class:`Recorder` wants: model, parameters at the start, seed, stereo.

    ``params`` is a :class:`~distill_live.params.ParamValues` (or any mapping); ``seed``
    defaults to ``params["seed"]``. Extra keyword arguments are stored as they are
    (JSON-serialisable values only).
    """
    values = {k: _jsonable(v) for k, v in (params or {}).items()}
    if seed is None and "seed" in values:
        seed = int(values["seed"])
    return {
        "model": model_info(model),
        "seed": None if seed is None else int(seed),
        "stereo": stereo,
        "params_at_start": values,
        **{k: _jsonable(v) for k, v in extra.items()},
    }


def _jsonable(value: Any) -> Any:
    """Plain Python for JSON: numpy scalars → int/float, paths → str, NaN/inf → None."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _jsonable(item())
    return str(value)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_sidecar(path: Path, doc: Mapping[str, Any] | str, *, exclusive: bool = False) -> None:
    """Write ``doc`` (a document, or its JSON text) to ``path`` atomically: temporary file,
    fsync, rename, fsync the folder.

    With ``exclusive=True`` the sidecar must not exist yet (a hard link from the temporary
    file, which fails if the name is taken; ``O_EXCL`` on file systems without hard links).
    Raises ``OSError`` (``FileExistsError`` when exclusive and taken).
    """
    if isinstance(doc, str):
        text = doc
    else:
        text = json.dumps(_jsonable(doc), indent=1, allow_nan=False) + "\n"
    data = text.encode("utf-8")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o644
        )
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise
            except OSError:  # no hard links here (FAT, some network mounts)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    os.write(fd, data)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def read_sidecar(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load and check a sidecar; :class:`RecordingError` if it is not one of ours."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordingError(f"sidecar {p} does not exist") from None
    except (OSError, ValueError) as e:
        raise RecordingError(f"cannot read sidecar {p}: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise RecordingError(
            f'{p} is not a distill_live session sidecar (expected "format": "{FORMAT_NAME}")'
        )
    version = doc.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RecordingError(
            f"{p} has sidecar format version {version!r}; this distill_live reads versions "
            f"up to {FORMAT_VERSION}: upgrade distill_live"
        )
    return doc


def process_identity() -> dict[str, Any]:
    """Who is writing: pid, host and (on Linux) the process start time, so recovery can tell
    a live recording from one whose process died (a pid alone may be reused)."""
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "proc_start": _proc_start(os.getpid()),
    }


def _proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().decode("ascii", "replace").rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _proc_start(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def is_process_alive(identity: Mapping[str, Any] | None) -> bool:
    """Whether the process recorded in ``identity`` (see :func:`process_identity`) still runs."""
    if not identity or identity.get("host") != socket.gethostname():
        return False
    pid = identity.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = identity.get("proc_start")
    if _proc_state(pid) in ("Z", "X"):  # killed, not yet reaped
        return False
    return start is None or _proc_start(pid) == start
