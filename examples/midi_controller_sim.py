"""Pretend to be a MIDI controller: a virtual JACK MIDI port that moves knobs.

    python examples/midi_controller_sim.py --wait 3 &       # creates the port distill-sim
    distill-live play --midi-in distill-sim --midi-backend rtmidi/UNIX_JACK

It sweeps the default mapping's temperature knob (CC 20, 7-bit) and the gain fader as a
14-bit control (CC 23 MSB + CC 55 LSB) up and down, ending at --end (0..1 of their travel),
then presses record start (CC 80) and stop (CC 81) if --record is given.
"""

from __future__ import annotations

import argparse
import sys
import time

import mido

from distill_live.control.mapping import DEFAULT_BUTTONS
from distill_live.params import PARAMS


def sweep(start: float, stop: float, steps: int) -> list[float]:
    return [start + (stop - start) * i / steps for i in range(steps + 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", default="distill-sim", help="name of the virtual port")
    ap.add_argument("--backend", default="mido.backends.rtmidi/UNIX_JACK")
    ap.add_argument("--wait", type=float, default=2.0, help="seconds before moving (to connect)")
    ap.add_argument("--seconds", type=float, default=2.0, help="time for the sweeps")
    ap.add_argument("--end", type=float, default=0.25, help="final knob positions (0..1)")
    ap.add_argument("--channel", type=int, default=1, help="MIDI channel 1..16")
    ap.add_argument("--record", action="store_true", help="press record start, then stop")
    args = ap.parse_args(argv)
    if not 0 <= args.end <= 1 or not 1 <= args.channel <= 16:
        print("midi_controller_sim: --end must be in 0..1 and --channel in 1..16", file=sys.stderr)
        return 2
    try:
        backend = mido.Backend(args.backend, load=True)
        port = backend.open_output(args.name, virtual=True, client_name=args.name)
    except Exception as e:  # no JACK server, no rtmidi
        print(f"midi_controller_sim: cannot open a virtual MIDI port: {e}", file=sys.stderr)
        return 1
    ch = args.channel - 1
    temp_cc = PARAMS["temperature"].midi_cc
    gain_cc = PARAMS["gain"].midi_cc
    assert temp_cc is not None and gain_cc is not None
    sent = 0
    try:
        print(f"virtual MIDI port {args.name!r} ready", flush=True)
        time.sleep(args.wait)
        path = sweep(0.0, 1.0, 64) + sweep(1.0, args.end, 64)[1:]
        dt = args.seconds / len(path)
        for x in path:
            port.send(
                mido.Message("control_change", channel=ch, control=temp_cc, value=round(x * 127))
            )
            v14 = round(x * 16383)
            port.send(mido.Message("control_change", channel=ch, control=gain_cc, value=v14 >> 7))
            port.send(
                mido.Message("control_change", channel=ch, control=gain_cc + 32, value=v14 & 0x7F)
            )
            sent += 3
            time.sleep(dt)
        if args.record:
            for button in DEFAULT_BUTTONS:
                port.send(mido.Message("control_change", channel=ch, control=button.cc, value=127))
                port.send(mido.Message("control_change", channel=ch, control=button.cc, value=0))
                sent += 2
                time.sleep(1.0)
        time.sleep(0.5)
    finally:
        port.close()
    print(f"sent {sent} control changes; knobs end at {args.end:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
