"""The audio process: a sounddevice output stream whose callback only copies from the ring.

It runs as its own interpreter (``python -m distill_live.engine.audio``), importing numpy and
sounddevice and nothing heavy (no torch), so that the generator's Python code never holds
the GIL the callback needs, and so that it can be killed and started again when the audio
server goes away (a stream whose JACK server died hangs in ``stop()``/``close()`` forever).

Protocol: the engine starts the process with the ring's name and the stream settings as
JSON in ``argv[1]``. The process opens the stream and prints one JSON line on stdout:
``{"ok": true, "samplerate": ..., "device": ..., "latency": ...}`` or
``{"ok": false, "error": "...", "devices": [...]}``, then runs until the ring's STOP slot is
set or its parent goes away.

The callback copies one block from the ring, or writes silence and counts the block as an
empty callback; PortAudio's underflow flag is counted separately. It allocates no arrays,
takes no locks, logs nothing and touches no files.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import numpy as np

from .ring import H, Ring

__all__ = ["audio_main", "describe_devices", "make_callback"]


def make_callback(ring: Ring) -> Any:
    """The stream callback over ``ring`` (also used by tests without a device)."""
    hdr = ring.header
    data = ring.data
    cap = ring.capacity
    mono_ns = time.monotonic_ns

    def callback(outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        now = mono_ns()
        last = hdr[H.LAST_CB_NS]
        if hdr[H.GAP_RESET]:
            hdr[H.GAP_RESET] = 0
            hdr[H.MAX_GAP_NS] = 0
            hdr[H.MAX_CB_NS] = 0
        elif last and now - last > hdr[H.MAX_GAP_NS]:
            hdr[H.MAX_GAP_NS] = now - last
        hdr[H.LAST_CB_NS] = now
        hdr[H.CALLBACKS] += 1
        if status.output_underflow:
            hdr[H.UNDERFLOW if hdr[H.PRIMED] else H.PREROLL_UNDERFLOW] += 1
        r = hdr[H.READ]
        if hdr[H.WRITE] - r >= frames:
            i = r % cap
            if i + frames <= cap:
                outdata[:] = data[i : i + frames]
            else:
                n = cap - i
                outdata[:n] = data[i:]
                outdata[n:] = data[: frames - n]
            hdr[H.READ] = r + frames
        else:
            outdata.fill(0.0)
            if hdr[H.PRIMED]:
                hdr[H.EMPTY] += 1
        took = mono_ns() - now
        if took > hdr[H.MAX_CB_NS]:
            hdr[H.MAX_CB_NS] = took

    return callback


def describe_devices(sd: Any) -> list[str]:
    """One line per output device: ``index: name (host API, channels, rate)``."""
    out = []
    try:
        apis = sd.query_hostapis()
        for i, d in enumerate(sd.query_devices()):
            if d["max_output_channels"] > 0:
                api = apis[d["hostapi"]]["name"]
                out.append(
                    f"{i}: {d['name']} ({api}, {d['max_output_channels']} ch, "
                    f"{d['default_samplerate']:g} Hz)"
                )
    except Exception as exc:  # PortAudio could not even enumerate
        out.append(f"(device query failed: {exc})")
    return out


def raise_priority() -> str:
    """Best effort: realtime (SCHED_FIFO) scheduling for this process and the audio threads
    it starts (they inherit it), else a lower nice value. Returns what was obtained."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(40))  # type: ignore[attr-defined]
        return "SCHED_FIFO 40"
    except (AttributeError, OSError):
        pass
    try:
        os.nice(-10)
        return "nice -10"
    except OSError:
        return "normal"


def raise_thread_priorities() -> None:
    """Give every thread of this process (PortAudio's and libjack's audio threads, started
    with their own scheduling attributes) the realtime policy too, where allowed. A thread
    that already runs realtime at a higher priority keeps it: libjack gives a client's
    process thread the priority of a realtime server less 5."""
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
        for tid in tids:
            try:
                if (
                    os.sched_getscheduler(tid) in (os.SCHED_FIFO, os.SCHED_RR)  # type: ignore[attr-defined]
                    and os.sched_getparam(tid).sched_priority >= 40  # type: ignore[attr-defined]
                ):
                    continue
            except OSError:
                continue  # the thread has gone
            os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(40))  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        pass


def _reply(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def audio_main(config: dict[str, Any]) -> int:
    """Open the stream described by ``config`` on the ring it names and play until told to
    stop. Returns the exit status."""
    import signal

    import sounddevice as sd

    # Ctrl-C in a terminal reaches the whole process group: the engine decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    priority = raise_priority() if config.get("realtime", True) else "normal"
    ring = Ring.attach(config["ring"])
    parent = os.getppid()
    device = config.get("device")
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    try:
        info = sd.query_devices(device, "output")
        if info["max_output_channels"] < 1:
            raise ValueError(f"device {info['name']!r} has no outputs")
        rate = config.get("samplerate") or info["default_samplerate"]
        stream = sd.OutputStream(
            device=device,
            samplerate=float(rate),
            blocksize=int(config.get("blocksize") or 0),
            channels=ring.channels,
            dtype="float32",
            latency=config.get("latency", "low"),
            callback=make_callback(ring),
        )
    except Exception as exc:
        _reply({"ok": False, "error": str(exc), "devices": describe_devices(sd)})
        return 3
    ring.header[H.SAMPLERATE] = int(round(stream.samplerate))
    ring.header[H.PROCESS_STARTS] += 1
    stream.start()
    if priority.startswith("SCHED_FIFO"):
        raise_thread_priorities()
    _reply(
        {
            "ok": True,
            "samplerate": stream.samplerate,
            "device": info["name"],
            "index": info.get("index"),
            "latency": stream.latency,
            "blocksize": stream.blocksize,
            "priority": priority,
        }
    )
    try:
        while not ring.header[H.STOP] and os.getppid() == parent:
            time.sleep(0.02)
            if not stream.active:
                return 4
    except KeyboardInterrupt:  # the engine handles Ctrl-C; just leave quietly
        pass
    stream.stop()
    stream.close()
    return 0


if __name__ == "__main__":
    sys.exit(audio_main(json.loads(sys.argv[1])))
