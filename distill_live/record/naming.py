"""File names for recordings: session names in a folder, numbered parts, the sidecar."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "CONTAINER_SUFFIX",
    "session_filename",
    "resolve_record_path",
    "part_path",
    "sidecar_path",
    "reserve_path",
]

#: File name suffix used for each container when a name has to be made up.
CONTAINER_SUFFIX = {"wav": ".wav", "rf64": ".wav", "w64": ".w64"}


def session_filename(seed: int, when: datetime | None = None, container: str = "wav") -> str:
    """``session_{UTC timestamp}_seed{seed}.wav``, e.g. ``session_20260101T120000Z_seed7.wav``."""
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return f"session_{when:%Y%m%dT%H%M%SZ}_seed{int(seed)}{CONTAINER_SUFFIX[container]}"


def resolve_record_path(
    target: str | os.PathLike[str],
    *,
    seed: int,
    container: str = "wav",
    when: datetime | None = None,
) -> Path:
    """The WAV path to record to for ``--record target``.

    A folder (an existing directory, or a path ending in a separator, which is created) gets a
    new ``session_{UTC timestamp}_seed{seed}.wav`` inside it; if that name (or its sidecar) is
    taken, ``_2``, ``_3``, ... is appended, so each start makes a new file. Anything else is a
    file name, given a suffix if it has none. Existing files are never chosen for a folder; for
    an explicit file name, :meth:`Recorder.start` refuses to overwrite.
    """
    text = os.fspath(target)
    p = Path(text).expanduser()
    if p.is_dir() or text.endswith(("/", os.sep)):
        p.mkdir(parents=True, exist_ok=True)
        name = session_filename(seed, when, container)
        candidate = p / name
        n = 1
        while candidate.exists() or sidecar_path(candidate).exists():
            n += 1
            stem, suffix = os.path.splitext(name)
            candidate = p / f"{stem}_{n}{suffix}"
        return candidate
    if p.suffix == "":
        p = p.with_suffix(CONTAINER_SUFFIX[container])
    return p


def part_path(first: Path, index: int) -> Path:
    """Path of part ``index`` (1-based) of a recording whose first part is ``first``.

    Part 1 is ``first`` itself; later parts are ``{stem}_part002{suffix}``, ...
    """
    if index <= 1:
        return first
    return first.with_name(f"{first.stem}_part{index:03d}{first.suffix}")


def sidecar_path(wav_path: str | os.PathLike[str]) -> Path:
    """The JSON sidecar of a recording: ``PATH.json`` next to the (first) WAV ``PATH``."""
    return Path(os.fspath(wav_path) + ".json")


def reserve_path(wav_path: str | os.PathLike[str]) -> Path:
    """A hidden file of spare bytes kept while recording, freed so the final sidecar can be
    written when the disk fills up."""
    p = Path(os.fspath(wav_path))
    return p.with_name(f".{p.name}.reserve")
