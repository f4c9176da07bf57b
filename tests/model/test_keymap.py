"""The key table: how well a pitched model holds each key (model/keymap.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch

from distill_live.model import build_model
from distill_live.model.codec import CodecConfig
from distill_live.model.keymap import key_quality


@pytest.fixture(scope="module")
def pitched_model() -> Any:
    torch.manual_seed(99)
    cfg = dataclasses.replace(CodecConfig.tiny(), pitch=True, n_codebooks=3, harmonics=8)
    return build_model(cfg, tiny=True)


def test_keys_the_oscillators_play_score_high_and_pitchless_noise_scores_low(
    pitched_model: Any,
) -> None:
    grid = pitched_model.codec.grid
    table = key_quality(pitched_model, seconds=1.0, seeds=[0])
    assert table["low_key"] == int(grid.low_note) and table["tracker"] == "world"
    assert len(table["quality"]) == int(grid.high_note) - int(grid.low_note) + 1
    # an untrained pitched decoder plays the coded pitch with its oscillators
    assert min(table["quality"]) > 0.8, table
    silenced = build_model(pitched_model.codec.config, tiny=True)
    silenced.load_state_dict(pitched_model.state_dict())
    harm_bias = dict(silenced.named_parameters())["codec.decoder.harm_head.bias"]
    with torch.no_grad():  # no partials: only the residual branch's noise is left
        harm_bias.fill_(-30.0)
    assert max(key_quality(silenced, seconds=1.0, seeds=[0], keys=[34])["quality"]) < 0.3


def test_key_quality_refuses_what_it_cannot_measure(pitched_model: Any) -> None:
    with pytest.raises(ValueError, match="pitched model"):
        key_quality(build_model(tiny=True))
    with pytest.raises(ValueError, match="consecutive"):
        key_quality(pitched_model, keys=[33, 35])
    with pytest.raises(ValueError, match="seconds"):
        key_quality(pitched_model, seconds=0.0)
