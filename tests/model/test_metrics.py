"""The shared measurements: metric functions against hand-computed values, training's
held-out figures as the codec trains, and train's held-out figures equal to eval's."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from distill_live.model.metrics import (
    code_entropy,
    codebook_usage,
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


def test_validation_reports_the_kept_codebooks_like_a_truncated_codec() -> None:
    """The training log's kept_* figures are those of the codec the model ships (pack 2:
    its codes are codebook-major, so the first codebook's sub-frames are a prefix)."""
    import dataclasses

    import numpy as np

    from distill_live.model.codec import Codec, CodecConfig
    from distill_live.model.data import Clip
    from distill_live.model.metrics import codec_validation

    torch.manual_seed(0)
    cfg = dataclasses.replace(CodecConfig.tiny(), hop=512, pack=2)
    codec = Codec(cfg).train()
    rng = np.random.default_rng(0)
    # quiet noise: at this level the untrained decoder's output is as loud as the input, so
    # the spectral convergence depends on what the codes say (louder input makes it ~0.94
    # from either decoder, within 0.1 %)
    clips = [
        Clip(f"c{i}", (0.02 * rng.standard_normal(60 * 512)).astype(np.float32)) for i in range(2)
    ]
    codec(torch.from_numpy(np.stack([c.audio for c in clips])))  # k-means init
    cpu = torch.device("cpu")
    full = codec_validation(codec, clips, cpu, keep=1)
    short = codec_validation(codec.truncated(1), clips, cpu)
    for k in ("sc", "logmag", "mel"):
        assert full[f"kept_{k}"] == pytest.approx(short[k], rel=1e-5)
    assert full["kept_sc"] != pytest.approx(full["sc"], rel=1e-3)
    assert "kept_sc" not in codec_validation(codec, clips, cpu, keep=2)


@pytest.fixture
def data_dir(shots_audio_dir: Path) -> Path:
    return shots_audio_dir


def test_train_heldout_figures_equal_evals(data_dir: Path, tmp_path: Path) -> None:
    """The training summary's held-out codec figures, references and codebook usage are
    eval's rows of the same names on the same held-out files (one definition of each)."""
    from distill_live.model import load_model
    from distill_live.model.evaluate import EvalOptions, evaluate
    from distill_live.model.train import train

    out = tmp_path / "m.distill"
    summary = train(
        data_dir,
        out,
        tiny=True,
        codec_steps=6,
        prior_steps=2,
        progress=False,
        threads=1,
        batch_size=4,
        crop_frames=16,
        prior_frames=32,
        min_seconds=5.0,
    )
    opts = EvalOptions(generate_seconds=1.0, temperature_seconds=1.0, repeats=1)
    r = evaluate(load_model(out), data_dir, opts)
    assert r["data"]["heldout_matches_training"] is True
    codec, refs = summary["heldout_codec"], summary["heldout_references"]
    assert codec and refs
    for short, name in (("sc", "sc"), ("logmag", "logmag"), ("mel", "mel_l1_80db")):
        assert codec[short] == pytest.approx(r["codec"]["codec"][name], abs=1e-6), short
        for row in ("lowpass_4k", "random_phase"):
            assert refs[f"{row}_{short}"] == pytest.approx(r["codec"][row][name], abs=1e-6), row
    assert codec["usage"] == r["codebooks"]["usage"]
    # the random-phase reference keeps the level: its log-mel is close, its phase is not
    assert refs["random_phase_mel"] < refs["random_phase_sc"]
