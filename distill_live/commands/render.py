"""``distill-live render``: render a model to audio files offline, deterministically.

:func:`run` checks the flags and the files it would replace (refusing without ``--force``),
then calls :func:`distill_live.engine.render.render` once per seed of ``--batch``. It does
not import the live engine: the offline render needs the model, not an audio device.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from .options import (
    add_model_arguments,
    add_record_arguments,
    fatal,
    param_values_from_args,
    positive_float,
    recorder_options,
)

__all__ = ["HELP", "add_arguments", "run", "batch_paths"]

HELP = "render a model to audio files offline, deterministically"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live render``."""
    parser.add_argument("out", metavar="OUT.wav", help="file to write (never overwritten)")
    parser.add_argument(
        "--duration", type=positive_float, default=None, metavar="S", help="seconds"
    )
    parser.add_argument(
        "--replay",
        metavar="TAKE",
        default=None,
        help="render a take recorded by play again from its sidecar (TAKE.wav or its .json): "
        "its model, seed, settings and every change and key, bit for bit",
    )
    add_model_arguments(parser)
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
        help="JSON list of {time_s, param, value} (a note: param 'note', value the MIDI note, "
        "and velocity, 0 = release), applied at those times as live control is",
    )
    parser.add_argument(
        "--channels", type=int, default=None, help="output channels (default: 1 mono, else 2)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite OUT and its sidecar")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_record_arguments(parser, render=True)


def batch_paths(out: Path, seed: int, batch: int) -> list[tuple[int, Path]]:
    """``(seed, path)`` per file: ``out`` itself for one, ``OUT_seed{n}.wav`` for a batch."""
    if batch == 1:
        return [(seed, out)]
    suffix = out.suffix or ".wav"
    return [(s, out.with_name(f"{out.stem}_seed{s}{suffix}")) for s in range(seed, seed + batch)]


def run(args: argparse.Namespace) -> int:
    """``distill-live render``: returns the exit status."""
    from ..engine.render import load_automation, render
    from ..model.runtime import resolve_model, setup_torch
    from ..record.naming import sidecar_path

    if args.replay is not None:
        return _replay(args)
    if args.duration is None:
        fatal("give --duration S (seconds to render), or --replay TAKE")
    params = param_values_from_args(args)
    if args.batch < 1:
        fatal(f"--batch must be >= 1, got {args.batch}")
    if int(params["seed"]) + args.batch - 1 > 2**31 - 1:
        fatal("--seed + --batch - 1 must stay below 2**31")
    automation = load_automation(args.automation) if args.automation else []
    rec_kw: dict[str, Any] = recorder_options(args)
    jobs = batch_paths(_out_path(args, rec_kw), int(params["seed"]), args.batch)
    for _, p in jobs:
        _make_room(p, args.force)
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


def _out_path(args: argparse.Namespace, rec_kw: dict[str, Any]) -> Path:
    """OUT, with the container's suffix when it has none."""
    from ..record.naming import CONTAINER_SUFFIX

    out = Path(args.out)
    return out.with_suffix(CONTAINER_SUFFIX[rec_kw["container"]]) if out.suffix == "" else out


def _make_room(path: Path, force: bool) -> None:
    """Remove ``path``, its sidecar and the parts of an earlier split render with ``force``;
    without it, exit naming the first that exists."""
    from ..record.naming import part_path, sidecar_path

    olds = [path, sidecar_path(path)]
    i = 2
    while part_path(path, i).exists():  # parts of an earlier split render
        olds.append(part_path(path, i))
        i += 1
    for q in olds:
        if q.exists():
            if not force:
                fatal(f"{q} exists; choose another name or use --force to overwrite it")
            os.remove(q)


def _replay(args: argparse.Namespace) -> int:
    """``render OUT --replay TAKE``: the take again, from its sidecar."""
    from ..engine.render import load_take, replay

    take = load_take(args.replay)
    rec_kw: dict[str, Any] = recorder_options(args)
    out = _out_path(args, rec_kw)
    _make_room(out, args.force)
    t = time.monotonic()
    # the take's own model unless another is named (a moved file: --model PATH)
    model = None if args.model == "default" and take.model_path else args.model
    written = replay(take, out, model=model, **rec_kw)
    dt = time.monotonic() - t
    print(
        f"replayed {args.replay} ({take.frames / take.samplerate:.1f} s, "
        f"{len(take.events)} changes) to {written} in {dt:.1f} s",
        file=sys.stderr,
    )
    return 0
