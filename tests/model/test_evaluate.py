"""The evaluation: metric functions against hand-computed values, and the eval command."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from distill_live.cli import main
from distill_live.model import build_model, save_model
from distill_live.model.evaluate import (
    EvalOptions,
    code_entropy,
    codebook_usage,
    evaluate,
    frechet_distance,
    limit_silence,
    lowpass,
    mfcc,
    prior_bits_per_code,
    random_phase,
    spectral_metrics,
    unigram_bits_per_code,
)
from distill_live.model.prior import Prior, PriorConfig

SR = 48000


def _signal(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))).astype(
        np.float32
    )


def test_spectral_metrics_identity_and_scaling() -> None:
    y = torch.from_numpy(_signal())
    same = spectral_metrics(y, y, SR)
    assert all(v == pytest.approx(0.0, abs=1e-6) for v in same.values())
    half = spectral_metrics(0.5 * y, y, SR)
    for n in (512, 1024, 2048):
        assert half[f"sc_{n}"] == pytest.approx(0.5, abs=1e-3)
        assert half[f"logmag_{n}"] == pytest.approx(math.log(2), abs=0.02)
    assert half["mel_l1"] == pytest.approx(math.log(2), abs=0.02)
    assert 0.4 < half["mel_l1_80db"] <= math.log(2)  # the floor shrinks quiet differences
    assert half["sc"] == pytest.approx(0.5, abs=1e-3)


def test_reference_degradations() -> None:
    t = np.arange(SR) / SR
    x = (0.3 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 9000 * t)).astype(np.float32)
    low = lowpass(x, SR)
    spec = np.abs(np.fft.rfft(low[SR // 4 : 3 * SR // 4]))
    freqs = np.fft.rfftfreq(SR // 2, 1 / SR)
    assert spec[np.argmin(abs(freqs - 1000))] > 1000 * spec[np.argmin(abs(freqs - 9000))]
    rp = random_phase(x, seed=1)
    assert rp.shape == x.shape and not np.allclose(rp, x, atol=1e-2)
    assert np.std(rp) / np.std(x) == pytest.approx(1.0, rel=1e-3)
    m = spectral_metrics(torch.from_numpy(rp), torch.from_numpy(x), SR)
    assert m["sc"] > 0.1  # phase matters to the STFT at other sizes


def test_codebook_usage_and_entropy_by_hand() -> None:
    codes = [torch.tensor([[0, 0, 1, 1], [3, 3, 3, 3]])]
    u = codebook_usage(codes, 4)
    assert u["usage"] == [0.5, 0.25]
    assert u["perplexity"] == [2.0, 1.0]
    assert code_entropy(torch.tensor([[0, 1, 2, 3]]), 4) == pytest.approx(2.0)
    assert code_entropy(torch.tensor([[[0, 1], [5, 5]]]), 8) == pytest.approx(0.5)


def test_unigram_bits_by_hand() -> None:
    fit = [torch.tensor([[0, 0, 0, 1]])]
    test = [torch.tensor([[0, 1]])]
    p0, p1 = 3.5 / 5, 1.5 / 5  # counts + 0.5 smoothing
    expected = (-math.log2(p0) - math.log2(p1)) / 2
    per: list[float] = []
    assert unigram_bits_per_code(fit, test, 2, per_codebook=per) == pytest.approx(expected)
    assert per == [pytest.approx(expected, abs=1e-3)]


def test_chunked_prior_bits_equal_a_whole_forward() -> None:
    cfg = PriorConfig.tiny(n_codebooks=2, codebook_size=16)
    torch.manual_seed(0)
    prior = Prior(cfg).eval()
    seq = torch.randint(0, 16, (2, 90))
    with torch.no_grad():
        logits = prior(seq[None])
        lp = torch.log_softmax(logits, -1).gather(-1, seq[None, ..., None])[..., 0]
    expected = float(-lp.mean()) / math.log(2)
    for chunk in (7, 20, 512):
        per: list[float] = []
        bits, n = prior_bits_per_code(prior, [seq, seq[:, :5]], chunk=chunk, per_codebook=per)
        assert len(per) == 2 and sum(per) / 2 == pytest.approx(bits, abs=2e-3)
        # the short sequence's bits, from its own forward
        with torch.no_grad():
            l2 = torch.log_softmax(prior(seq[None, :, :5]), -1).gather(-1, seq[None, :, :5, None])
        total = expected * seq.numel() + float(-l2.sum()) / math.log(2)
        assert n == seq.numel() + 10
        assert bits == pytest.approx(total / n, rel=1e-5), chunk


def test_limit_silence_shortens_long_silences() -> None:
    hop = 4
    audio = np.concatenate([np.ones(2 * hop), np.zeros(5 * hop), np.ones(hop)]).astype(np.float32)
    codes = torch.arange(8)[None]
    assert limit_silence(codes, audio, hop, 2).tolist() == [[0, 1, 2, 3, 7]]


def test_frechet_distance() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 5))
    b = rng.standard_normal((20000, 5)) + 2.0
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(5 * 4.0, rel=0.05)
    assert frechet_distance(a, 3 * rng.standard_normal((20000, 5)), diagonal=True) == pytest.approx(
        5 * 4.0, rel=0.05
    )  # (3 - 1)^2 per dim


def test_mfcc_shape_and_loudness() -> None:
    x = _signal(1.0)
    f = mfcc(x, SR)
    assert f.shape == (SR // 512 + 1, 20)
    assert mfcc(0.1 * x, SR)[:, 0].mean() < f[:, 0].mean()


@pytest.fixture
def data_dir(make_audio: Callable[..., Path], tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    for i in range(8):
        kind = ("oneshots", "sine", "noise")[i % 3]
        make_audio(
            f"f{i}.wav",
            seconds=2.0,
            kind=kind,
            freq=220.0 * (1 + i),
            seed=i,
            amplitude=0.3,
            folder=folder,
        )
    return folder


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
    assert r["checks"]["frechet_median_within_1.5x_real_median"] == (
        fd["generated_median"] <= 1.5 * fd["real_excerpt_median"] + 1e-6
    )
    assert len(r["prior"]["bits_per_codebook"]) == model.n_codebooks
    assert r["generation"]["generated_seconds"] == pytest.approx(3.0, abs=0.01)
    t = r["temperature"]
    assert set(t["code_entropy_bits"]) == {"0.3", "1", "1.8"}
    assert t["top_k_1_equals_greedy"] and t["top_p_0_equals_greedy"] and t["same_seed_identical"]
    assert len(t["rms_ratio_0.5_to_1_each"]) == 3
    assert t["rms_ratio_0.5_to_1_each"][0] == pytest.approx(t["rms_ratio_0.5_to_1"], abs=1e-4)
    assert all(isinstance(v, bool) for v in r["checks"].values())


def test_eval_command(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    path = save_model(build_model(tiny=True), tmp_path / "tiny.distill")
    args = [
        "eval",
        str(path),
        str(data_dir),
        "--generate-seconds",
        "2",
        "--temperature-seconds",
        "1",
        "--split",
        "all",
        "--threads",
        "1",
    ]
    assert main([*args, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["data"]["split"] == "all" and r["data"]["files"] == 8
    assert r["prior"]["unigram_fitted_on"].startswith("the evaluated codes")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "lowpass_4k" in out and "bits/code" in out and "Fréchet" in out
    assert "codec_unquantised" in out and "per file" in out


def test_eval_command_on_a_bad_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = save_model(build_model(tiny=True), tmp_path / "tiny.distill")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["eval", str(path), str(empty)]) == 1
    assert "no usable audio" in capsys.readouterr().err


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
