"""The evaluation: every section of the report on a tiny model, and its figures' sanity."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from distill_live.model import build_model
from distill_live.model.evaluate import EvalOptions, evaluate

ROOT = Path(__file__).resolve().parents[2]

SR = 48000


def _bench_targets() -> ModuleType:
    """benchmarks/bench_eval_targets.py, where pass/fail against issue 5's targets lives."""
    spec = importlib.util.spec_from_file_location(
        "bench_eval_targets", ROOT / "benchmarks" / "bench_eval_targets.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def data_dir(mixed_audio_dir: Path) -> Path:
    return mixed_audio_dir


def test_evaluate_tiny_model(data_dir: Path) -> None:
    torch.manual_seed(0)
    model = build_model(tiny=True)
    opts = EvalOptions(
        generate_seconds=3.0, temperature_seconds=2.0, max_codec_seconds=0.5, repeats=3
    )
    r = evaluate(model, data_dir, opts)
    json.dumps(r)  # JSON-able
    for name in ("codec", "lowpass_4k", "random_phase", "codec_unquantised"):
        assert set(r["codec"][name]) >= {
            "sc_512",
            "sc_1024",
            "sc_2048",
            "logmag_2048",
            "mel_l1",
            "mel_l1_80db",
        }
        assert all(math.isfinite(v) for v in r["codec"][name].values())
    assert r["codec"]["subsampled"] is True and r["notes"]
    # per file: the files whose segments were measured, weighted back to the overall mean
    per_file = r["codec"]["per_file"]
    assert per_file and set(per_file) <= {p.name for p in data_dir.iterdir()}
    total = sum(f["seconds"] for f in per_file.values())
    assert total == pytest.approx(r["codec"]["seconds"], abs=0.02 * len(per_file))
    for name in ("codec", "lowpass_4k", "codec_unquantised"):
        mean = sum(f["seconds"] * f[name]["mel_l1_80db"] for f in per_file.values()) / total
        assert mean == pytest.approx(r["codec"][name]["mel_l1_80db"], rel=0.01, abs=1e-3)
    # the unquantised row decodes the latent itself: a different reconstruction, not a copy
    assert r["codec"]["codec_unquantised"] != r["codec"]["codec"]
    assert r["codec"]["seconds"] <= 0.5 + 64 * model.hop / SR
    assert len(r["codebooks"]["usage"]) == model.n_codebooks
    assert r["prior"]["unigram_fitted_on"] == "the training split"
    assert r["prior"]["bits_per_code"] > 0
    fd = r["generation"]["frechet_mfcc"]
    assert fd["generated"] >= 0 and fd["real_excerpt"] >= 0
    assert fd["real_excerpt_through_codec"] >= 0
    # repeated over seeds 0..2 and three excerpts; the first of each is the single figure
    assert len(fd["generated_each"]) == len(fd["real_excerpt_each"]) == 3
    assert fd["generated_each"][0] == fd["generated"]
    assert fd["real_excerpt_each"][0] == fd["real_excerpt"]
    assert len(set(fd["generated_each"])) == 3  # different seeds, different audio
    assert fd["generated_median"] == pytest.approx(np.median(fd["generated_each"]), abs=1e-3)
    assert fd["real_excerpt_median"] == pytest.approx(np.median(fd["real_excerpt_each"]), abs=1e-3)
    within = [x <= 1.5 * fd["real_excerpt_median"] for x in fd["generated_each"]]
    assert fd["generated_share_within_1.5x_real_median"] == pytest.approx(np.mean(within), abs=1e-3)
    # eval reports figures, not pass/fail: the targets are checked by a benchmark
    assert "checks" not in r
    targets = _bench_targets().targets(r)
    assert targets["frechet_median_within_1.5x_real_median"][0] == (
        fd["generated_median"] <= 1.5 * fd["real_excerpt_median"] + 1e-6
    )
    assert len(r["prior"]["bits_per_codebook"]) == model.n_codebooks
    assert r["generation"]["generated_seconds"] == pytest.approx(3.0, abs=0.01)
    t = r["temperature"]
    assert set(t["code_entropy_bits"]) == {"0.3", "1", "1.8"}
    assert t["top_k_1_equals_greedy"] and t["top_p_0_equals_greedy"] and t["same_seed_identical"]
    assert len(t["rms_ratio_0.5_to_1_each"]) == 3
    assert t["rms_ratio_0.5_to_1_each"][0] == pytest.approx(t["rms_ratio_0.5_to_1"], abs=1e-4)
    assert all(isinstance(ok, bool) for ok, _ in targets.values())
    pi = r["pitch"]
    assert pi["generated_draws"] == 3  # one per draw at temperature 1.0
    assert 0.0 <= pi["codec_raw_pitch_accuracy"] <= 1.0
    assert pi["data"]["pitched_share"] > 0.2  # a third of the files are steady sines
    assert sum(pi["data"]["pitch_classes"]) > 0 and pi["data"]["median_steady_ms"] > 100
    assert 0.0 <= pi["pitch_class_distance"] <= 1.0


def test_short_reference_half_is_one_excerpt_scored_every_repeat(data_dir: Path) -> None:
    """When the other half is shorter than the generated audio, the whole of it is the real
    excerpt: every repeat scores that same audio, and a note says so."""
    torch.manual_seed(0)
    model = build_model(tiny=True)
    opts = EvalOptions(
        generate_seconds=12.0, temperature_seconds=1.0, max_codec_seconds=0.5, repeats=3
    )
    r = evaluate(model, data_dir, opts)
    assert any("the other half holds only" in n for n in r["notes"])
    fd = r["generation"]["frechet_mfcc"]
    assert fd["real_excerpt_each"] == [fd["real_excerpt"]] * 3
    assert fd["real_excerpt_median"] == fd["real_excerpt"]
    assert len(set(fd["generated_each"])) == 3


def test_evaluate_tiny_pitched_model(data_dir: Path) -> None:
    """Every section runs on a pitched codec too (its decoder also takes pitch and f0)."""
    import dataclasses

    from distill_live.model.codec import CodecConfig

    torch.manual_seed(0)
    cfg = dataclasses.replace(
        CodecConfig.tiny(), pitch=True, n_codebooks=3, pitch_low_note=45.0, pitch_step_cents=100.0
    )
    model = build_model(cfg, tiny=True)
    opts = EvalOptions(
        generate_seconds=2.0, temperature_seconds=1.0, max_codec_seconds=0.5, repeats=2
    )
    r = evaluate(model, data_dir, opts)
    json.dumps(r)
    assert all(math.isfinite(v) for v in r["codec"]["codec_unquantised"].values())
    assert r["codec"]["codec_unquantised"] != r["codec"]["codec"]
    assert r["pitch"]["generated_draws"] == 2
    assert 0.0 <= r["pitch"]["codec_raw_pitch_accuracy"] <= 1.0
    assert r["pitch"]["codec_pitched_frames"] > 0
