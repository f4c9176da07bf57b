"""Switching models: an equal-power crossfade between two unrelated streams."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from distill_live.engine.stream import Stream
from distill_live.model import build_model


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def test_switch_model_crossfades_with_equal_power(tiny_model: Any) -> None:
    torch.manual_seed(99)
    other = build_model(tiny=True)
    s = Stream(tiny_model, channels=1)
    before = np.concatenate([s.produce() for _ in range(40)])[:, 0]
    s.switch_model(other, fade_s=0.25)
    fade_len = int(0.25 * 48000)
    during = []
    n = 0
    while n < fade_len:
        during.append(s.produce())
        n += during[-1].shape[0]
    assert s.fade is None  # finished: the old generator is gone
    fade = np.concatenate(during)[:fade_len, 0]
    after = np.concatenate([s.produce() for _ in range(40)])[:, 0]
    ref_old = _rms(before)
    ref_new = _rms(after)
    # two unrelated streams: powers add, cos^2 + sin^2 = 1, so the level stays between them
    lo, hi = min(ref_old, ref_new), max(ref_old, ref_new)
    for part in np.array_split(fade, 5):
        assert 0.6 * lo < _rms(part) < 1.5 * hi
    # after the fade it is the new model's stream: same as the new model from scratch
    fresh = Stream(other, channels=1)
    ref = np.concatenate([fresh.produce() for _ in range(80)])[:, 0]
    k = n  # the new stream started with the first chunk of the fade
    np.testing.assert_allclose(
        after[-2000:], ref[k + len(after) - 2000 : k + len(after)], atol=1e-3
    )
