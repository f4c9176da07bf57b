"""Sweep a parameter of a running distill-live over OSC, then print its status.

    distill-live play &                       # listens for OSC on 127.0.0.1:9000
    python examples/osc_sweep.py --param temperature --start 0.6 --stop 1.4 --seconds 8

Replies come back to this script's own socket (distill_live answers the sender when no
--osc-reply-port is set). Exit status 1 if distill-live did not answer.
"""

from __future__ import annotations

import argparse
import math
import socket
import sys
import time

from distill_live.control.oscwire import OscDecodeError, decode_packet, encode_message
from distill_live.params import PARAMS


def status(
    sock: socket.socket, target: tuple[str, int], timeout: float = 2.0
) -> dict[str, object] | None:
    """Ask /distill/status and return the reply as a dict (None if no answer)."""
    sock.sendto(encode_message("/distill/status"), target)
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        try:
            messages = decode_packet(data)
        except OscDecodeError:
            continue
        for m in messages:
            if m.address == "/distill/status.reply":
                return {str(k): v for k, v in zip(m.args[::2], m.args[1::2], strict=True)}
            if m.address == "/distill/fail":
                print(f"distill-live: fail {m.args}", file=sys.stderr)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--param", default="temperature", choices=list(PARAMS))
    ap.add_argument("--start", type=float, default=None, help="default: the parameter's minimum")
    ap.add_argument("--stop", type=float, default=None, help="default: the parameter's maximum")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rate", type=float, default=30.0, help="messages per second")
    ap.add_argument("--shape", choices=["ramp", "sine"], default="ramp")
    args = ap.parse_args(argv)
    p = PARAMS[args.param]
    lo = p.minimum if args.start is None else args.start
    hi = p.maximum if args.stop is None else args.stop
    target = (args.host, args.port)
    n = max(1, int(args.seconds * args.rate))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0" if args.host not in ("127.0.0.1", "localhost") else "127.0.0.1", 0))
        if status(sock, target) is None:
            print(
                f"osc_sweep: no answer from distill-live at {args.host}:{args.port}",
                file=sys.stderr,
            )
            return 1
        t0 = time.monotonic()
        value: float = lo
        for i in range(n + 1):
            x = i / n
            if args.shape == "sine":
                x = 0.5 - 0.5 * math.cos(2 * math.pi * x)
            value = lo + (hi - lo) * x
            sock.sendto(encode_message(p.osc_address, p.type(value)), target)
            time.sleep(max(0.0, t0 + (i + 1) / args.rate - time.monotonic()))
        time.sleep(0.2)
        st = status(sock, target)
    if st is None:
        print("osc_sweep: distill-live stopped answering", file=sys.stderr)
        return 1
    print(f"sent {n + 1} values of {args.param} from {lo:g} to {hi:g}; now {st[args.param]}")
    print("status: " + ", ".join(f"{k}={v}" for k, v in st.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
