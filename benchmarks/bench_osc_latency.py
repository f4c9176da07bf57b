"""OSC latency benchmark: from a message arriving to the parameter being in force.

    nice -n 15 .venv/bin/python benchmarks/bench_osc_latency.py [--n 200] [--model tiny|PATH]

Sends ``--n`` messages (alternately a sampling parameter, temperature, and a post-processing
one, gain) with random gaps of 50-250 ms to a playing engine. For each it takes:

* arrival: when the OSC server received the datagram (monotonic clock);
* applied: when the engine's generator applied it (its AppliedChange listener ran);
* in force: when the first output frame made with the new value is played, by the engine's
  clock: the listener reads the play position (frames handed to the audio device) and the
  change's frame; in force = applied + (frame - play position) / sample rate.

Prints p50 / p95 / max of arrival→applied and arrival→in force, per parameter kind.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _control_rig import running_engine  # noqa: E402

from distill_live.control.oscwire import encode_message  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument(
        "--model", default="tiny", help="tiny (untrained, built here), default, or a path"
    )
    args = ap.parse_args(argv)
    with running_engine(args.model) as (eng, handle):
        osc = handle.osc
        rate = eng.stats()["samplerate"]
        events: dict[tuple[str, float], tuple[float, int, int]] = {}
        lock = threading.Lock()

        def on_applied(change: Any) -> None:
            t = time.monotonic()
            played = eng.ring.read_pos  # the engine's clock: frames handed to the device
            with lock:
                events[(change.param, round(float(change.value), 4))] = (
                    t,
                    int(change.frame),
                    int(played),
                )

        eng.add_listener(on_applied)
        time.sleep(2.0)
        rng = random.Random(7)
        results: dict[str, tuple[list[float], list[float]]] = {
            "temperature": ([], []),
            "gain": ([], []),
        }
        missing = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(args.n):
                name = "temperature" if i % 2 == 0 else "gain"
                value = (
                    round(rng.uniform(0.5, 1.5), 4)
                    if name == "temperature"
                    else round(rng.uniform(-20, 0), 4)
                )
                s.sendto(encode_message(f"/distill/{name}", value), ("127.0.0.1", osc.port))
                deadline = time.monotonic() + 2.0
                key = (name, round(float(value), 4))
                while time.monotonic() < deadline:
                    with lock:
                        ev = events.get(key)
                    if ev is not None and name in osc.last_set:
                        break
                    time.sleep(0.001)
                else:
                    missing += 1
                    continue
                _, arrival = osc.last_set[name]
                t_applied, frame, played = ev
                applied_ms = 1000 * (t_applied - arrival)
                in_force_ms = applied_ms + 1000 * max(frame - played, 0) / rate
                results[name][0].append(applied_ms)
                results[name][1].append(in_force_ms)
                time.sleep(rng.uniform(0.05, 0.25))
        st = eng.stats()
        print(
            f"{args.n} messages, {missing} not seen; model {args.model}; engine safety margin "
            f"{st['safety_ms']:.1f} ms, look-ahead {st['lookahead_ms']:.0f} ms, underruns {st['underruns']}"
        )
        for name, kind in (
            ("temperature", "sampling (regenerates codes)"),
            ("gain", "post-processing"),
        ):
            applied, in_force = results[name]
            if not applied:
                continue
            print(
                f"{name:12s} {kind:29s} arrival→applied p50 {statistics.median(applied):6.1f} ms "
                f"p95 {pct(applied, 0.95):6.1f} ms | arrival→in force p50 "
                f"{statistics.median(in_force):6.1f} ms p95 {pct(in_force, 0.95):6.1f} ms "
                f"max {max(in_force):6.1f} ms"
            )
        return 0 if missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
