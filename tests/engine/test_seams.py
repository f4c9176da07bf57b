"""Chunk boundaries must not be detectable in 30 s of rendered audio.

Statistics, each computed at every chunk boundary *b* (in the rendered output, shifted by
the limiter's look-ahead) and at the control positions *b + half a chunk* (which are code
frame boundaries too, so both sets see the same decoder structure):

* **step**: ``|x[b] - x[b-1]|`` divided by the RMS of the sample differences in the
  surrounding 256 samples (a click or a jump);
* **level**: log of the RMS in ``b ± 16`` over the RMS in ``b ± 256`` (a dip or bump of the
  envelope where two decodes meet);
* **flux**: spectral flux between the 64 samples before and after ``b`` (Hann windows),
  normalised by their magnitudes (a change of timbre at the seam).

A seam is *detectable* when a two-sample Kolmogorov-Smirnov test tells the boundary values
from the control values: p < 0.01. The render is deterministic, so the p-values are too.
The version without crossfade and without decoder context (plain chunked decoding) must be
detected, with a p-value below 1e-6.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from distill_live.engine.post import Limiter
from distill_live.engine.render import render_frames
from distill_live.testing import seam_p_values as _p_values
from distill_live.testing import seam_p_values_at

SECONDS = 30


def _render(model: Any, **kw: Any) -> np.ndarray:
    return render_frames(model, 48000 * SECONDS, **kw)[:, 0]


@pytest.mark.slow
def test_seams_are_not_detectable(tiny_model: Any) -> None:
    # two-frame chunks (512 samples with the tiny model's hop): four times the seams of the
    # default ~2048-sample chunk in the same 30 s, so the test has the power to see them
    chunk = 2 * tiny_model.hop
    delay = Limiter(1, 48000).delay
    good = _p_values(_render(tiny_model, chunk_frames=2), chunk, delay)
    assert min(good.values()) > 0.01, good

    naive = _p_values(
        _render(tiny_model, chunk_frames=2, context_frames=0, crossfade=0), chunk, delay
    )
    assert min(naive.values()) < 1e-6, naive  # the statistic does see real seams

    # the crossfade alone does not hide missing context (the level dip stays visible):
    # context is what makes windowed decoding exact, the fade smooths what is left
    fade_only = _p_values(_render(tiny_model, chunk_frames=2, context_frames=0), chunk, delay)
    assert fade_only["level"] < 1e-3, fade_only


def _trained_model() -> Any:
    """The shipped default model (a trained decoder has the structure that clicks reveal);
    DISTILL_LIVE_TEST_MODEL may name another trained model file."""
    import os

    from distill_live.model import DEFAULT_MODEL_PATH, load_model

    path = os.environ.get("DISTILL_LIVE_TEST_MODEL") or DEFAULT_MODEL_PATH
    if not os.path.isfile(path):
        pytest.skip(f"needs a trained model: {path} is not there (yet)")
    return load_model(path)


@pytest.mark.slow
def test_joins_after_control_changes_are_seamless() -> None:
    """Where a change replaces the codes, 60 seed changes in 15 s of a trained model: the joins
    cannot be told from the control positions.

    A windowed (plain) codec decodes the chunk before the join with the old future and the one
    after it with the new one: only the linear crossfade hides the join, and without it the
    joins click. A streaming (pitched) codec's audio depends only on the codes before the
    boundary, so the rollback restores its state and the join is exact with no fade at all:
    ``crossfade=0`` changes nothing. (The shipped default streams; DISTILL_LIVE_TEST_MODEL
    may name a plain trained model, such as the pre-pitch default of git history.)"""
    from distill_live.engine.render import parse_automation

    model = _trained_model()
    auto = parse_automation(
        [{"time_s": 0.25 * i + 0.1, "param": "seed", "value": i + 1} for i in range(58)]
    )
    delay = Limiter(1, 48000).delay

    def joins(**kw: Any) -> tuple[np.ndarray, dict[str, float]]:
        frames: list[int] = []
        x = render_frames(
            model,
            48000 * 15,
            channels=1,
            automation=auto,
            on_change=lambda c: frames.append(c.frame),
            **kw,
        )[:, 0]
        b = np.array(frames) + delay
        return x, seam_p_values_at(x, b, model.hop)

    x_good, good = joins()
    assert min(good.values()) > 0.01, good
    x_bad, bad = joins(crossfade=0)
    if hasattr(model.codec, "decode_step"):  # streamed: exact joins, no fade to take away
        assert np.array_equal(x_good, x_bad)
    else:
        assert bad["step"] < 1e-4, bad
