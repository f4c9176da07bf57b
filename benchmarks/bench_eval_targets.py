"""Issue 5's acceptance targets, checked against the figures ``distill-live eval`` reports.

    .venv/bin/python benchmarks/bench_eval_targets.py RESULT.json
    .venv/bin/python benchmarks/bench_eval_targets.py --model default \\
        [--data /usr/share/sonic-pi/samples] [--repeats 12] [--seed 0]

The first reads the output of ``distill-live eval MODEL DATA_DIR --json``; the second runs the
evaluation itself. Eval reports figures and their references only; this script prints, per
target, pass or FAIL and the figures it compared:

* the codec's 80 dB log-mel L1 below the 4 kHz low-pass's (and, with the 1e-5 clamp, too);
* its spectral convergence below the random-phase reference's;
* every codebook using more than half its codes on the evaluated audio;
* the prior at least 2 bits per code below the unigram baseline;
* the Fréchet MFCC distance of generated audio within 1.5x a real excerpt's (one draw, and
  the medians over the repeats);
* the RMS at temperature 0.5 at least a quarter of that at 1.0 (one seed, and the median);
* the code entropy rising with the temperature.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

SAMPLES = "/usr/share/sonic-pi/samples"


def targets(r: dict[str, Any]) -> dict[str, tuple[bool, str]]:
    """Each target's name → (met, the figures compared), from an eval result ``r``."""
    c, lp, rp = r["codec"]["codec"], r["codec"]["lowpass_4k"], r["codec"]["random_phase"]
    usage = r["codebooks"]["usage"]
    p = r["prior"]
    fd = r["generation"]["frechet_mfcc"]
    t = r["temperature"]
    e = t["code_entropy_bits"]
    return {
        "codec_mel_beats_lowpass_4k": (
            c["mel_l1_80db"] < lp["mel_l1_80db"],
            f"{c['mel_l1_80db']:.3f} vs {lp['mel_l1_80db']:.3f}",
        ),
        "codec_mel_beats_lowpass_4k_clamp_1e-5": (
            c["mel_l1"] < lp["mel_l1"],
            f"{c['mel_l1']:.3f} vs {lp['mel_l1']:.3f}",
        ),
        "codec_sc_beats_random_phase": (c["sc"] < rp["sc"], f"{c['sc']:.3f} vs {rp['sc']:.3f}"),
        "codebook_usage_above_50pct": (
            min(usage) > 0.5,
            " ".join(f"{u:.0%}" for u in usage),
        ),
        "prior_2_bits_below_unigram": (
            p["bits_below_unigram"] >= 2.0,
            f"{p['bits_per_code']:.3f} vs unigram {p['unigram_bits_per_code']:.3f}",
        ),
        "frechet_within_1.5x_real": (
            fd["generated"] <= 1.5 * fd["real_excerpt"],
            f"{fd['generated']:.2f} vs {fd['real_excerpt']:.2f}",
        ),
        "frechet_median_within_1.5x_real_median": (
            fd["generated_median"] <= 1.5 * fd["real_excerpt_median"],
            f"{fd['generated_median']:.2f} vs {fd['real_excerpt_median']:.2f}",
        ),
        "rms_at_0.5_at_least_quarter_of_1": (
            t["rms_ratio_0.5_to_1"] >= 0.25,
            f"ratio {t['rms_ratio_0.5_to_1']:.3f}",
        ),
        "rms_ratio_median_at_least_quarter": (
            t["rms_ratio_0.5_to_1_median"] >= 0.25,
            f"median {t['rms_ratio_0.5_to_1_median']:.3f}",
        ),
        "entropy_rises_with_temperature": (
            e["0.3"] < e["1"] < e["1.8"],
            f"{e['0.3']:.2f} < {e['1']:.2f} < {e['1.8']:.2f}",
        ),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument(
        "result", nargs="?", type=Path, help="JSON written by `distill-live eval --json`"
    )
    ap.add_argument("--model", default=None, help="evaluate this model (a .distill or 'default')")
    ap.add_argument("--data", default=SAMPLES, help=f"data folder (default {SAMPLES})")
    ap.add_argument("--repeats", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if (args.result is None) == (args.model is None):
        ap.error("give RESULT.json or --model")
    if args.result is not None:
        r = json.loads(args.result.read_text())
    else:
        import torch

        from distill_live.model import load_model
        from distill_live.model.evaluate import EvalOptions, evaluate

        torch.set_num_threads(2)
        r = evaluate(
            load_model(args.model), args.data, EvalOptions(repeats=args.repeats, seed=args.seed)
        )
    met = targets(r)
    for name, (ok, figures) in met.items():
        print(f"{'pass' if ok else 'FAIL'}  {name:<42} {figures}")
    return 0 if all(ok for ok, _ in met.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
