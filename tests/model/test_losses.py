"""The codec's reconstruction loss: batch and per-item spectral convergence, loudness, the
pitched decoder's harmonic amplitudes."""

from __future__ import annotations

import pytest
import torch

from distill_live.model.losses import (
    LOUDNESS_FLOOR,
    MultiResolutionSTFTLoss,
    ReconstructionLoss,
    harmonic_item_loss,
    harmonic_loss,
    loudness_l1,
)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Three crops: a loud one copied exactly, a quiet one (-40 dBFS) copied as noise of the
    same level, and a silent one copied as quiet noise."""
    g = torch.Generator().manual_seed(0)
    t = torch.arange(8192) / 48000
    loud = 0.5 * torch.sin(2 * torch.pi * 440 * t)
    quiet = 0.01 * torch.sin(2 * torch.pi * 660 * t)
    y = torch.stack([loud, quiet, torch.zeros_like(t)])
    y_hat = y.clone()
    y_hat[1] = 0.01 * torch.randn(8192, generator=g)
    y_hat[2] = 1e-4 * torch.randn(8192, generator=g)
    return y_hat, y


def test_per_item_spectral_convergence_counts_a_quiet_crop_as_much_as_a_loud_one() -> None:
    y_hat, y = _batch()
    sc, _, sc_item = MultiResolutionSTFTLoss()(y_hat, y)
    # the loud crop rules the batch's ratio; per item, the quiet crop's error is half of it
    assert float(sc) < 0.05
    alone, _, _ = MultiResolutionSTFTLoss()(y_hat[1:2], y[1:2])
    assert abs(float(sc_item) - float(alone) / 2) < 1e-4  # the silent crop is left out
    assert float(alone) > 1.0


def test_per_item_weight_enters_the_total_and_its_gradient() -> None:
    y_hat, y = _batch()
    y_hat.requires_grad_(True)
    commit = torch.zeros(())
    base, parts = ReconstructionLoss()(y_hat, y, commit)
    more, more_parts = ReconstructionLoss(sc_item_weight=2.0)(y_hat, y, commit)
    assert abs(float((more - base).detach()) - 2.0 * parts["sc_item"]) < 1e-4
    more.backward()
    assert y_hat.grad is not None and float(y_hat.grad[1].abs().sum()) > 0


def test_loudness_counts_a_tail_too_loud_as_much_as_one_too_quiet() -> None:
    t = torch.arange(48000) / 48000
    decay = torch.sin(2 * torch.pi * 220 * t) * torch.exp(-4 * t)  # 1 s from 0 dB to -35 dB
    y = decay[None]
    loud, quiet = loudness_l1(3 * y, y), loudness_l1(y / 3, y)
    # far above the floor every frame is off by a factor of 3: log 3 either way
    assert abs(float(loud) - float(quiet)) < 0.01
    assert abs(float(loud) - torch.log(torch.tensor(3.0)).item()) < 0.02
    assert float(loudness_l1(y, y)) == 0.0
    # under the floor a difference hardly counts
    tiny = torch.full((1, 4096), LOUDNESS_FLOOR / 100)
    assert float(loudness_l1(3 * tiny, tiny)) < 0.03


def test_loudness_weight_enters_the_total() -> None:
    y_hat, y = _batch()
    commit = torch.zeros(())
    base, parts = ReconstructionLoss()(y_hat, y, commit)
    assert "loudness" not in parts
    more, more_parts = ReconstructionLoss(loudness_weight=1.5)(2 * y_hat, 2 * y, commit)
    same, _ = ReconstructionLoss()(2 * y_hat, 2 * y, commit)
    assert more_parts["loudness"] > 0
    assert abs(float(more - same) - 1.5 * more_parts["loudness"]) < 1e-4


def test_harmonic_term_counts_masked_amplitudes_only_and_enters_the_total() -> None:
    g = torch.Generator().manual_seed(1)
    target = torch.rand(2, 8, 10, generator=g) * 0.3
    mask = torch.ones(2, 8, 10, dtype=torch.bool)
    mask[1, :, 5:] = False  # unpitched frames
    assert float(harmonic_loss(target.clone(), target, mask)) == 0.0
    off = target.clone()
    off[1, :, 5:] += 1.0  # where the mask is false: free
    assert float(harmonic_loss(off, target, mask)) == 0.0
    # twice too loud: relative L2 of 1, plus the mean log distance
    loud = harmonic_loss(2 * target, target, mask)
    assert 1.0 < float(loud) < 1.0 + float(torch.log(torch.tensor(2.0)))
    amps = (2 * target).requires_grad_(True)
    y_hat, y = _batch()
    commit = torch.zeros(())
    base, _ = ReconstructionLoss(harmonic_weight=0.0)(y_hat, y, commit, (amps, target, mask))
    total, parts = ReconstructionLoss(harmonic_weight=0.5)(y_hat, y, commit, (amps, target, mask))
    assert abs(float((total - base).detach()) - 0.5 * parts["harm"]) < 1e-4
    total.backward()
    assert amps.grad is not None and float(amps.grad[mask].abs().min()) > 0


def test_per_item_harmonic_term_weighs_each_crop_alike_and_its_loud_partials_most() -> None:
    target = torch.zeros(2, 4, 6)
    target[0, 0], target[0, 3] = 0.5, 0.01  # a loud crop: a strong partial and a weak one
    target[1, 0] = 0.005  # a quiet one
    mask = torch.ones(2, 4, 6, dtype=torch.bool)
    assert float(harmonic_item_loss(target.clone(), target, mask)) == 0.0
    # each crop's strong partial 10 % low: 0.1 in each crop, so 0.1 however quiet the crop
    low = target.clone()
    low[:, 0] *= 0.9
    assert float(harmonic_item_loss(low, target, mask)) == pytest.approx(0.1, rel=1e-3)
    # the weak partial 90 % low costs the loud crop far less than its strong one 10 % low
    weak = target.clone()
    weak[0, 3] *= 0.1
    loud_only = torch.stack([low[0], target[1]])
    assert float(harmonic_item_loss(weak, target, mask)) < 0.5 * float(
        harmonic_item_loss(loud_only, target, mask)
    )
    # a crop with nothing masked in does not count
    mask[1] = False
    assert float(harmonic_item_loss(low, target, mask)) == pytest.approx(0.1, rel=1e-3)
    amps = low.clone().requires_grad_(True)
    y_hat, y = _batch()
    loss_fn = ReconstructionLoss(harmonic_weight=0.0, harmonic_item_weight=2.0)
    total, parts = loss_fn(y_hat, y, torch.zeros(()), (amps, target, mask))
    base, _ = ReconstructionLoss(harmonic_weight=0.0)(y_hat, y, torch.zeros(()))
    assert abs(float((total - base).detach()) - 2.0 * parts["harm_item"]) < 1e-4
    total.backward()
    assert amps.grad is not None and float(amps.grad[0, 0].abs().min()) > 0
