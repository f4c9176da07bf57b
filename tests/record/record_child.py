"""A process that records a realtime-paced test signal until it is killed (SIGKILL tests).

    python tests/record/record_child.py OUT.wav [container] [subtype]

Prints ``started <monotonic>`` once the first block was written, then ``tick <frames>``
every second. The signal is deterministic (seeded noise), so the test can compare.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from distill_live.record import Recorder, session_metadata


def main(argv: list[str]) -> int:
    path = argv[0]
    container = argv[1] if len(argv) > 1 else "wav"
    subtype = argv[2] if len(argv) > 2 else "PCM_24"
    rate, block = 48000, 256
    rec = Recorder(
        path,
        samplerate=rate,
        channels=2,
        subtype=subtype,
        container=container,
        metadata=session_metadata(seed=1, stereo="dual-seed"),
    )
    rec.start()
    rng = np.random.default_rng(1)
    sent = 0
    t0 = time.monotonic()
    next_tick = t0 + 1.0
    print(f"started {t0:.6f}", flush=True)
    while True:
        rec.write(rng.uniform(-0.5, 0.5, (block, 2)).astype(np.float32))
        sent += block
        now = time.monotonic()
        if now >= next_tick:
            print(f"tick {sent}", flush=True)
            next_tick += 1.0
        ahead = sent / rate - (now - t0)
        if ahead > 0:
            time.sleep(ahead)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
