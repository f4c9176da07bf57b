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
    "TRACKERS",
    "PitchGrid",
    "PitchTrack",
    "GATE_WINDOW_S",
    "f0_track",
    "frame_f0",
    "gate",
    "track",
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

    def steps(self, semitones: np.ndarray | float) -> np.ndarray:
        """The nearest whole number of grid steps (int64) to each interval in semitones."""
        cents = np.asarray(semitones, dtype=np.float64) * 100.0
        return np.rint(cents / self.step_cents).astype(np.int64)

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


#: the f0 trackers a pitched codec can take its pitch codes from
TRACKERS = ("world", "pyin")
PYIN_HOP = 256  # pYIN's hop at TRACK_RATE: 16 ms, frames of 1024 (64 ms)
WORLD_PERIOD_S = 0.005
#: the audio around each estimate whose RMS the level gate reads (one code frame at 48 kHz)
GATE_WINDOW_S = 1024 / 48000


def _at_track_rate(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"pitch tracking takes mono audio (T,), got shape {x.shape}")
    if sample_rate != TRACK_RATE:
        from scipy.signal import resample_poly

        g = math.gcd(int(sample_rate), TRACK_RATE)
        x = resample_poly(x, TRACK_RATE // g, int(sample_rate) // g)
    return np.ascontiguousarray(x)


def f0_track(
    audio: np.ndarray, sample_rate: int, period_s: float, f0_floor: float = 50.0
) -> np.ndarray:
    """WORLD's f0 in Hz every ``period_s`` seconds (0 = unpitched): DIO + StoneMask at 16 kHz.

    audio: (T,) mono float. Returns (ceil(T / (period_s * sample_rate)) + 1,) float64, entry
    i at time ``i * period_s``.
    """
    import pyworld  # imported here: only tracking needs it, not playing a model

    x = _at_track_rate(audio, sample_rate)
    period_ms = 1000.0 * period_s
    f0, t = pyworld.dio(x, TRACK_RATE, f0_floor=f0_floor, f0_ceil=2100.0, frame_period=period_ms)
    f0 = pyworld.stonemask(x, f0, t, TRACK_RATE)
    return np.asarray(f0, dtype=np.float64)


@dataclass(frozen=True)
class PitchTrack:
    """An f0 track: ``f0`` (N,) in Hz (0 = unpitched) at ``times`` (N,) seconds from the start."""

    times: np.ndarray
    f0: np.ndarray

    def frames(self, hop: int, sample_rate: int, n_frames: int, start: int = 0) -> np.ndarray:
        """One f0 per code frame of ``hop`` samples, frame 0 starting at sample ``start``:
        (n_frames,) float64, 0 where unpitched. A frame is pitched when at least half of the
        estimates inside it are, and takes the median of those (a frame with no estimate
        inside takes the nearest one)."""
        if n_frames <= 0:
            return np.zeros(0)
        edges = (start + hop * np.arange(n_frames + 1)) / sample_rate
        lo = np.searchsorted(self.times, edges[:-1], side="left")
        hi = np.searchsorted(self.times, edges[1:], side="left")
        out = np.zeros(n_frames)
        last = len(self.f0) - 1
        for i in range(n_frames):
            seg = self.f0[lo[i] : hi[i]]
            if len(seg) == 0:  # no estimate inside: the nearest one to the frame's centre
                c = (edges[i] + edges[i + 1]) / 2
                j = min(int(np.searchsorted(self.times, c)), last)
                if j > 0 and abs(self.times[j - 1] - c) < abs(self.times[j] - c):
                    j -= 1
                seg = self.f0[j : j + 1] if last >= 0 else seg
            pitched = seg[seg > 0]
            if len(seg) and 2 * len(pitched) >= len(seg):
                out[i] = float(np.median(pitched))
        return out


def gate(tr: PitchTrack, audio: np.ndarray, sample_rate: int, gate_db: float) -> PitchTrack:
    """``tr`` with every estimate whose surroundings are quieter than ``gate_db`` dBFS (the
    RMS of the :data:`GATE_WINDOW_S` of ``audio`` centred on it) set unpitched.

    Trackers keep finding a pitch in a decay 80 dB down, and a codec that codes it rings its
    oscillators on at a level its network does not bring that far down (docs/experiments.md,
    "A level gate on the pitch codes").
    """
    x = np.asarray(audio, dtype=np.float64)
    w = max(1, round(GATE_WINDOW_S * sample_rate))
    energy = np.concatenate([[0.0], np.cumsum(x * x)])  # (T + 1,)
    centre = np.rint(tr.times * sample_rate).astype(np.int64)
    lo = np.clip(centre - w // 2, 0, len(x))
    hi = np.clip(centre + (w - w // 2), 0, len(x))
    mean_square = (energy[hi] - energy[lo]) / np.maximum(hi - lo, 1)
    quiet = mean_square < 10.0 ** (gate_db / 10.0)
    return PitchTrack(tr.times, np.where(quiet, 0.0, tr.f0))


def track(
    audio: np.ndarray, sample_rate: int, tracker: str = "world", gate_db: float | None = None
) -> PitchTrack:
    """The f0 track of mono ``audio`` by ``tracker``: "world" (DIO + StoneMask every 5 ms,
    fast) or "pyin" (librosa's probabilistic YIN, frames of 64 ms every 16 ms at 16 kHz:
    about 50x slower, but it agrees with plain YIN on chords and hums far more often:
    docs/experiments.md, "Which tracker"). With ``gate_db``, estimates where the audio is
    quieter than that are unpitched (:func:`gate`)."""
    tr = _track(audio, sample_rate, tracker)
    return tr if gate_db is None else gate(tr, audio, sample_rate, gate_db)


def _track(audio: np.ndarray, sample_rate: int, tracker: str) -> PitchTrack:
    if tracker == "world":
        f0 = f0_track(audio, sample_rate, WORLD_PERIOD_S)
        return PitchTrack(np.arange(len(f0)) * WORLD_PERIOD_S, f0)
    if tracker != "pyin":
        raise ValueError(f"pitch tracker must be one of {', '.join(TRACKERS)}, got {tracker!r}")
    import librosa  # imported here: only pYIN tracking needs it

    x = _at_track_rate(audio, sample_rate)
    if len(x) < 1024:
        x = np.pad(x, (0, 1024 - len(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns about very short or silent input
        f0, voiced, _ = librosa.pyin(
            x, fmin=50.0, fmax=2100.0, sr=TRACK_RATE, frame_length=1024, hop_length=PYIN_HOP
        )
    f0 = np.where(voiced, np.nan_to_num(f0), 0.0)
    return PitchTrack(np.arange(len(f0)) * PYIN_HOP / TRACK_RATE, f0.astype(np.float64))


def frame_f0(
    audio: np.ndarray,
    sample_rate: int,
    hop: int,
    tracker: str = "world",
    gate_db: float | None = None,
) -> np.ndarray:
    """One f0 per code frame of ``hop`` samples: (T // hop,) float64, 0 where unpitched
    (:meth:`PitchTrack.frames` of :func:`track`)."""
    n_frames = len(audio) // hop
    if n_frames == 0:
        return np.zeros(0)
    return track(audio, sample_rate, tracker, gate_db).frames(hop, sample_rate, n_frames)
