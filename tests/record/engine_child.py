"""A real engine process that plays into JACK and records until it is killed.

    python tests/record/engine_child.py FOLDER [SECONDS_BETWEEN_CHANGES]

Uses the JACK server named by JACK_DEFAULT_SERVER (the test's). Prints ``recording PATH``
once the recording has started, then changes the temperature now and then.
"""

from __future__ import annotations

import sys
import time

from distill_live.engine import Engine
from distill_live.model import build_model
from distill_live.params import ParamValues


def main(argv: list[str]) -> int:
    folder = argv[0]
    every = float(argv[1]) if len(argv) > 1 else 0.5
    model = build_model(tiny=True)
    with Engine(model, params=ParamValues(seed=4), stereo="mono", samplerate=48000) as eng:
        path = eng.record_start(folder)
        print(f"recording {path}", flush=True)
        values = [0.7, 1.1, 0.9, 1.3]
        i = 0
        while True:
            time.sleep(every)
            eng.set("temperature", values[i % len(values)], source="api")
            i += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
