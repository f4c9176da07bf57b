"""Post-processing: limiter, resampling, stereo modes, DC blocking."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from distill_live.engine.post import CEILING, DCBlocker, Limiter, PostChain, Resampler
from distill_live.engine.render import render_frames
from distill_live.params import ParamValues


def _peak_hz(x: np.ndarray, rate: int) -> float:
    w = np.hanning(len(x))
    spec = np.abs(np.fft.rfft(x * w))
    k = int(np.argmax(spec))
    # parabolic interpolation of the peak bin
    a, b, c = np.log(spec[k - 1 : k + 2] + 1e-30)
    k_frac = k + 0.5 * (a - c) / (a - 2 * b + c)
    return float(k_frac * rate / len(x))


@pytest.mark.parametrize("out_rate", [44100, 96000])
def test_resampler_streaming_keeps_length_and_pitch(out_rate: int) -> None:
    rate, seconds, f0 = 48000, 2.0, 1000.0
    t = np.arange(int(rate * seconds)) / rate
    x = (0.5 * np.sin(2 * np.pi * f0 * t))[:, None]
    rs = Resampler(rate, out_rate, 1)
    sizes = [2048, 512, 1000, 7]  # odd block sizes: the state must carry across
    out, i, k = [], 0, 0
    while i < len(x):
        n = sizes[k % len(sizes)]
        out.append(rs.process(x[i : i + n]))
        i += n
        k += 1
    y = np.concatenate(out)[:, 0]
    assert len(y) == int(np.ceil(len(x) * out_rate / rate))
    assert _peak_hz(y[4000:-4000], out_rate) == pytest.approx(f0, abs=0.5)
    # streaming equals one-shot processing
    once = Resampler(rate, out_rate, 1).process(x)[:, 0]
    np.testing.assert_allclose(y, once, atol=1e-12)
    # amplitude kept in the passband (away from the filter's start-up)
    assert np.max(np.abs(y[4000:-4000])) == pytest.approx(0.5, abs=0.01)


def test_resampler_removes_what_the_lower_rate_cannot_hold() -> None:
    rate = 48000
    t = np.arange(rate) / rate
    x = np.sin(2 * np.pi * 23000 * t)[:, None]  # above 22.05 kHz: would alias to 21.1 kHz
    y = Resampler(rate, 44100, 1).process(x)[2000:-2000, 0]
    assert np.sqrt(np.mean(y**2)) < 0.01  # at least -37 dB


def test_limiter_holds_full_scale_with_hot_gain() -> None:
    rng = np.random.default_rng(0)
    n = 48000
    x = np.concatenate([rng.normal(0, 0.05, n), rng.normal(0, 0.9, n), np.full(100, 1.0)])
    x = x * 10 ** (12 / 20)  # +12 dB
    lim = Limiter(2, 48000)
    stereo = np.stack([x, -0.5 * x], axis=1)
    y = np.concatenate([lim.process(stereo[i : i + 333]) for i in range(0, len(x), 333)])
    assert np.max(np.abs(y)) <= CEILING
    assert np.max(np.abs(y)) > 0.9 * CEILING  # it limits, it does not mute


def test_limiter_gain_is_a_smoothed_running_minimum_whatever_the_blocks() -> None:
    """Reference: the gain each sample needs, a running minimum over the look-ahead window,
    then a moving average over it; block boundaries change nothing."""
    rng = np.random.default_rng(2)
    x = rng.normal(0, 0.6, (6000, 1)) * np.linspace(0.2, 3.0, 6000)[:, None]
    lim = Limiter(1, 48000)
    w, d = lim.w, lim.delay
    need = np.minimum(1.0, CEILING / np.maximum(np.abs(x[:, 0]), 1e-30))
    g = np.concatenate([np.ones(d), need])
    env = np.array([g[m : m + w].min() for m in range(len(need))])
    env = np.concatenate([np.ones(d), env])
    avg = np.array([env[n : n + w].mean() for n in range(len(need))])
    ref = np.concatenate([np.zeros((d, 1)), x])[: len(x)] * np.minimum(avg, 1.0)[:, None]
    whole = Limiter(1, 48000).process(x)
    cuts = [0, 1, 7, 120, 121, 999, 4000, 6000]
    parts = np.concatenate([lim.process(x[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)])
    np.testing.assert_allclose(whole, np.clip(ref, -CEILING, CEILING), atol=1e-12)
    np.testing.assert_allclose(parts, whole, atol=1e-12)


def test_limiter_is_transparent_below_the_ceiling() -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(-0.8, 0.8, (5000, 1))
    lim = Limiter(1, 48000)
    y = np.concatenate([lim.process(x[:2000]), lim.process(x[2000:])])
    d = lim.delay
    np.testing.assert_array_equal(y[d:], x[:-d])


def test_hot_gain_through_the_engine_never_passes_full_scale(tiny_model: Any) -> None:
    a = render_frames(
        tiny_model, 48000, params=ParamValues(gain=12.0, temperature=2.0), stereo="mid-side"
    )
    b = render_frames(tiny_model, 48000, params=ParamValues(gain=12.0), samplerate=96000)
    for y in (a, b):
        assert np.max(np.abs(y)) <= CEILING
    # the untrained model is quiet: without the gain the limiter does nothing at all
    quiet = render_frames(tiny_model, 48000)
    assert np.max(np.abs(quiet)) < 0.5


def test_dc_blocker_removes_offset() -> None:
    dc = DCBlocker(1, 48000)
    x = np.full((1, 48000), 0.3)
    y = np.concatenate([dc.process(x[:, i : i + 1000]) for i in range(0, 48000, 1000)], axis=1)
    assert abs(y[0, -4800:].mean()) < 1e-3


def test_mid_side_keeps_the_mid(tiny_model: Any) -> None:
    mono = render_frames(tiny_model, 24000, stereo="mono")[:, 0]
    for width in (0.0, 1.0, 2.0):
        ms = render_frames(tiny_model, 24000, stereo="mid-side", params=ParamValues(width=width))
        np.testing.assert_allclose((ms[:, 0] + ms[:, 1]) / 2, mono, atol=1e-6)
        side = (ms[:, 0] - ms[:, 1]) / 2
        if width == 0.0:
            assert np.max(np.abs(side)) < 1e-7
        else:
            assert np.sqrt(np.mean(side**2)) > 0.2 * width * np.sqrt(np.mean(mono**2))


def test_dual_seed_channels_differ_and_follow_their_seeds(tiny_model: Any) -> None:
    dual = render_frames(tiny_model, 24000, stereo="dual-seed", params=ParamValues(seed=7))
    left = render_frames(tiny_model, 24000, params=ParamValues(seed=7))[:, 0]
    right = render_frames(tiny_model, 24000, params=ParamValues(seed=8))[:, 0]
    rms = float(np.sqrt(np.mean(dual[:, 0] ** 2)))
    assert np.sqrt(np.mean((dual[:, 0] - dual[:, 1]) ** 2)) > 0.3 * rms
    np.testing.assert_allclose(dual[:, 0], left, atol=1e-5)
    np.testing.assert_allclose(dual[:, 1], right, atol=1e-5)


def test_post_chain_maps_channels() -> None:
    x = np.random.default_rng(2).normal(0, 0.1, (1, 4096)).astype(np.float32)
    assert PostChain("mono", 48000, 48000, 4).process(x).shape == (4096, 4)
    two = np.concatenate([x, -x])
    out = PostChain("dual-seed", 48000, 48000, 1).process(two)
    assert out.shape == (4096, 1)
    assert np.max(np.abs(out)) < 1e-6  # (x + -x) / 2
