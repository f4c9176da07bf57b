"""``distill-live eval``: measure a model on a folder of audio.

The measurements are :func:`distill_live.model.evaluate.evaluate`'s (its docstring says what
each figure is); this module holds the flags and prints the result, as JSON or as tables of
figures beside their references.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["HELP", "add_arguments", "print_result", "run"]

HELP = "measure a model on a folder of audio"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live eval``."""
    from ..model.evaluate import EvalOptions

    parser.add_argument("model", metavar="MODEL", help="a .distill file, or 'default'")
    parser.add_argument("data_dir", metavar="DATA_DIR", type=Path, help="a folder of audio")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--split",
        choices=("heldout", "all"),
        default="heldout",
        help="evaluate on training's held-out split of DATA_DIR (default) or on all of it",
    )
    parser.add_argument(
        "--max-codec-seconds",
        type=float,
        default=EvalOptions.max_codec_seconds,
        help="subsample the codec metrics to this much audio (default %(default)s)",
    )
    parser.add_argument(
        "--generate-seconds",
        type=float,
        default=EvalOptions.generate_seconds,
        help="seconds generated for the Fréchet distance (default %(default)s)",
    )
    parser.add_argument(
        "--temperature-seconds",
        type=float,
        default=EvalOptions.temperature_seconds,
        help="seconds generated per temperature (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=EvalOptions.repeats,
        metavar="N",
        help="also measure the Fréchet distance and the RMS ratio over N seeds and N real "
        "excerpts and compare medians (default %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: up to 2)"
    )


def run(args: argparse.Namespace) -> int:
    """``distill-live eval``: returns the exit status."""
    import torch

    from ..model.evaluate import EvalOptions, evaluate
    from ..model.files import load_model
    from .options import fatal

    torch.set_num_threads(args.threads or max(1, min(2, os.cpu_count() or 1)))
    for name in ("max_codec_seconds", "generate_seconds", "temperature_seconds"):
        if not getattr(args, name) > 0:
            fatal(f"--{name.replace('_', '-')} must be > 0, got {getattr(args, name)}")
    if args.repeats < 1:
        fatal(f"--repeats must be >= 1, got {args.repeats}")
    model = load_model(args.model)
    opts = EvalOptions(
        split=args.split,
        max_codec_seconds=args.max_codec_seconds,
        generate_seconds=args.generate_seconds,
        temperature_seconds=args.temperature_seconds,
        seed=args.seed,
        repeats=args.repeats,
    )
    from rich.console import Console

    err = Console(stderr=True)
    with err.status("evaluating") as status:
        result = evaluate(model, args.data_dir, opts, progress=lambda m: status.update(m))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_result(result)
    return 0


def print_result(r: dict[str, Any]) -> None:
    """``evaluate``'s result as tables and lines of figures beside their references."""
    from rich.console import Console
    from rich.table import Table

    from ..model.metrics import CODEC_ROWS, FFT_SIZES

    con = Console()
    d = r["data"]
    con.print(
        f"[bold]{r['model']['path']}[/bold] on {d['dir']}: {d['evaluated_seconds']:.0f} s "
        f"({d['split']}, {d['evaluated_files']} of {d['files']} files)"
    )
    t = Table(title="codec on the evaluated audio (lower is better)")
    t.add_column("metric")
    for name in CODEC_ROWS:
        t.add_column(name, justify="right")
    cols = [f"sc_{n}" for n in FFT_SIZES] + ["sc"] + [f"logmag_{n}" for n in FFT_SIZES]
    for col in [*cols, "logmag", "mel_l1", "mel_l1_80db"]:
        t.add_row(col, *[f"{r['codec'][n][col]:.3f}" for n in CODEC_ROWS])
    con.print(t)
    t = Table(title="per file: log-mel L1, 80 dB floor (the codec's mean weighs files by length)")
    for col in ("file", "seconds", *CODEC_ROWS):
        t.add_column(col, justify="left" if col == "file" else "right")
    for name, f in r["codec"]["per_file"].items():
        t.add_row(name, f"{f['seconds']:.1f}", *[f"{f[n]['mel_l1_80db']:.3f}" for n in CODEC_ROWS])
    con.print(t)
    b = r["codebooks"]
    con.print("codebook usage    " + "  ".join(f"{u:.0%}" for u in b["usage"]))
    con.print("codebook perplexity " + "  ".join(f"{p:.0f}" for p in b["perplexity"]))
    p = r["prior"]
    con.print(
        f"prior: {p['bits_per_code']:.2f} bits/code vs unigram {p['unigram_bits_per_code']:.2f} "
        f"(fitted on {p['unigram_fitted_on']}; {p['bits_below_unigram']:.2f} below)"
    )
    g = r["generation"]["frechet_mfcc"]
    gd = r["generation"]["frechet_mfcc_diagonal"]
    con.print(
        f"Fréchet MFCC: generated {g['generated']:.2f} vs real excerpt {g['real_excerpt']:.2f} "
        f"(ratio {g['ratio']:.2f}; diagonal {gd['generated']:.2f} vs {gd['real_excerpt']:.2f}); "
        f"the real excerpt through the codec: {g['real_excerpt_through_codec']:.2f}"
    )
    con.print(
        f"  over {len(g['generated_each'])} seeds / excerpts: median generated "
        f"{g['generated_median']:.2f} vs real {g['real_excerpt_median']:.2f} "
        f"(ratio {g['ratio_of_medians']:.2f}); "
        f"{g['generated_share_within_1.5x_real_median']:.0%} of the draws within 1.5x the real median"
    )
    con.print(
        "bits per codebook: prior "
        + " ".join(f"{x:.2f}" for x in p["bits_per_codebook"])
        + " | unigram "
        + " ".join(f"{x:.2f}" for x in p["unigram_bits_per_codebook"])
    )
    pi = r["pitch"]
    con.print(
        f"pitch ({pi['tracker']}): codec raw pitch accuracy "
        f"{pi['codec_raw_pitch_accuracy']:.3f} over {pi['codec_pitched_frames']} pitched frames; "
        f"pitched share generated {pi['generated']['pitched_share']:.2f} vs data "
        f"{pi['data']['pitched_share']:.2f}, steady pitch median "
        f"{pi['generated']['median_steady_ms']:.0f} vs {pi['data']['median_steady_ms']:.0f} ms, "
        f"pitch-class distance {pi['pitch_class_distance']:.2f}"
    )
    tr = r["temperature"]
    con.print(
        "code entropy by temperature: "
        + ", ".join(f"{k}: {v:.2f} bits" for k, v in tr["code_entropy_bits"].items())
        + f"; RMS at 0.5 / 1.0 = {tr['rms_ratio_0.5_to_1']:.2f} "
        + f"(median over seeds {tr['rms_ratio_0.5_to_1_median']:.2f})"
    )
    for note in r["notes"]:
        con.print(f"[dim]note: {note}[/dim]")
    con.print(f"[dim]{r['seconds']:.0f} s[/dim]")
