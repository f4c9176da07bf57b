"""Shared helpers for the recording tests: test signals, reading parts back, small mounts."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

__all__ = ["signal", "read_parts", "read_parts_int", "small_tmpfs", "TmpfsUnavailable"]


def signal(frames: int, channels: int, seed: int = 0, amplitude: float = 0.9) -> np.ndarray:
    """Random float32 audio in ±amplitude, (frames, channels)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-amplitude, amplitude, (frames, channels)).astype(np.float32)


def read_parts(paths: Sequence[Path], dtype: str = "float32") -> np.ndarray:
    """The parts of a recording read back and joined: (frames, channels)."""
    return np.concatenate([sf.read(str(p), dtype=dtype, always_2d=True)[0] for p in paths])


def read_parts_int(paths: Sequence[Path]) -> np.ndarray:
    return read_parts(paths, dtype="int32")


class TmpfsUnavailable(Exception):
    pass


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str = "2m") -> Iterator[Path]:
    """Mount a tmpfs of ``size`` on ``folder`` (root only); unmount afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        raise TmpfsUnavailable("mounting a tmpfs needs root; run the tests as root to cover this")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise TmpfsUnavailable(f"mount -t tmpfs not permitted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
