"""Helpers for tests and benchmarks only; nothing the instrument runs imports this module.

Seams: how detectable chunk boundaries are in a rendered stream.

Statistics, each computed at every chunk boundary *b* (in the output, shifted by the post
chain's delay) and at control positions *b + half a chunk* (code frame boundaries too, so
both sets see the same decoder structure):

* **step**: ``|x[b] - x[b-1]|`` divided by the RMS of the sample differences in the
  surrounding 256 samples (a click or a jump);
* **level**: log of the RMS in ``b ± 16`` over the RMS in ``b ± 256`` (a dip or bump of the
  envelope where two decodes meet);
* **flux**: spectral flux between the 64 samples before and after ``b`` (Hann windows),
  normalised by their magnitudes (a change of timbre at the seam).

:func:`seam_p_values` returns, per statistic, the p-value of a two-sample
Kolmogorov-Smirnov test of boundary values against control values: a small p-value means
the boundaries can be told apart from the rest of the signal.

It may import numpy and scipy; nothing from distill_live (so a test can import it without the
engine, and the engine never depends on it).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import ks_2samp

__all__ = ["seam_p_values", "seam_p_values_at"]


def seam_p_values(x: np.ndarray, chunk: int, offset: int) -> dict[str, float]:
    """``{"step": p, "level": p, "flux": p}`` for mono ``x`` with boundaries every ``chunk``
    samples starting at ``offset`` (controls half a chunk later)."""
    n = (len(x) - 2 * chunk) // chunk
    b = offset + chunk * np.arange(2, n)
    return seam_p_values_at(x, b, chunk // 2)


def seam_p_values_at(x: np.ndarray, boundaries: np.ndarray, shift: int) -> dict[str, float]:
    """The same statistics at given ``boundaries`` against controls ``shift`` samples later."""
    x = x.astype(np.float64)
    d = np.abs(np.diff(x))
    b = np.asarray(boundaries, dtype=np.int64)
    b = b[(b >= 512) & (b + shift + 512 < len(x))]
    o = b + shift

    def step(pos: np.ndarray) -> np.ndarray:
        loc = np.array([np.sqrt(np.mean(d[p - 128 : p + 128] ** 2)) for p in pos])
        return d[pos - 1] / (loc + 1e-12)

    def level(pos: np.ndarray) -> np.ndarray:
        near = np.array([np.sqrt(np.mean(x[p - 16 : p + 16] ** 2)) for p in pos])
        wide = np.array([np.sqrt(np.mean(x[p - 256 : p + 256] ** 2)) for p in pos])
        return np.log((near + 1e-12) / (wide + 1e-12))

    def flux(pos: np.ndarray, m: int = 64) -> np.ndarray:
        w = np.hanning(m)
        a = np.abs(np.fft.rfft(np.stack([w * x[p - m : p] for p in pos]), axis=1))
        c = np.abs(np.fft.rfft(np.stack([w * x[p : p + m] for p in pos]), axis=1))
        return np.linalg.norm(c - a, axis=1) / (
            np.linalg.norm(a, axis=1) + np.linalg.norm(c, axis=1) + 1e-12
        )

    return {f.__name__: float(ks_2samp(f(b), f(o)).pvalue) for f in (step, level, flux)}
