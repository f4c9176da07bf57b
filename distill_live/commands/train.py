"""``distill-live train``: train a model on a folder of audio.

The training itself is :func:`distill_live.model.train.train`; this module holds its flags
(one per :class:`~distill_live.model.train.TrainOptions` field), reads the ``--codec``,
``--prior`` and ``--codec-loss`` ``KEY=VALUE`` overrides, and prints the summary.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import TrainingOptionError

__all__ = ["HELP", "add_arguments", "run", "parse_overrides", "print_summary"]

HELP = "train a model on a folder of audio"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live train``."""
    from ..model.train import TrainOptions

    parser.add_argument(
        "data_dir", metavar="DATA_DIR", help="folder of audio files (any format soundfile reads)"
    )
    parser.add_argument(
        "--out", "-o", required=True, metavar="MODEL.distill", help="where to write the model"
    )
    b = parser.add_argument_group("budget")
    b.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="wall-clock budget of the whole training (default 30 if no --steps)",
    )
    b.add_argument("--steps", type=int, default=None, help="step budget of each stage")
    b.add_argument("--codec-steps", type=int, default=None)
    b.add_argument("--prior-steps", type=int, default=None)
    b.add_argument("--refine-steps", type=int, default=None)
    b.add_argument(
        "--codec-share",
        type=float,
        default=0.7,
        help="share of --minutes for the codec (default 0.7)",
    )
    b.add_argument(
        "--refine", action="store_true", help="adversarial refine of the decoder (encoder frozen)"
    )
    b.add_argument(
        "--refine-share", type=float, default=0.3, help="share of the codec's time for --refine"
    )
    r = parser.add_argument_group("running")
    r.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    r.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    r.add_argument(
        "--restart-prior",
        action="store_true",
        help="with --resume: keep the checkpoint's trained codec, train the prior afresh "
        "(--prior settings may change)",
    )
    r.add_argument(
        "--checkpoint", default=None, help="checkpoint path (default MODEL.distill.ckpt)"
    )
    r.add_argument("--checkpoint-minutes", type=float, default=3.0)
    r.add_argument("--threads", type=int, default=None, help="torch threads per process")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--half", action="store_true", help="store the model as float16 (half the size)")
    m = parser.add_argument_group("model and data")
    m.add_argument("--tiny", action="store_true", help="a tiny model (tests, smoke runs)")
    m.add_argument(
        "--heldout", type=float, default=0.1, help="share of the audio held out (default 0.1)"
    )
    m.add_argument("--batch-size", type=int, default=16)
    m.add_argument("--crop-frames", type=int, default=TrainOptions.crop_frames)
    m.add_argument("--codec-lr", type=float, default=5e-4)
    m.add_argument(
        "--pitch-shift",
        type=float,
        default=0.0,
        metavar="SEMITONES",
        help="augmentation: play codec crops up to this many semitones faster or slower, "
        "tape style (e.g. 2; default 0 = off)",
    )
    m.add_argument(
        "--mix",
        type=float,
        default=0.0,
        metavar="P",
        help="augmentation: probability of adding a second crop to a codec crop (e.g. 0.5; "
        "default 0 = off)",
    )
    m.add_argument("--prior-batch-size", type=int, default=16)
    m.add_argument("--prior-frames", type=int, default=TrainOptions.prior_frames)
    m.add_argument("--prior-lr", type=float, default=6e-4)
    m.add_argument(
        "--prior-codebooks",
        type=int,
        default=None,
        metavar="N",
        help="after the codec stages keep only its first N codebooks (all by default); the "
        "prior and the saved model use N",
    )
    m.add_argument(
        "--prior-input-noise",
        type=float,
        default=TrainOptions.prior_input_noise,
        metavar="P",
        help="regulariser: replace each context code of the prior by a random one with "
        "probability P while training (e.g. 0.1; default 0 = off)",
    )
    m.add_argument(
        "--prior-varispeed",
        type=float,
        nargs="+",
        default=list(TrainOptions.prior_varispeed),
        metavar="SEMITONES",
        help="augmentation: the prior also trains on the clips played each of these many "
        "semitones faster and slower, tape style (e.g. 1 2; default none)",
    )
    m.add_argument(
        "--prior-transpose",
        type=float,
        nargs="+",
        default=list(TrainOptions.prior_transpose),
        metavar="SEMITONES",
        help="augmentation for a pitched codec: the prior also trains on the codes with their "
        "pitch moved each of these many semitones up and down (e.g. 1 2; default none)",
    )
    m.add_argument(
        "--prior-own-share",
        type=float,
        default=TrainOptions.prior_own_share,
        metavar="P",
        help="with --prior-varispeed or --prior-transpose: the share of the prior's training "
        "crops at the clips' own speed and key (default %(default)s)",
    )
    m.add_argument(
        "--prior-keep",
        choices=("final", "lowest"),
        default=TrainOptions.prior_keep,
        help="which prior weights are saved: the final ones (default) or those with the "
        "lowest held-out bits/code seen while training (early stopping)",
    )
    m.add_argument(
        "--max-silence-frames",
        type=int,
        default=TrainOptions.max_silence_frames,
        help="longest silence kept in the prior's data",
    )
    m.add_argument(
        "--codec", action="append", default=[], metavar="KEY=VALUE", help="codec config override"
    )
    m.add_argument(
        "--prior", action="append", default=[], metavar="KEY=VALUE", help="prior config override"
    )
    m.add_argument(
        "--codec-loss",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="codec loss override: sc_weight, sc_item_weight (each audible crop's own spectral "
        "convergence, averaged), logmag_weight, mel_weight, commit_weight, complex_weight, "
        "loudness_weight (L1 of the log RMS of 512-sample frames), harmonic_weight (a pitched "
        "codec's oscillator amplitudes against those read off the audio; default 1), "
        "harmonic_item_weight (the same amplitudes' relative L2 distance per crop), mel_floor",
    )


def _value(text: str) -> int | float | str:
    """A config value from the command line: an int, a float or else the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_overrides(items: list[str], flag: str) -> dict[str, Any]:
    """``KEY=VALUE`` items of ``flag`` (``--codec``, ...) → {key: value}; dashes in keys
    become underscores. The values are checked against the configs by ``train``."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise TrainingOptionError(f"{flag} {item!r}: expected KEY=VALUE")
        out[key.replace("-", "_")] = _value(value)
    return out


def run(args: argparse.Namespace) -> int:
    """``distill-live train``: returns the exit status."""
    from ..model.train import TrainOptions, train

    minutes = args.minutes
    if minutes is None and args.steps is None and None in (args.codec_steps, args.prior_steps):
        minutes = 30.0
    opts = TrainOptions(
        minutes=minutes,
        steps=args.steps,
        codec_steps=args.codec_steps,
        prior_steps=args.prior_steps,
        refine_steps=args.refine_steps,
        codec_share=args.codec_share,
        refine=args.refine,
        refine_share=args.refine_share,
        device=args.device,
        resume=args.resume,
        restart_prior=args.restart_prior,
        checkpoint=Path(args.checkpoint) if args.checkpoint else None,
        checkpoint_minutes=args.checkpoint_minutes,
        seed=args.seed,
        tiny=args.tiny,
        heldout=args.heldout,
        batch_size=args.batch_size,
        crop_frames=args.crop_frames,
        codec_lr=args.codec_lr,
        pitch_shift=args.pitch_shift,
        mix=args.mix,
        prior_batch_size=args.prior_batch_size,
        prior_frames=args.prior_frames,
        prior_lr=args.prior_lr,
        max_silence_frames=args.max_silence_frames,
        prior_codebooks=args.prior_codebooks,
        prior_input_noise=args.prior_input_noise,
        prior_varispeed=tuple(args.prior_varispeed),
        prior_transpose=tuple(args.prior_transpose),
        prior_own_share=args.prior_own_share,
        prior_keep=args.prior_keep,
        codec_overrides=parse_overrides(args.codec, "--codec"),
        prior_overrides=parse_overrides(args.prior, "--prior"),
        codec_loss={
            k: float(v) for k, v in parse_overrides(args.codec_loss, "--codec-loss").items()
        },
        progress=not args.no_progress,
        threads=args.threads,
        half=args.half,
    )
    summary = train(args.data_dir, args.out, opts)
    if summary:
        print_summary(summary)
    return 0


def print_summary(s: dict[str, Any]) -> None:
    """The training summary as a table on stderr."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="training summary", show_header=False)
    c = s["heldout_codec"]
    refs = s.get("heldout_references", {})
    rows = [
        (
            "data",
            f"{s['data_seconds']:.0f} s in {s['data_files']} files ({s['heldout_seconds']:.0f} s held out)",
        ),
        (
            "steps",
            f"codec {s['codec_steps']}, refine {s['refine_steps']}, prior {s['prior_steps']}",
        ),
        (
            "time",
            f"{sum(v or 0.0 for v in s['stage_seconds'].values()) / 60:.1f} min of training "
            f"({s['wall_seconds'] / 60:.1f} min this run)",
        ),
        (
            "codec (held out)",
            f"mel L1 {c.get('mel', float('nan')):.3f} (4 kHz low-pass {refs.get('lowpass_4k_mel', float('nan')):.3f}), "
            f"SC {c.get('sc', float('nan')):.3f} (random phase {refs.get('random_phase_sc', float('nan')):.3f})",
        ),
        ("codebook usage", " ".join(f"{u:.0%}" for u in c.get("usage", []))),
        (
            "prior (held out)",
            f"{s['heldout_prior_bits']:.2f} bits/code (unigram {s['heldout_unigram_bits']:.2f})"
            if s.get("heldout_prior_bits") is not None and s.get("heldout_unigram_bits") is not None
            else "-",
        ),
    ]
    for k, v in rows:
        table.add_row(k, v)
    Console(stderr=True).print(table)
