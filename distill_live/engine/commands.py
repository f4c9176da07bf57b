"""The ``play`` and ``render`` sub-commands (wired into :mod:`distill_live.cli`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..cliutil import add_param_arguments, fatal, param_values_from_args
from ..errors import DeviceError, RecordingError
from .post import STEREO_MODES

__all__ = ["add_play_arguments", "cmd_play", "add_render_arguments", "cmd_render"]


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return x


def _device(text: str) -> int | str:
    return int(text) if text.strip().isdigit() else text


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="default",
        metavar="PATH",
        help="model file (.distill); default: the shipped default model",
    )
    parser.add_argument(
        "--stereo",
        choices=STEREO_MODES,
        default="mono",
        help="mono; mid-side (side = all-pass-decorrelated mid at half level x --width); "
        "dual-seed (left and right from seeds seed and seed+1, sampled in one batched pass)",
    )
    parser.add_argument("--chunk-frames", type=int, default=None, help=argparse.SUPPRESS)
    add_param_arguments(parser)


# ---------------------------------------------------------------------------------- play
def add_play_arguments(parser: argparse.ArgumentParser) -> None:
    from .keys import KEYS_HELP

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = KEYS_HELP
    _common(parser)
    from .defaults import DEFAULT_LOOKAHEAD_MS

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
        type=_positive_float,
        default=DEFAULT_LOOKAHEAD_MS,
        metavar="MS",
        help=f"audio kept generated ahead (default {DEFAULT_LOOKAHEAD_MS:g} ms); a change "
        "drops what is not yet played beyond a safety margin, so it is heard quickly anyway",
    )
    parser.add_argument(
        "--duration", type=_positive_float, default=None, metavar="S", help="stop after S s"
    )
    parser.add_argument(
        "--no-ui",
        action="store_true",
        help="no live status line and no keys (for scripts and logs)",
    )
    try:
        from ..record.commands import add_record_arguments

        add_record_arguments(parser)
    except ImportError:  # pragma: no cover - recording not in this build
        pass
    try:
        from ..control.commands import add_control_arguments

        add_control_arguments(parser)
    except ImportError:  # pragma: no cover - control not in this build
        pass


def _status_line(st: dict[str, Any]) -> str:
    p = st["params"]
    rtf = "—" if st["rtf"] is None else f"{st['rtf']:.2f}"
    if st.get("recording_status") == "failed":
        rec = f"REC FAILED: {st.get('recording_error') or 'unknown error'}"
    elif st["recording"] is None:
        rec = "rec off"
    else:
        rec = f"REC {Path(st['recording']).name}"
    audio = "" if st["audio_status"] == "running" else f" [audio {st['audio_status']}]"
    return (
        f"T {p['temperature']:.2f} k {p['top_k']} p {p['top_p']:.2f} seed {p['seed']} "
        f"gain {p['gain']:+.1f} w {p['width']:.2f} | {st['level_db']:5.1f} dBFS | "
        f"buf {st['buffer_ms']:3.0f} ms | underruns {st['underruns']} xruns {st['underflows']} "
        f"| RTF {rtf} | {rec}{audio}"
    )


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM (``kill``, a launcher script, a service manager) stops ``play`` like Ctrl-C:
    the recording is finished and the summary printed. A second one during the shutdown is
    ignored (SIGKILL still ends everything). Main thread only, as ``signal`` requires."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_play(args: argparse.Namespace) -> int:
    from .engine import Engine

    params = param_values_from_args(args)
    if args.channels < 1:
        fatal(f"--channels must be >= 1, got {args.channels}")
    if args.samplerate is not None and not 8000 <= args.samplerate <= 192000:
        fatal(f"--samplerate must be 8000..192000 Hz, got {args.samplerate}")
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
    t0 = time.monotonic()
    with _sigterm_stops():
        try:
            engine.start()
            st = engine.stats()
            print(
                f"playing on {st['device']} at {st['samplerate']} Hz "
                f"(first sound after {st['first_sound_s'] or 0:.2f} s); Ctrl-C stops",
                file=sys.stderr,
            )
            _set_record_defaults(engine, args)
            if getattr(args, "record", None):
                path = engine.record_start(args.record)
                print(f"recording to {path}", file=sys.stderr)
            # Control opens after --record has started, so no OSC/MIDI client ever sees a
            # `--record` session as not recording.
            from ..control.commands import start_control

            control = start_control(engine, args)
            _play_loop(engine, args, t0, control)
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
            f"worst callback gap {st['max_callback_gap_ms']:.1f} ms, median RTF "
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
    try:
        from ..record.commands import recorder_options
    except ImportError:  # pragma: no cover - recording not in this build
        return
    from ..record.defaults import RecordDefaults

    engine.record_defaults = RecordDefaults.for_target(
        getattr(args, "record", None), **recorder_options(args)
    )


def _play_loop(engine: Any, args: argparse.Namespace, t0: float, control: Any = None) -> None:
    from .keys import KeyCommands, KeyReader

    end = None if args.duration is None else time.monotonic() + args.duration
    seen_events = 0
    reader = KeyReader() if not args.no_ui and KeyReader.available() else None
    plain = args.no_ui or not sys.stderr.isatty()
    live: Any = None

    def say(text: str) -> None:
        if live is not None:
            live.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    keys = KeyCommands(engine, say, learn=None if control is None else control.learn)

    def done() -> bool:
        return keys.quit.is_set() or (end is not None and time.monotonic() >= end)

    def wait(seconds: float) -> None:
        """Sleep, handling keys as they come."""
        if reader is None:
            time.sleep(seconds)
            return
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0 and not keys.quit.is_set():
            k = reader.get(left)
            if k is not None:
                keys.key(k)

    try:
        if reader is not None and reader.start():
            say("keys: r record, l MIDI learn, q quit, h help")
        else:
            reader = None
        if plain:
            while not done():
                wait(0.1)
                st = engine.stats()
                for msg in st["audio_events"][seen_events:]:
                    say(f"audio: {msg}")
                seen_events = len(st["audio_events"])
                if st["error"]:
                    return
            return
        from rich.console import Console
        from rich.live import Live

        console = Console(stderr=True)
        with Live(console=console, refresh_per_second=8, transient=False) as lv:
            live = lv
            while not done():
                wait(0.125)
                st = engine.stats()
                lv.update(_status_line(st))
                if st["error"]:
                    return
    finally:
        if reader is not None:
            reader.close()


# -------------------------------------------------------------------------------- render
def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT.wav", help="file to write (never overwritten)")
    parser.add_argument(
        "--duration", type=_positive_float, required=True, metavar="S", help="seconds"
    )
    _common(parser)
    parser.add_argument(
        "--samplerate",
        type=int,
        choices=(44100, 48000, 96000),
        default=48000,
        help="output rate (default 48000; others are resampled)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        metavar="N",
        help="render N files with seeds seed..seed+N-1 (OUT_seed{n}.wav)",
    )
    parser.add_argument(
        "--automation",
        metavar="FILE",
        default=None,
        help="JSON list of {time_s, param, value}, applied at the same chunk boundaries as "
        "live control",
    )
    parser.add_argument(
        "--channels", type=int, default=None, help="output channels (default: 1 mono, else 2)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite OUT and its sidecar")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    try:
        from ..record.commands import add_record_arguments

        add_record_arguments(parser, render=True)
    except ImportError:  # pragma: no cover
        parser.add_argument("--subtype", default="PCM_24", choices=("PCM_16", "PCM_24", "FLOAT"))


def _batch_paths(out: Path, seed: int, batch: int) -> list[tuple[int, Path]]:
    if batch == 1:
        return [(seed, out)]
    suffix = out.suffix or ".wav"
    return [(s, out.with_name(f"{out.stem}_seed{s}{suffix}")) for s in range(seed, seed + batch)]


def cmd_render(args: argparse.Namespace) -> int:
    from ..model.runtime import resolve_model, setup_torch
    from ..record.naming import CONTAINER_SUFFIX, part_path, sidecar_path
    from .render import load_automation, render

    params = param_values_from_args(args)
    if args.batch < 1:
        fatal(f"--batch must be >= 1, got {args.batch}")
    if int(params["seed"]) + args.batch - 1 > 2**31 - 1:
        fatal("--seed + --batch - 1 must stay below 2**31")
    automation = load_automation(args.automation) if args.automation else []
    try:
        from ..record.commands import recorder_options

        rec_kw: dict[str, Any] = recorder_options(args)
    except ImportError:  # pragma: no cover - recording options not in this build
        rec_kw = {"subtype": getattr(args, "subtype", "PCM_24")}
    out = Path(args.out)
    if out.suffix == "":
        out = out.with_suffix(CONTAINER_SUFFIX[rec_kw.get("container", "wav")])
    jobs = _batch_paths(out, int(params["seed"]), args.batch)
    for _, p in jobs:
        olds = [p, sidecar_path(p)]
        i = 2
        while part_path(p, i).exists():  # parts of an earlier split render
            olds.append(part_path(p, i))
            i += 1
        for q in olds:
            if q.exists():
                if not args.force:
                    fatal(f"{q} exists; choose another name or use --force to overwrite it")
                os.remove(q)
    setup_torch()
    model = resolve_model(args.model)
    kw: dict[str, Any] = {}
    if args.chunk_frames:
        kw["chunk_frames"] = args.chunk_frames
    show = not args.no_progress and sys.stderr.isatty()
    for seed, path in jobs:
        progress = None
        bar: Any = None
        if show:
            from rich.progress import Progress

            bar = Progress(transient=True)
            bar.start()
            task = bar.add_task(path.name, total=100)

            def progress(done: int, total: int, _b: Any = bar, _t: Any = task) -> None:
                _b.update(_t, completed=100 * done / max(total, 1))

        t = time.monotonic()
        try:
            written = render(
                model,
                path,
                args.duration,
                params=params.replace(seed=seed),
                stereo=args.stereo,
                samplerate=args.samplerate,
                channels=args.channels,
                automation=automation,
                progress=progress,
                **rec_kw,
                **kw,
            )
        finally:
            if bar is not None:
                bar.stop()
        dt = time.monotonic() - t
        print(
            f"wrote {written} ({args.duration:g} s, seed {seed}) in {dt:.1f} s "
            f"(RTF {dt / args.duration:.3f}); sidecar {sidecar_path(written).name}",
            file=sys.stderr,
        )
    return 0
