"""A strict decoder for OSC 1.0 packets, and an encoder for replies.

python-osc's parser is lenient in ways a live instrument should not be: it zero-pads a
truncated float, sorts bundle contents by timetag, and drops malformed packets silently. This
decoder rejects anything malformed with a reason (so the server can count it and answer
``/distill/fail``), keeps the order of messages inside bundles and ignores timetags (clock skew
must never delay control). Tests check both against python-osc's builder and liblo.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["OscDecodeError", "OscMessage", "decode_packet", "encode_message"]

#: Nested bundles deeper than this are rejected (guards recursion on hostile input).
MAX_BUNDLE_DEPTH = 8

_BUNDLE_TAG = b"#bundle\x00"


class OscDecodeError(ValueError):
    """A datagram is not a well-formed OSC packet; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class OscMessage:
    """One decoded OSC message: its address, type tags (without the comma) and arguments."""

    address: str
    typetags: str
    args: tuple[object, ...]


def _padded(n: int) -> int:
    return (n + 4) & ~3  # length of an OSC string of n bytes: NUL + pad to 4


def _read_string(data: bytes, pos: int, what: str) -> tuple[str, int]:
    end = data.find(b"\x00", pos)
    if end < 0:
        raise OscDecodeError(f"{what} at byte {pos} has no NUL terminator")
    nxt = pos + _padded(end - pos)
    if nxt > len(data):
        raise OscDecodeError(f"{what} at byte {pos} is truncated (padding missing)")
    try:
        return data[pos:end].decode("utf-8"), nxt
    except UnicodeDecodeError:
        raise OscDecodeError(f"{what} at byte {pos} is not valid UTF-8") from None


def _need(data: bytes, pos: int, n: int, tag: str) -> None:
    if pos + n > len(data):
        raise OscDecodeError(
            f"argument of type {tag!r} at byte {pos} is truncated "
            f"(needs {n} bytes, {len(data) - pos} left)"
        )


def _decode_message(data: bytes) -> OscMessage:
    if len(data) % 4:
        raise OscDecodeError(f"message length {len(data)} is not a multiple of 4")
    address, pos = _read_string(data, 0, "address")
    if not address.startswith("/"):
        raise OscDecodeError(f"address {address[:40]!r} does not start with '/'")
    if pos == len(data):  # no type tag string (OSC 1.0 tolerates this): no arguments
        return OscMessage(address, "", ())
    tags, pos = _read_string(data, pos, "type tag string")
    if not tags.startswith(","):
        raise OscDecodeError(f"type tag string {tags[:40]!r} does not start with ','")
    tags = tags[1:]
    args: list[object] = []
    for tag in tags:
        if tag == "i":
            _need(data, pos, 4, tag)
            args.append(struct.unpack_from(">i", data, pos)[0])
            pos += 4
        elif tag == "f":
            _need(data, pos, 4, tag)
            args.append(struct.unpack_from(">f", data, pos)[0])
            pos += 4
        elif tag == "h":
            _need(data, pos, 8, tag)
            args.append(struct.unpack_from(">q", data, pos)[0])
            pos += 8
        elif tag == "d":
            _need(data, pos, 8, tag)
            args.append(struct.unpack_from(">d", data, pos)[0])
            pos += 8
        elif tag in "sS":
            s, pos = _read_string(data, pos, f"string argument {len(args) + 1}")
            args.append(s)
        elif tag == "b":
            _need(data, pos, 4, tag)
            size = struct.unpack_from(">i", data, pos)[0]
            if size < 0:
                raise OscDecodeError(f"blob at byte {pos} has negative size {size}")
            pos += 4
            _need(data, pos, (size + 3) & ~3, tag)
            args.append(bytes(data[pos : pos + size]))
            pos += (size + 3) & ~3
        elif tag in "cmr":
            _need(data, pos, 4, tag)
            args.append(bytes(data[pos : pos + 4]))
            pos += 4
        elif tag == "t":
            _need(data, pos, 8, tag)
            args.append(struct.unpack_from(">Q", data, pos)[0])
            pos += 8
        elif tag == "T":
            args.append(True)
        elif tag == "F":
            args.append(False)
        elif tag in "NI":
            args.append(None)
        elif tag in "[]":
            raise OscDecodeError("OSC arrays are not supported by distill_live")
        else:
            raise OscDecodeError(f"unknown type tag {tag!r}")
    if pos != len(data):
        raise OscDecodeError(f"{len(data) - pos} bytes left over after the arguments")
    return OscMessage(address, tags, tuple(args))


def _decode(data: bytes, depth: int, out: list[OscMessage]) -> None:
    if data.startswith(_BUNDLE_TAG):
        if depth >= MAX_BUNDLE_DEPTH:
            raise OscDecodeError(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
        if len(data) < 16:
            raise OscDecodeError("bundle is truncated (no timetag)")
        pos = 16  # "#bundle\0" + 8-byte timetag, which is ignored on purpose
        while pos < len(data):
            if pos + 4 > len(data):
                raise OscDecodeError(f"bundle element size at byte {pos} is truncated")
            size = struct.unpack_from(">i", data, pos)[0]
            pos += 4
            if size <= 0 or size % 4 or pos + size > len(data):
                raise OscDecodeError(
                    f"bundle element at byte {pos} has bad size {size} "
                    f"({len(data) - pos} bytes left)"
                )
            _decode(data[pos : pos + size], depth + 1, out)
            pos += size
    elif data[:1] == b"/":
        out.append(_decode_message(data))
    elif not data:
        raise OscDecodeError("empty datagram")
    else:
        raise OscDecodeError(f"not an OSC message or bundle (starts with {bytes(data[:8])!r})")


def decode_packet(data: bytes) -> list[OscMessage]:
    """The messages of one datagram, in order, bundles flattened and timetags ignored.

    Raises :class:`OscDecodeError` if any part is malformed (then nothing of it is used).
    """
    out: list[OscMessage] = []
    _decode(bytes(data), 0, out)
    return out


def _string(s: str) -> bytes:
    b = s.encode("utf-8")
    return b + b"\x00" * (4 - len(b) % 4)


def encode_message(address: str, *args: object) -> bytes:
    """An OSC message as bytes: ints as ``i`` (``h`` beyond 32 bits), floats as ``f``, str as
    ``s``, bools as T/F, None as N. (Hand-made: replies are sent in floods, and python-osc's
    builder costs several times more.)"""
    tags = [","]
    body = []
    for a in args:
        if isinstance(a, bool):
            tags.append("T" if a else "F")
        elif isinstance(a, int):
            if -(2**31) <= a < 2**31:
                tags.append("i")
                body.append(struct.pack(">i", a))
            else:
                tags.append("h")
                body.append(struct.pack(">q", a))
        elif isinstance(a, float):
            tags.append("f")
            body.append(struct.pack(">f", a))
        elif a is None:
            tags.append("N")
        else:
            tags.append("s")
            body.append(_string(str(a)))
    return _string(address) + _string("".join(tags)) + b"".join(body)
