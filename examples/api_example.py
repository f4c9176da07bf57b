"""Play a model from Python: start the engine, sweep a parameter, record, read the stats.

    .venv/bin/python examples/api_example.py [--model PATH] [--seconds 4] [--record take.wav]

Needs an audio output (a JACK server, or any device PortAudio sees). The test suite runs
this file against a JACK dummy server with a tiny untrained model.
"""

from __future__ import annotations

import argparse
import sys
import time

from distill_live import DistillLiveError, ParamValues
from distill_live.engine import AppliedChange, Engine


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--model", default="default", help="model file, or 'default'")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--record", default=None, help="also record to this WAV file")
    args = ap.parse_args(argv)

    def heard(change: AppliedChange) -> None:  # called from the generator thread
        print(f"  {change.param} = {change.value} from output frame {change.frame}")

    try:
        with Engine(args.model, params=ParamValues(temperature=0.9, seed=7)) as eng:
            eng.add_listener(heard)
            print(f"playing at {eng.samplerate} Hz, first sound after {eng.first_sound_s:.2f} s")
            if args.record:
                print(f"recording to {eng.record_start(args.record)}")
            steps = 8
            for i in range(steps):
                eng.set("temperature", round(0.7 + 0.6 * i / (steps - 1), 3))  # at a boundary
                time.sleep(args.seconds / steps)
            if args.record:
                eng.record_stop()
            st = eng.stats()
    except DistillLiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"played {st['frames_played'] / st['samplerate']:.1f} s: {st['empty_callbacks']} empty "
        f"callbacks, {st['underflows']} underflows, generator RTF {st['rtf']:.2f}, "
        f"level {st['level_db']:.1f} dBFS"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
