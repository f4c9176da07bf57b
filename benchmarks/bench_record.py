"""Recording benchmark: what recording costs the music.

    .venv/bin/python benchmarks/bench_record.py writer [--seconds 30]
    .venv/bin/python benchmarks/bench_record.py engine [--minutes 10] [--baseline]
    .venv/bin/python benchmarks/bench_record.py alternate [--minutes 10] [--segment 60]

``writer``: the Recorder on its own. A thread feeds realtime-paced 256-frame blocks (48 kHz
stereo, like the generator) while the writer thread writes PCM_24 to disk; prints how long
``write()`` took (the time the generator thread loses per block: median, p99, max), the blocks
dropped, and the offline throughput of each subtype (blocking mode, as ``render`` uses it).

``alternate``: one engine session whose segments alternate without / with recording
(``--minutes`` per state, ``--segment`` seconds each), so load from other processes falls on
both alike; prints underruns per segment and per state.

``engine``: the real Engine (``--model``: the shipped default model unless told otherwise) playing into a JACK dummy server (started
here) with recording on for ``--minutes``; prints underruns during the take, frames recorded
against frames played, dropped blocks. ``--baseline`` first plays the same time without
recording, so the difference is what recording adds.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from distill_live.record import Recorder, read_sidecar, session_metadata, sidecar_path


class _GilProbe:
    """A thread that sleeps 1 ms at a time and records how late it wakes: what another
    Python thread in the process (the generator) would lose to the recorder's GIL use."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.perf_counter()
            time.sleep(0.001)
            self.late.append(time.perf_counter() - t - 0.001)

    def __enter__(self) -> _GilProbe:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()

    def summary(self) -> str:
        ms = sorted(x * 1000 for x in self.late)
        return f"p50 {ms[len(ms) // 2]:.3f} ms, p99 {ms[int(len(ms) * 0.99)]:.3f} ms, max {ms[-1]:.2f} ms"


def _feed(
    rec: Recorder | None, seconds: float, rate: int, block: int, channels: int
) -> list[float]:
    audio = np.random.default_rng(0).uniform(-0.5, 0.5, (block * 64, channels)).astype(np.float32)
    times: list[float] = []
    sent = 0
    t0 = time.monotonic()
    for i in range(int(seconds * rate / block)):
        j = (i % 64) * block
        t = time.perf_counter()
        if rec is not None:
            rec.write(audio[j : j + block])
        times.append(time.perf_counter() - t)
        sent += block
        ahead = sent / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    return times


def bench_writer(seconds: float, folder: Path) -> None:
    rate, block, channels = 48000, 256, 2
    with _GilProbe() as idle_probe:
        _feed(None, seconds, rate, block, channels)
    rec = Recorder(
        folder / "writer.wav",
        samplerate=rate,
        channels=channels,
        subtype="PCM_24",
        metadata=session_metadata(seed=0),
    )
    rec.start()
    with _GilProbe() as probe:
        times = _feed(rec, seconds, rate, block, channels)
    doc = rec.stop()
    sent = len(times) * block
    us = sorted(x * 1e6 for x in times)
    print(
        f"writer: {seconds:g} s realtime-paced, {len(us)} blocks of {block} frames, PCM_24 48 kHz stereo"
    )
    print(
        f"  write() per block: median {statistics.median(us):.1f} us, "
        f"p99 {us[int(len(us) * 0.99)]:.1f} us, max {us[-1]:.1f} us"
    )
    print(
        f"  frames written {doc['frames_written']} of {sent}; dropped blocks {doc['dropped_blocks']}; "
        f"status {doc['status']}"
    )
    print(f"  1 ms sleeper lateness without recorder: {idle_probe.summary()}")
    print(f"  1 ms sleeper lateness with recorder:    {probe.summary()}")
    for subtype in ("PCM_16", "PCM_24", "FLOAT"):
        for rate_ in (48000, 96000):
            path = folder / f"offline_{subtype}_{rate_}.wav"
            total = rate_ * 60
            big = np.random.default_rng(1).uniform(-0.5, 0.5, (rate_, channels)).astype(np.float32)
            t = time.perf_counter()
            with Recorder(
                path, samplerate=rate_, channels=channels, subtype=subtype, blocking=True
            ) as r:
                for _ in range(total // rate_):
                    r.write(big)
            dt = time.perf_counter() - t
            print(
                f"  offline {subtype} {rate_ // 1000} kHz: 60 s of audio in {dt:.2f} s "
                f"({60 / dt:.0f}x realtime, {path.stat().st_size / dt / 1e6:.0f} MB/s)"
            )
            path.unlink()


def _engine_run(
    model: Any, minutes: float, record_to: Path | None, Engine: Any, ParamValues: Any
) -> dict[str, Any]:
    with Engine(model, params=ParamValues(seed=1), stereo="mono", samplerate=48000) as eng:
        time.sleep(3.0)  # settle: model warm, ring full
        before = eng.stats()
        rec_path = eng.record_start(record_to) if record_to is not None else None
        t0 = time.monotonic()
        stop = threading.Event()
        changes = 0

        def twiddle() -> None:  # a control change every 2 s, like a performer
            nonlocal changes
            temps = [0.8, 1.0, 1.2]
            while not stop.wait(2.0):
                eng.set("temperature", temps[changes % 3], source="api")
                changes += 1

        th = threading.Thread(target=twiddle, daemon=True)
        th.start()
        deadline = t0 + minutes * 60
        while time.monotonic() < deadline:
            time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
            s = eng.stats()
            print(
                f"  t={time.monotonic() - t0:6.0f} s underruns {s['underruns'] - before['underruns']} "
                f"rtf {s.get('rtf') or float('nan'):.3f} audio restarts {s.get('audio_restarts')}"
                f" load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
        stop.set()
        th.join()
        after = eng.stats()
        if rec_path is not None:
            eng.record_stop()
        played = after["frames_played"] - before["frames_played"]
    out = {
        "underruns": after["underruns"] - before["underruns"],
        "empty_callbacks": after.get("empty_callbacks", 0) - before.get("empty_callbacks", 0),
        "device_underflows": after.get("underflows", 0) - before.get("underflows", 0),
        "frames_played": played,
        "changes": changes,
    }
    if rec_path is not None:
        out["sidecar"] = read_sidecar(sidecar_path(rec_path))
    return out


def _model(spec: str) -> Any:
    """``default`` (the shipped model), ``tiny`` (untrained, fast) or a model file path."""
    from distill_live.model import build_model, load_model

    return build_model(tiny=True) if spec == "tiny" else load_model(spec)


def bench_alternate(minutes: float, segment_s: float, folder: Path, model_spec: str) -> None:
    """One engine session; segments alternate without / with recording (a new file each),
    so changing machine load affects both alike."""
    from distill_live.engine import Engine
    from distill_live.jack_dummy import DummyJackServer
    from distill_live.params import ParamValues

    n = max(1, int(round(minutes * 60 / segment_s)))
    totals = {"off": 0, "on": 0}
    played = {"off": 0, "on": 0}
    per: dict[str, list[int]] = {"off": [], "on": []}
    with (
        DummyJackServer(samplerate=48000, period=256),
        Engine(_model(model_spec), params=ParamValues(seed=1), samplerate=48000) as eng,
    ):
        time.sleep(3.0)
        for i in range(2 * n):
            state = "on" if i % 2 else "off"
            s0 = eng.stats()
            if state == "on":
                eng.record_start(folder)
            time.sleep(segment_s)
            s1 = eng.stats()
            if state == "on":
                eng.record_stop()
            u = s1["underruns"] - s0["underruns"]
            totals[state] += u
            played[state] += s1["frames_played"] - s0["frames_played"]
            per[state].append(u)
            print(
                f"  segment {i + 1:2d}/{2 * n} recording {state:3s}: underruns {u:4d}  "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    for state in ("off", "on"):
        print(
            f"recording {state}: {n} x {segment_s:g} s, underruns {totals[state]} "
            f"(per segment {per[state]}), frames played {played[state]}"
        )
    docs = [read_sidecar(p) for p in sorted(folder.glob("*.wav.json"))]
    print(
        f"recordings: {len(docs)} files, status {sorted({d['status'] for d in docs})}, "
        f"dropped blocks {sum(d['dropped_blocks'] for d in docs)}, "
        f"frames {sum(d['frames_written'] for d in docs)}"
    )


def bench_engine(minutes: float, baseline: bool, folder: Path, model_spec: str) -> None:
    from distill_live.engine import Engine
    from distill_live.jack_dummy import DummyJackServer
    from distill_live.params import ParamValues

    model = _model(model_spec)
    with DummyJackServer(samplerate=48000, period=256):
        if baseline:
            print(f"baseline: {minutes:g} min without recording", flush=True)
            base = _engine_run(model, minutes, None, Engine, ParamValues)
            print(f"baseline: underruns {base['underruns']}, frames played {base['frames_played']}")
        print(f"recording: {minutes:g} min with recording on (PCM_24)", flush=True)
        res = _engine_run(model, minutes, folder, Engine, ParamValues)
        doc = res["sidecar"]
        print(
            f"recording: underruns {res['underruns']} (sidecar: {doc['underruns']}), "
            f"device underflows {res['device_underflows']}, "
            f"frames recorded {doc['frames_written']} ({doc['frames_written'] / 48000:.1f} s), "
            f"dropped blocks {doc['dropped_blocks']}, events {len(doc['events'])}, "
            f"status {doc['status']}"
        )
        if baseline:
            print(
                f"recording adds {res['underruns'] - base['underruns']} underruns over {minutes:g} min"
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="mode", required=True)
    w = sub.add_parser("writer")
    w.add_argument("--seconds", type=float, default=30.0)
    e = sub.add_parser("engine")
    e.add_argument("--minutes", type=float, default=10.0)
    e.add_argument("--baseline", action="store_true")
    alt = sub.add_parser("alternate")
    alt.add_argument("--minutes", type=float, default=10.0, help="per state (off, on)")
    alt.add_argument("--segment", type=float, default=60.0, help="seconds per segment")
    for p in (w, e, alt):
        p.add_argument(
            "--folder", type=Path, default=None, help="where to write (default: a temp dir)"
        )
        p.add_argument("--model", default="default", help="'default', 'tiny' or a model path")
    args = ap.parse_args(argv)
    # SIGTERM: leave through the context managers (stops the engine and its JACK server).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="bench_record_") as tmp:
        folder = args.folder or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        if args.mode == "writer":
            bench_writer(args.seconds, folder)
        elif args.mode == "alternate":
            os.environ.setdefault("JACK_NO_START_SERVER", "1")
            bench_alternate(args.minutes, args.segment, folder, args.model)
        else:
            os.environ.setdefault("JACK_NO_START_SERVER", "1")
            bench_engine(args.minutes, args.baseline, folder, args.model)
    return 0


if __name__ == "__main__":
    sys.exit(main())
