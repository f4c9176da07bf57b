"""``distill-live play``: play a model live on an audio output, controlled by OSC, MIDI and keys.

:func:`run` starts the :class:`~distill_live.engine.Engine`, then ``--record`` (if given),
then live control (:func:`~distill_live.control.start_control`), and runs the terminal UI
(:mod:`.ui`) until the performer quits, ``--duration`` ends or SIGTERM arrives; then it
finishes the recording, closes control and stops the engine, in that order.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from ..engine.defaults import DEFAULT_LOOKAHEAD_MS
from ..errors import DeviceError, RecordingError
from .keys import KEYS_HELP
from .options import (
    add_control_arguments,
    add_model_arguments,
    add_record_arguments,
    control_options,
    fatal,
    param_values_from_args,
    positive_float,
    recorder_options,
)
from .ui import play_loop

__all__ = ["HELP", "add_arguments", "run", "stop_signals"]

HELP = "play a model live (default model unless --model), controlled by OSC and MIDI"


def _device(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live play``; the terminal UI's keys are the epilog."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = KEYS_HELP
    add_model_arguments(parser)
    g = parser.add_argument_group("audio output")
    g.add_argument(
        "--device",
        type=_device,
        default=None,
        metavar="NAME|INDEX",
        help="output device: index or part of its name (see `distill-live devices`)",
    )
    g.add_argument(
        "--samplerate",
        type=int,
        default=None,
        metavar="HZ",
        help="device sample rate (default: the device's; the 48 kHz model is resampled)",
    )
    g.add_argument(
        "--blocksize",
        type=int,
        default=0,
        metavar="N",
        help="frames per callback (default 0: the device's own period; JACK ignores it)",
    )
    g.add_argument("--channels", type=int, default=2, metavar="N", help="output channels")
    g.add_argument(
        "--lookahead",
        type=positive_float,
        default=DEFAULT_LOOKAHEAD_MS,
        metavar="MS",
        help=f"audio kept generated ahead (default {DEFAULT_LOOKAHEAD_MS:g} ms); a change "
        "drops what is not yet played beyond a safety margin, so it is heard quickly anyway",
    )
    parser.add_argument(
        "--duration", type=positive_float, default=None, metavar="S", help="stop after S s"
    )
    parser.add_argument(
        "--no-ui",
        action="store_true",
        help="no live status line and no keys (for scripts and logs)",
    )
    add_record_arguments(parser)
    add_control_arguments(parser)


def _in_string_code(frame: Any) -> bool:
    """Whether ``frame`` runs (or was called from) code that ``exec``/``eval`` got as a
    string: ``dataclasses`` and ``namedtuple`` build their methods that way, often during a
    lazy import."""
    while frame is not None:
        if frame.f_code.co_filename == "<string>":
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """Ctrl-C (SIGINT) and SIGTERM (``kill``, a launcher script, a service manager) stop
    ``play``: the recording is finished and the summary printed. Yields the event they set.

    The first one raises KeyboardInterrupt in the main thread, so that a wait anywhere in
    the start-up ends at once, except inside code run by ``exec``/``eval`` from a string:
    there CPython 3.11 marks the interrupt as unhandled, even once it is caught, and the
    process then kills itself with SIGINT at exit (status -2 instead of 0). There it only
    sets the event, which the play loop watches. A second SIGTERM during the shutdown is
    ignored (SIGKILL still ends everything); a second Ctrl-C interrupts the shutdown, as
    Ctrl-C does anywhere. Main thread only, as ``signal`` requires."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum: int, frame: Any) -> None:
        first = not stop.is_set()
        stop.set()
        if signum == signal.SIGTERM and not first:
            return
        if first and _in_string_code(frame):
            return
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def run(args: argparse.Namespace) -> int:
    """``distill-live play``: returns the exit status."""
    from ..control.session import start_control
    from ..engine import Engine

    params = param_values_from_args(args)
    if args.channels < 1:
        fatal(f"--channels must be >= 1, got {args.channels}")
    if args.samplerate is not None:
        from ..engine.output import check_samplerate  # the one range check (the engine's)

        try:
            check_samplerate(args.samplerate)
        except DeviceError as exc:
            fatal(f"--{exc}")
    kw: dict[str, Any] = {}
    if args.chunk_frames:
        kw["chunk_frames"] = args.chunk_frames
    engine = Engine(
        args.model,
        params=params,
        stereo=args.stereo,
        samplerate=args.samplerate,
        device=args.device,
        blocksize=args.blocksize,
        channels=args.channels,
        lookahead_ms=args.lookahead,
        **kw,
    )
    control: Any = None
    with stop_signals() as stop:
        try:
            engine.start()
            st = engine.stats()
            print(
                f"playing on {st['device']} at {st['samplerate']} Hz "
                f"(first sound after {st['first_sound_s'] or 0:.2f} s); Ctrl-C stops",
                file=sys.stderr,
            )
            _set_record_defaults(engine, args)
            if args.record:
                path = engine.record_start(args.record)
                print(f"recording to {path}", file=sys.stderr)
            # Control opens after --record has started, so no OSC/MIDI client ever sees a
            # `--record` session as not recording.
            control = start_control(engine, control_options(args))
            play_loop(engine, args, control, stop=stop)
        except KeyboardInterrupt:
            pass
        finally:
            if control is not None:
                # Finish the take before closing the controllers: RtMidi can crash while it
                # closes a JACK MIDI input that a controller is sending to, and a crash must
                # not leave the recording to recovery. engine.stop() finishes any take a
                # controller starts in between.
                if engine.stream is not None:
                    try:
                        engine.record_stop()
                    except RecordingError as exc:
                        print(f"recording: {exc}", file=sys.stderr)
                control.close()
            final = engine.stats() if engine.stream is not None else None
            engine.stop()
    if final is not None:
        st = final
        print(
            f"played {st['frames_played'] / max(st['samplerate'], 1):.1f} s: "
            f"{st['underruns']} empty callbacks, {st['underflows']} device underflows, "
            f"worst callback gap {st['max_callback_gap_ms']:.1f} ms, generator RTF "
            f"{st['rtf'] if st['rtf'] is None else round(st['rtf'], 3)}"
            + (f"; audio restarted {st['audio_restarts']} x" if st["audio_restarts"] else ""),
            file=sys.stderr,
        )
        if st["error"]:
            raise DeviceError(f"the generator stopped: {st['error']}")
    return 0


def _set_record_defaults(engine: Any, args: argparse.Namespace) -> None:
    """Starts without a path (OSC, MIDI button, the `r` key) record like --record asked: into
    its folder (a file's folder, with automatic names) with its subtype, container, split."""
    from ..record import RecordDefaults

    engine.record_defaults = RecordDefaults.for_target(args.record, **recorder_options(args))
