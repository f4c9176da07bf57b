"""Post-processing of the decoded stream: stereo, gain, DC blocking, resampling, limiting.

Everything here is a small stateful block processor whose state can be copied
(:meth:`snapshot`) and put back (:meth:`restore`), so that the generator can roll the
stream back to a chunk boundary and regenerate it bit for bit.

Chain (:class:`PostChain`), per chunk of decoded audio at the model rate (48 kHz)::

    DC blocker → stereo (mono | mid-side | dual-seed) → gain (ramped) → resampler → limiter

The limiter runs last, at the output rate, so resampling overshoot cannot clip either.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from scipy.ndimage import minimum_filter1d
from scipy.signal import firwin, lfilter, upfirdn

__all__ = [
    "STEREO_MODES",
    "streams_for_mode",
    "DCBlocker",
    "Decorrelator",
    "Resampler",
    "Limiter",
    "PostChain",
    "CEILING",
]

#: Stereo modes: mono (one stream), mid-side (one stream, side from an all-pass
#: decorrelator scaled by ``width``), dual-seed (two streams, seed and seed+1).
STEREO_MODES = ("mono", "mid-side", "dual-seed")

#: Peak level the limiter holds the output under (-0.1 dBFS).
CEILING = 10 ** (-0.1 / 20)

#: Side level of mid-side mode at width 1 (relative to the mid).
SIDE_LEVEL = 0.5


def streams_for_mode(stereo: str) -> int:
    """How many generated streams a stereo mode needs (dual-seed: two)."""
    if stereo not in STEREO_MODES:
        from ..errors import ControlError

        raise ControlError(f"stereo mode must be one of {', '.join(STEREO_MODES)}, got {stereo!r}")
    return 2 if stereo == "dual-seed" else 1


class DCBlocker:
    """One-pole DC blocker ``y[n] = x[n] - x[n-1] + r * y[n-1]`` (about 4 Hz at 48 kHz)."""

    def __init__(self, channels: int, samplerate: int, cutoff_hz: float = 4.0) -> None:
        self.r = math.exp(-2 * math.pi * cutoff_hz / samplerate)
        self.b = np.array([1.0, -1.0])
        self.a = np.array([1.0, -self.r])
        self.zi = np.zeros((channels, 1))

    def process(self, x: np.ndarray) -> np.ndarray:  # (C, n) → (C, n) float64
        y, self.zi = lfilter(self.b, self.a, x, axis=1, zi=self.zi)
        return y

    def snapshot(self) -> Any:
        return self.zi.copy()

    def restore(self, snap: Any) -> None:
        self.zi = snap.copy()


class Decorrelator:
    """A cascade of Schroeder all-passes: flat magnitude, scrambled phase (the side signal)."""

    DELAYS = (113, 337, 617)  # samples at 48 kHz, mutually prime
    G = 0.6

    def __init__(self) -> None:
        self.xh = [np.zeros(d) for d in self.DELAYS]
        self.yh = [np.zeros(d) for d in self.DELAYS]

    def process(self, x: np.ndarray) -> np.ndarray:  # (n,) → (n,)
        g = self.G
        for s, d in enumerate(self.DELAYS):
            n = x.shape[0]
            xs = np.concatenate([self.xh[s], x])
            ys = np.concatenate([self.yh[s], np.zeros(n)])
            for start in range(0, n, d):
                stop = min(start + d, n)
                ys[d + start : d + stop] = (
                    -g * xs[d + start : d + stop] + xs[start:stop] + g * ys[start:stop]
                )
            self.xh[s] = xs[-d:].copy()
            self.yh[s] = ys[-d:].copy()
            x = ys[d:]
        return x

    def snapshot(self) -> Any:
        return ([a.copy() for a in self.xh], [a.copy() for a in self.yh])

    def restore(self, snap: Any) -> None:
        self.xh = [a.copy() for a in snap[0]]
        self.yh = [a.copy() for a in snap[1]]


class Resampler:
    """Streaming polyphase resampler by the rational factor ``out_rate / in_rate``.

    A Kaiser-windowed sinc of ``taps`` input samples per output sample, cut off at 91 % of
    the lower Nyquist frequency (anti-aliasing when going down). Its state is the last
    ``taps`` input samples and two counters, so it can be snapshotted. Identity at equal rates.
    """

    def __init__(self, in_rate: int, out_rate: int, channels: int, taps: int = 64) -> None:
        ratio = Fraction(int(out_rate), int(in_rate))
        self.up, self.down = ratio.numerator, ratio.denominator
        self.identity = self.up == self.down == 1
        self.taps = taps
        self.channels = channels
        if not self.identity:
            h = firwin(taps * self.up, 0.91 / max(self.up, self.down), window=("kaiser", 8.6))
            self.h = h * self.up
        self.hist = np.zeros((taps + self.down, channels))
        self.n_in = 0
        self.n_out = 0

    @property
    def delay_in(self) -> float:
        """Group delay in input samples."""
        return 0.0 if self.identity else (self.taps * self.up - 1) / 2 / self.up

    def process(self, x: np.ndarray) -> np.ndarray:  # (n, C) → (m, C) float64
        if self.identity:
            return x
        up, down = self.up, self.down
        n_in = self.n_in + x.shape[0]
        end = -(-n_in * up // down)  # ceil: the outputs whose newest input index < n_in
        # Run upfirdn over history + new input. The history reaches back at least `taps`
        # inputs, to an input index that is a multiple of `down`, so that output k of
        # upfirdn is global output base * up / down + k.
        base = self.n_in - self.taps
        base -= base % down
        keep = self.n_in - base
        xs = np.concatenate([self.hist[self.hist.shape[0] - keep :], x], axis=0)
        y = upfirdn(self.h, xs, up, down, axis=0)
        first = base * up // down
        out = y[self.n_out - first : end - first]
        # keep enough history for the next call (taps + down - 1 at most)
        self.hist = (
            xs[-(self.taps + down) :].copy() if xs.shape[0] >= self.taps + down else xs.copy()
        )
        self.n_in = n_in
        self.n_out = end
        return out

    def snapshot(self) -> Any:
        return (self.hist.copy(), self.n_in, self.n_out)

    def restore(self, snap: Any) -> None:
        self.hist, self.n_in, self.n_out = snap[0].copy(), snap[1], snap[2]


class Limiter:
    """A look-ahead peak limiter that never lets a sample exceed ``ceiling``.

    Needed gain per sample ``g[n] = min(1, ceiling / |x[n]|)`` (over channels); a minimum
    filter over the next ``window`` samples, then a moving average over ``window`` samples,
    gives a smooth gain that is at every sample at most the gain that sample needs (each
    averaged value is a minimum over a span that contains it). Costs ``window - 1`` samples
    of delay; transparent (gain exactly 1) while the signal stays under the ceiling.
    """

    def __init__(
        self, channels: int, samplerate: int, lookahead_ms: float = 2.5, ceiling: float = CEILING
    ) -> None:
        self.w = max(2, int(round(samplerate * lookahead_ms / 1000)))
        self.ceiling = ceiling
        d = self.w - 1
        self.g_tail = np.ones(d)  # needed gains of the last d inputs
        self.env_tail = np.ones(d)  # minimum-filtered gains of the last d outputs-to-be
        self.x_tail = np.zeros((d, channels))  # inputs not yet output (the delay line)

    @property
    def delay(self) -> int:
        return self.w - 1

    def process(self, x: np.ndarray) -> np.ndarray:  # (n, C) → (n, C), delayed by w - 1
        d = self.w - 1
        peak = np.max(np.abs(x), axis=1) if x.shape[0] else np.zeros(0)
        with np.errstate(divide="ignore"):
            need = np.minimum(1.0, self.ceiling / np.maximum(peak, 1e-30))
        g_all = np.concatenate([self.g_tail, need])  # gains for inputs t0-d .. t1-1
        # env[m] = min(g[m .. m + d]) for m = t0-d .. t1-d-1
        # a running minimum in O(n) (scipy's van Herk/Gil-Werman filter), not n x w
        env = minimum_filter1d(g_all, self.w, origin=-(self.w // 2))[: len(g_all) - d]
        env_all = np.concatenate([self.env_tail, env])
        c = np.concatenate([[0.0], np.cumsum(env_all)])
        avg = (c[self.w :] - c[: -self.w]) / self.w  # mean of env[n - d .. n]
        x_all = np.concatenate([self.x_tail, x], axis=0)
        n = x.shape[0]
        y = x_all[:n] * np.minimum(avg, 1.0)[:, None]
        self.g_tail = g_all[-d:].copy()
        self.env_tail = env_all[-d:].copy()
        self.x_tail = x_all[-d:].copy()
        # the bound holds exactly in real arithmetic; guard against the last ulp of rounding
        return np.clip(y, -self.ceiling, self.ceiling)

    def snapshot(self) -> Any:
        return (self.g_tail.copy(), self.env_tail.copy(), self.x_tail.copy())

    def restore(self, snap: Any) -> None:
        self.g_tail, self.env_tail, self.x_tail = (a.copy() for a in snap)


def _db(x: float) -> float:
    return 10 ** (x / 20)


class PostChain:
    """Decoded streams (S, n) at ``in_rate`` → output frames (m, channels) float32."""

    def __init__(
        self,
        stereo: str,
        in_rate: int,
        out_rate: int,
        channels: int,
        gain_db: float = 0.0,
        width: float = 1.0,
    ) -> None:
        self.stereo = stereo
        self.n_streams = streams_for_mode(stereo)
        self.src_channels = 1 if stereo == "mono" else 2
        self.channels = channels
        self.in_rate, self.out_rate = in_rate, out_rate
        self.dc = DCBlocker(self.n_streams, in_rate)
        self.decorr = Decorrelator() if stereo == "mid-side" else None
        self.resampler = Resampler(in_rate, out_rate, self.src_channels)
        self.limiter = Limiter(self.src_channels, out_rate)
        self.ramp = max(1, int(in_rate * 0.01))  # 10 ms parameter ramps
        self.gain = _db(gain_db)
        self.width = float(width)
        self.target_gain = self.gain
        self.target_width = self.width

    def set(self, gain_db: float, width: float) -> None:
        """New targets; reached by a 10 ms linear ramp at the start of the next chunk."""
        self.target_gain = _db(gain_db)
        self.target_width = float(width)

    def _ramp(self, start: float, stop: float, n: int) -> np.ndarray | float:
        if start == stop:
            return start
        r = np.full(n, stop)
        k = min(n, self.ramp)
        r[:k] = start + (stop - start) * (np.arange(1, k + 1) / k)
        return r

    def process(self, streams: np.ndarray) -> np.ndarray:
        x = np.nan_to_num(streams.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        x = self.dc.process(x)  # (S, n)
        n = x.shape[1]
        if self.stereo == "mono":
            y = x[:1]
        elif self.stereo == "mid-side":
            assert self.decorr is not None
            mid = x[0]
            w = self._ramp(self.width, self.target_width, n)
            side = self.decorr.process(mid) * (SIDE_LEVEL * w)
            y = np.stack([mid + side, mid - side])
        else:
            y = x[:2]
        self.width = self.target_width
        y = y * self._ramp(self.gain, self.target_gain, n)
        self.gain = self.target_gain
        y = self.resampler.process(y.T)  # (m, src)
        y = self.limiter.process(y)
        if self.channels == self.src_channels:
            out = y
        elif self.src_channels == 1:
            out = np.repeat(y, self.channels, axis=1)
        elif self.channels == 1:
            out = y.mean(axis=1, keepdims=True)
        else:
            out = np.zeros((y.shape[0], self.channels))
            out[:, :2] = y
        return out.astype(np.float32)

    def snapshot(self) -> Any:
        return (
            self.dc.snapshot(),
            None if self.decorr is None else self.decorr.snapshot(),
            self.resampler.snapshot(),
            self.limiter.snapshot(),
            self.gain,
            self.width,
            self.target_gain,
            self.target_width,
        )

    def restore(self, snap: Any) -> None:
        self.dc.restore(snap[0])
        if self.decorr is not None:
            self.decorr.restore(snap[1])
        self.resampler.restore(snap[2])
        self.limiter.restore(snap[3])
        self.gain, self.width, self.target_gain, self.target_width = snap[4:]

    @property
    def delay_out(self) -> float:
        """Delay of the chain in output frames (resampler group delay + limiter look-ahead)."""
        return self.resampler.delay_in * self.out_rate / self.in_rate + self.limiter.delay
