"""OSC flood benchmark: 5,000 messages a second for 60 s into a playing engine.

    nice -n 15 .venv/bin/python benchmarks/bench_osc_flood.py [--rate 5000] [--seconds 60]
                                                              [--model tiny|default|PATH]

A sender in its own process (like TouchDesigner or Max) sends ``--rate`` messages a second,
cycling through every parameter with random in-range values, int and float alternately.
Prints: underruns added during the flood (and in an equal quiet period before it, the
machine's own noise), resident memory of the engine process sampled every 5 s (flat = no
leak), how many messages arrived and how many engine.set calls they became (coalescing),
and whether the last value sent for every parameter is the one in force afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _control_rig import rss_mib, running_engine  # noqa: E402

from distill_live.params import PARAMS, Value  # noqa: E402


def sender(port: int, rate: float, seconds: float, result: mp.Queue) -> None:  # type: ignore[type-arg]
    from distill_live.control.oscwire import encode_message

    rng = random.Random(5000)
    params = list(PARAMS.values())
    last: dict[str, float] = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    batch = max(1, int(rate / 200))  # send in 5 ms slices
    t0 = time.monotonic()
    sent = 0
    n_total = int(rate * seconds)
    while sent < n_total:
        for _ in range(min(batch, n_total - sent)):
            p = params[sent % len(params)]
            v = rng.uniform(p.minimum, p.maximum)
            if p.name == "seed":
                v = rng.randrange(0, 1000)
            value: int | float = float(f"{v:.6g}")
            if p.type is int or (sent % 2 and p.minimum <= round(v) <= p.maximum):
                value = int(round(v))  # ints where floats are expected too (Max, TD)
            sock.sendto(encode_message(p.osc_address, value), ("127.0.0.1", port))
            last[p.name] = value
            sent += 1
        delay = t0 + sent / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    result.put((sent, time.monotonic() - t0, last))


class NullEngine:
    """Stores values; nothing else (to measure the control side on its own)."""

    def __init__(self) -> None:
        from distill_live.params import ParamValues

        self._values = ParamValues().as_dict()

    def set(self, name: str, value: object, source: str = "api") -> Value:
        self._values[name] = PARAMS[name].coerce(value)[0]
        return self._values[name]

    def get(self, name: str) -> Value:
        return self._values[name]

    @property
    def params(self) -> dict[str, Value]:
        return dict(self._values)

    def stats(self) -> dict[str, object]:
        return {"underruns": 0}

    def record_start(self, path: object = None) -> Path:
        return Path("none.wav")

    def record_stop(self) -> None:
        return None

    def switch_model(self, path: object) -> None:
        return None

    def add_listener(self, fn: object) -> None:
        return None


def null_engine_flood(args: argparse.Namespace) -> int:
    from distill_live.control import control_args, start_control

    eng = NullEngine()
    handle = start_control(eng, control_args(osc_port=0, no_oscquery=True))  # type: ignore[arg-type]
    assert handle.osc is not None
    try:
        ctx = mp.get_context("spawn")
        q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
        proc = ctx.Process(target=sender, args=(handle.osc.port, args.rate, args.seconds, q))
        rss = [rss_mib()]
        proc.start()
        while proc.is_alive():
            proc.join(timeout=5.0)
            rss.append(rss_mib())
        sent, send_s, last = q.get(timeout=10)
        time.sleep(0.5)
        st = handle.osc.stats()  # type: ignore[union-attr]
        ok = all(
            abs(float(eng.get(n)) - float(v)) <= 1e-4 * max(1.0, abs(v)) for n, v in last.items()
        )
        print(f"null engine: {sent} messages in {send_s:.1f} s, received {st.get('messages', 0)}")
        print(f"control RSS: start {rss[0]:.1f} MiB, end {rss[-1]:.1f} MiB, max {max(rss):.1f} MiB")
        print(f"last value wins: {'yes' if ok else 'NO'}")
        return 0 if ok else 1
    finally:
        handle.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=5000.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument(
        "--model", default="tiny", help="tiny (untrained, built here), default, or a path"
    )
    ap.add_argument(
        "--null-engine",
        action="store_true",
        help="control alone: a null engine that only stores values (isolates control's memory)",
    )
    args = ap.parse_args(argv)
    if args.null_engine:
        return null_engine_flood(args)
    with running_engine(args.model) as (eng, handle):
        osc = handle.osc
        time.sleep(2.0)
        u0 = eng.stats()["underruns"]
        time.sleep(min(args.seconds, 20.0))
        quiet_s = min(args.seconds, 20.0)
        quiet = eng.stats()["underruns"] - u0
        ctx = mp.get_context("spawn")
        q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
        before = eng.stats()
        rss = [rss_mib()]
        audio_pid = before.get("audio_pid")
        audio_rss = [rss_mib(audio_pid)] if audio_pid else []
        proc = ctx.Process(target=sender, args=(osc.port, args.rate, args.seconds, q))
        t0 = time.monotonic()
        proc.start()
        while proc.is_alive():
            proc.join(timeout=5.0)
            rss.append(rss_mib())
            if audio_pid:
                audio_rss.append(rss_mib(audio_pid))
            st = eng.stats()
            print(
                f"  t={time.monotonic() - t0:5.1f} s  rss {rss[-1]:7.1f} MiB  underruns "
                f"{st['underruns'] - before['underruns']}  received {osc.stats().get('messages', 0)}",
                flush=True,
            )
        sent, send_s, last = q.get(timeout=10)
        time.sleep(1.0)
        after = eng.stats()
        st = osc.stats()
        coalescer = osc._coalescer
        sets = coalescer.sets if coalescer is not None else 0
        mismatch = {
            n: (v, eng.get(n))
            for n, v in last.items()
            if abs(float(eng.get(n)) - float(v)) > 1e-4 * max(1.0, abs(v))
        }
        print(
            f"flood: {sent} messages in {send_s:.1f} s ({sent / send_s:.0f}/s) from another process"
        )
        print(f"received by the OSC server: {st.get('messages', 0)} (errors {st['errors']})")
        print(f"engine.set calls: {sets} (coalesced {st.get('messages', 0) / max(sets, 1):.0f}:1)")
        print(
            f"engine: changes applied {after['changes_applied'] - before['changes_applied']}, "
            f"rollbacks {after['rollbacks'] - before['rollbacks']}, generator RTF {after['rtf']:.3f}"
        )
        print(f"underruns added during the flood: {after['underruns'] - before['underruns']}")
        print(f"underruns in {quiet_s:.0f} s of quiet before it (machine noise): {quiet}")
        print(
            f"engine process RSS: start {rss[0]:.1f} MiB, end {rss[-1]:.1f} MiB, max {max(rss):.1f} "
            f"MiB (growth {rss[-1] - rss[0]:+.1f} MiB over {args.seconds:.0f} s)"
        )
        if audio_rss:
            print(f"audio process RSS: start {audio_rss[0]:.1f} MiB, end {audio_rss[-1]:.1f} MiB")
        print(
            "last value wins: "
            + ("yes, for every parameter" if not mismatch else f"NO: {mismatch}")
        )
        return 0 if not mismatch else 1


if __name__ == "__main__":
    sys.exit(main())
