"""The codec's reconstruction loss: batch and per-item spectral convergence."""

from __future__ import annotations

import torch

from distill_live.model.losses import MultiResolutionSTFTLoss, ReconstructionLoss


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
