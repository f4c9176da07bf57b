"""A tiny pitched codec trained a few steps on synthetic tones starts to follow their pitch."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from distill_live.model.codec import CodecConfig
from distill_live.model.losses import ReconstructionLoss
from distill_live.model.metrics import raw_pitch_accuracy, spectral_metrics
from distill_live.model.pitched import PitchedCodec
from distill_live.model.roundtrip import round_trip

SR = 48000


def _phrase(rng: np.random.Generator, seconds: float = 0.75) -> np.ndarray:
    """Three notes of a harmonic tone (six partials, falling amplitudes) at random pitches."""
    out = []
    for _ in range(3):
        f0 = 440.0 * 2 ** ((rng.integers(50, 76) - 69) / 12)
        t = np.arange(int(seconds / 3 * SR)) / SR
        tone = sum(
            0.25 / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) for k in range(1, 7)
        )
        out.append(tone * np.minimum(1.0, np.minimum(t, t[::-1]) * 50))
    return np.concatenate(out).astype(np.float32)


def test_a_tiny_pitched_codec_starts_to_follow_the_pitch_of_tones() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cfg = dataclasses.replace(
        CodecConfig.tiny(),
        pitch=True,
        n_codebooks=3,
        codebook_size=32,
        pitch_low_note=48.0,
        pitch_step_cents=100.0,
        harmonics=12,
    )
    codec = PitchedCodec(cfg)
    test = [_phrase(np.random.default_rng(100 + i)) for i in range(3)]

    def measure() -> tuple[float, float]:
        """(raw pitch accuracy, spectral convergence) of the test phrases' round trips."""
        codec.eval()
        hits = frames = 0
        sc = 0.0
        for a in test:
            copy = round_trip(codec, a)
            h, n = raw_pitch_accuracy(a, copy, SR)
            hits, frames = hits + h, frames + n
            sc += spectral_metrics(torch.from_numpy(copy), torch.from_numpy(a), SR)["sc"]
        codec.train()
        return hits / frames, sc / len(test)

    rpa_before, sc_before = measure()
    loss_fn = ReconstructionLoss(SR)
    opt = torch.optim.AdamW(codec.parameters(), lr=2e-3)
    for _ in range(40):
        x = torch.from_numpy(np.stack([_phrase(rng, 0.5) for _ in range(3)]))
        out = codec(x)
        loss, _ = loss_fn(out.audio, x[:, : out.audio.shape[1]], out.commit_loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    rpa_after, sc_after = measure()
    # the oscillators are given the coded f0, so even the untrained decoder's partials sit
    # on the notes; what training must do is render the tones with them (the spectral error
    # falls) without losing the pitch
    assert sc_after < 0.85 * sc_before, (sc_before, sc_after)
    assert rpa_after >= 0.9, (rpa_before, rpa_after)
