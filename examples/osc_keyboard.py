"""Play a running distill-live from a keyboard over OSC: a melody of held notes.

    distill-live play &                  # listens for OSC on 127.0.0.1:9000
    python examples/osc_keyboard.py --notes 57 60 64 62 --hold 0.5 --transpose 0 --glide 60

Each note is pressed (``/distill/note NOTE VELOCITY``), held for ``--hold`` seconds and
released (velocity 0) as the next one is pressed, legato, so ``glide`` slides between them.
``--gate`` sets ``keys`` to gate first (silence between notes, as a synth). Replies come back
to this script's own socket; exit status 1 if distill-live did not answer or refused a note.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from distill_live.control.oscwire import OscDecodeError, decode_packet, encode_message

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from osc_sweep import status  # noqa: E402  (the status query of the sibling example)


def refused(sock: socket.socket) -> list[str]:
    """``/distill/fail`` replies waiting on the socket (the reasons), without blocking."""
    sock.setblocking(False)
    out = []
    try:
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                break
            try:
                messages = decode_packet(data)
            except OscDecodeError:
                continue
            out += [str(m.args[-1]) for m in messages if m.address == "/distill/fail"]
    finally:
        sock.setblocking(True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--notes", type=int, nargs="+", default=[57, 60, 64, 62])
    ap.add_argument("--velocity", type=int, default=100)
    ap.add_argument("--hold", type=float, default=0.5, help="seconds per note")
    ap.add_argument("--transpose", type=int, default=None)
    ap.add_argument("--glide", type=float, default=None, help="ms")
    ap.add_argument("--gate", action="store_true", help="keys = gate (silent between notes)")
    args = ap.parse_args(argv)
    target = (args.host, args.port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1" if args.host in ("127.0.0.1", "localhost") else "0.0.0.0", 0))
        if status(sock, target) is None:
            print(
                f"osc_keyboard: no answer from distill-live at {args.host}:{args.port}",
                file=sys.stderr,
            )
            return 1
        if args.transpose is not None:
            sock.sendto(encode_message("/distill/transpose", args.transpose), target)
        if args.glide is not None:
            sock.sendto(encode_message("/distill/glide", float(args.glide)), target)
        if args.gate:
            sock.sendto(encode_message("/distill/keys", "gate"), target)
        last = None
        for note in args.notes:
            sock.sendto(encode_message("/distill/note", note, args.velocity), target)
            if last is not None and last != note:
                sock.sendto(encode_message("/distill/note", last, 0), target)
            last = note
            time.sleep(args.hold)
        if last is not None:
            sock.sendto(encode_message("/distill/note", last, 0), target)
        time.sleep(0.2)
        fails = refused(sock)
        st = status(sock, target)
    if fails:
        print("osc_keyboard: refused: " + "; ".join(fails), file=sys.stderr)
        return 1
    if st is None:
        print("osc_keyboard: distill-live stopped answering", file=sys.stderr)
        return 1
    print(f"played {len(args.notes)} notes: {' '.join(map(str, args.notes))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
