"""Pitch: an f0 track with voicing for every code frame, and the pitch codebook's grid.

The f0 comes from WORLD (``pyworld``: DIO, refined by StoneMask), a well-kept estimator under
a permissive licence that needs no torch. Audio is tracked at 16 kHz (pitch needs nothing
above 8 kHz), several f0 estimates per code frame; a code frame is pitched when at least half
of its estimates are, and its f0 is their median (a note's attack or release inside a frame
does not drag the frame's pitch).

The pitch codebook is a fixed grid, not a learned one: code 0 means "no clear pitch", code
``j >= 1`` means MIDI note ``low_note + (j - 1) * step_cents / 100``. With the default 25-cent
step any f0 in range is held within 12.5 cents, well inside the 50 cents that count as the
right note, and a keyboard can name the codes of a note directly (:meth:`PitchGrid.note_codes`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "TRACK_RATE",
    "PitchGrid",
    "f0_track",
    "frame_f0",
    "hz_to_midi",
    "midi_to_hz",
]

TRACK_RATE = 16000  # f0 tracking rate: pitch needs only the band below 8 kHz


def hz_to_midi(hz: np.ndarray | float) -> np.ndarray:
    """MIDI note numbers (69 = A4 = 440 Hz) of frequencies in Hz (> 0)."""
    return 69.0 + 12.0 * np.log2(np.asarray(hz, dtype=np.float64) / 440.0)


def midi_to_hz(note: np.ndarray | float) -> np.ndarray:
    """Frequencies in Hz of (fractional) MIDI note numbers."""
    return 440.0 * 2.0 ** ((np.asarray(note, dtype=np.float64) - 69.0) / 12.0)


@dataclass(frozen=True)
class PitchGrid:
    """The pitch codebook: code 0 unpitched, codes 1.. a grid of ``step_cents`` from ``low_note``.

    The default covers MIDI 33 (A1, 55 Hz) to 96.5 (about 2.1 kHz) in 255 steps of 25 cents,
    so grid and "unpitched" fit a codebook of 256 entries.
    """

    low_note: float = 33.0
    step_cents: float = 25.0
    n_pitches: int = 255

    def __post_init__(self) -> None:
        if not 0 < self.step_cents <= 100:
            raise ValueError(f"step_cents must be in 0 < step <= 100 cents, got {self.step_cents}")
        if self.n_pitches < 1:
            raise ValueError(f"n_pitches must be at least 1, got {self.n_pitches}")

    @property
    def size(self) -> int:
        """Codes in the codebook: the pitches plus the unpitched code."""
        return self.n_pitches + 1

    @property
    def high_note(self) -> float:
        return self.low_note + (self.n_pitches - 1) * self.step_cents / 100.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PitchGrid:
        return cls(**{k: d[k] for k in ("low_note", "step_cents", "n_pitches") if k in d})

    def encode(self, f0: np.ndarray) -> np.ndarray:
        """Codes (int64) of f0 values in Hz; 0 (or less, or NaN) → the unpitched code 0.

        Pitches outside the grid are held at its nearest end (an octave error there would be
        worse than a clamp).
        """
        f0 = np.asarray(f0, dtype=np.float64)
        pitched = np.isfinite(f0) & (f0 > 0)
        note = hz_to_midi(np.where(pitched, f0, 440.0))
        step = np.rint((note - self.low_note) * 100.0 / self.step_cents)
        codes = 1 + np.clip(step, 0, self.n_pitches - 1).astype(np.int64)
        return np.where(pitched, codes, 0)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """f0 in Hz of codes; 0 where the code is the unpitched code 0."""
        codes = np.asarray(codes)
        if codes.size and (codes.min() < 0 or codes.max() >= self.size):
            bad = codes[(codes < 0) | (codes >= self.size)].flat[0]
            raise ValueError(f"pitch code {bad} is outside the grid's 0..{self.size - 1}")
        note = self.low_note + (codes - 1) * self.step_cents / 100.0
        return np.where(codes > 0, midi_to_hz(note), 0.0)

    def note_codes(self, note: float, cents: float = 50.0) -> np.ndarray:
        """The codes within ``cents`` of MIDI ``note`` (what a held key allows)."""
        grid = self.low_note + np.arange(self.n_pitches) * self.step_cents / 100.0
        near = np.nonzero(np.abs(grid - note) * 100.0 <= cents + 1e-9)[0]
        return near + 1


def f0_track(
    audio: np.ndarray, sample_rate: int, period_s: float, f0_floor: float = 50.0
) -> np.ndarray:
    """f0 in Hz every ``period_s`` seconds (0 = unpitched), from DIO + StoneMask at 16 kHz.

    audio: (T,) mono float. Returns (ceil(T / (period_s * sample_rate)) + 1,) float64, entry
    i at time ``i * period_s``.
    """
    import pyworld  # imported here: only tracking needs it, not playing a model

    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"f0_track takes mono audio (T,), got shape {x.shape}")
    if sample_rate != TRACK_RATE:
        from scipy.signal import resample_poly

        g = math.gcd(int(sample_rate), TRACK_RATE)
        x = resample_poly(x, TRACK_RATE // g, int(sample_rate) // g)
    x = np.ascontiguousarray(x)
    period_ms = 1000.0 * period_s
    f0, t = pyworld.dio(x, TRACK_RATE, f0_floor=f0_floor, f0_ceil=2100.0, frame_period=period_ms)
    f0 = pyworld.stonemask(x, f0, t, TRACK_RATE)
    return np.asarray(f0, dtype=np.float64)


def frame_f0(audio: np.ndarray, sample_rate: int, hop: int, per_frame: int = 4) -> np.ndarray:
    """One f0 per code frame of ``hop`` samples: (T // hop,) float64, 0 where unpitched.

    ``per_frame`` estimates fall in each frame (at its sub-frame centres); the frame is
    pitched when at least half are, and takes the median of the pitched ones.
    """
    n_frames = len(audio) // hop
    if n_frames == 0:
        return np.zeros(0)
    period = hop / per_frame / sample_rate
    f0 = f0_track(audio, sample_rate, period)
    # estimate k sits at time k * period; sub-frame s of frame i is centred at
    # (i * per_frame + s + 0.5) * period: take the estimates nearest those centres
    idx = np.arange(n_frames * per_frame)
    near = np.minimum(np.rint(idx + 0.5).astype(np.int64), len(f0) - 1)
    sub = f0[near].reshape(n_frames, per_frame)
    pitched = sub > 0
    enough = pitched.sum(axis=1) * 2 >= per_frame
    masked = np.where(pitched, sub, np.nan)
    with warnings.catch_warnings():  # rows with no pitched estimate give NaN, masked below
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.where(enough[:, None], masked, 1.0), axis=1)
    return np.where(enough, np.nan_to_num(med), 0.0)
