"""Reading and repairing the size fields of WAV, RF64 and Wave64 headers.

A recording cut off by a crash holds good audio data but may carry sizes that do not match
the file's length (libsndfile only writes them on close unless header updates are automatic,
and a kill can land between a data write and the header update). :func:`repair_header`
rewrites the sizes from the file length, dropping a trailing partial frame.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import RecordingError

__all__ = ["HeaderInfo", "read_header", "repair_header"]

_W64_RIFF = b"riff" + bytes.fromhex("2e91cf11a5d628db04c10000")
_W64_WAVE = b"wave" + bytes.fromhex("f3acd3118cd100c04f8edb8a")
_W64_FMT = b"fmt " + bytes.fromhex("f3acd3118cd100c04f8edb8a")
_W64_DATA = b"data" + bytes.fromhex("f3acd3118cd100c04f8edb8a")

_SCAN_LIMIT = 1 << 20  # the data chunk starts within the first MiB or this is not our file


@dataclass(frozen=True)
class HeaderInfo:
    """Where things are in a WAV-family header."""

    container: str  # "wav", "rf64" or "w64"
    block_align: int  # bytes per frame
    data_offset: int  # file offset of the first audio byte
    data_size_field: int  # offset of the data chunk's size field
    ds64_offset: int | None = None  # RF64: offset of the ds64 chunk's data
    fact_offset: int | None = None  # WAV: offset of the fact chunk's sample count


def read_header(path: str | os.PathLike[str]) -> HeaderInfo:
    """Locate the fields :func:`repair_header` rewrites; :class:`RecordingError` if the file
    is not a WAV, RF64 or Wave64 file with a ``fmt`` and a ``data`` chunk."""
    p = Path(path)
    with open(p, "rb") as f:
        head = f.read(_SCAN_LIMIT)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return _read_riff(p, head)
    if head[:16] == _W64_RIFF and head[24:40] == _W64_WAVE:
        return _read_w64(p, head)
    raise RecordingError(f"{p} is not a WAV, RF64 or Wave64 file (its header is missing or broken)")


def _read_riff(p: Path, head: bytes) -> HeaderInfo:
    container = "rf64" if head[:4] == b"RF64" else "wav"
    pos = 12
    block_align = ds64 = fact = None
    while pos + 8 <= len(head):
        cid = head[pos : pos + 4]
        (size,) = struct.unpack_from("<I", head, pos + 4)
        if cid == b"data":
            if block_align is None:
                break
            return HeaderInfo(container, block_align, pos + 8, pos + 4, ds64, fact)
        if cid == b"fmt " and pos + 8 + 14 <= len(head):
            (block_align,) = struct.unpack_from("<H", head, pos + 8 + 12)
        elif cid == b"ds64":
            ds64 = pos + 8
        elif cid == b"fact":
            fact = pos + 8
        pos += 8 + size + (size & 1)
    raise RecordingError(f"{p}: no fmt and data chunk found in its header; cannot repair it")


def _read_w64(p: Path, head: bytes) -> HeaderInfo:
    pos = 40
    block_align = None
    while pos + 24 <= len(head):
        guid = head[pos : pos + 16]
        (size,) = struct.unpack_from("<Q", head, pos + 16)
        if guid == _W64_DATA:
            if block_align is None:
                break
            return HeaderInfo("w64", block_align, pos + 24, pos + 16)
        if guid == _W64_FMT and pos + 24 + 14 <= len(head):
            (block_align,) = struct.unpack_from("<H", head, pos + 24 + 12)
        if size < 24:
            break
        pos += size + (-size % 8)
    raise RecordingError(f"{p}: no fmt and data chunk found in its Wave64 header; cannot repair it")


def repair_header(path: str | os.PathLike[str]) -> bool:
    """Rewrite the RIFF/RF64/W64 and data sizes (and WAV ``fact``, RF64 ``ds64``) so they match
    the audio actually in the file; a trailing partial frame is cut off. Returns whether
    anything changed. A plain WAV's sizes are 32-bit: data past 4 GiB cannot be described and
    is cut at the last whole frame below the limit (keep recordings split, the default)."""
    p = Path(path)
    info = read_header(p)
    length = p.stat().st_size
    align = max(1, info.block_align)
    data = max(0, length - info.data_offset)
    data -= data % align
    if info.container == "wav":
        limit = 0xFFFFFFFF - info.data_offset
        if data > limit:
            data = limit - limit % align
    end = info.data_offset + data
    changed = end != length
    with open(p, "r+b") as f:
        if changed:
            f.truncate(end)

        def put(offset: int, fmt: str, value: int) -> None:
            nonlocal changed
            f.seek(offset)
            old = f.read(struct.calcsize(fmt))
            new = struct.pack(fmt, value)
            if old != new:
                f.seek(offset)
                f.write(new)
                changed = True

        if info.container == "wav":
            put(4, "<I", end - 8)
            put(info.data_size_field, "<I", data)
            if info.fact_offset is not None:
                put(info.fact_offset, "<I", data // align)
        elif info.container == "rf64":
            if info.ds64_offset is None:
                raise RecordingError(f"{p}: RF64 file without a ds64 chunk; cannot repair it")
            put(4, "<I", 0xFFFFFFFF)
            put(info.ds64_offset, "<Q", end - 8)
            put(info.ds64_offset + 8, "<Q", data)
            put(info.ds64_offset + 16, "<Q", data // align)
            put(info.data_size_field, "<I", 0xFFFFFFFF)
        else:
            put(16, "<Q", end)
            put(info.data_size_field, "<Q", data + 24)
        if changed:
            f.flush()
            os.fsync(f.fileno())
    return changed
