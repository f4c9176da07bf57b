"""Pitch figures: raw pitch accuracy, pitched share, steady runs, pitch classes."""

from __future__ import annotations

import numpy as np
import pytest

from distill_live.model.metrics import (
    histogram_distance,
    pitch_stats,
    pool_pitch_stats,
    raw_pitch_accuracy,
)

SR = 48000


def _tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return 0.3 * np.sin(2 * np.pi * hz * t) + 0.1 * np.sin(2 * np.pi * 2 * hz * t)


def test_raw_pitch_accuracy_counts_the_same_note_and_misses_a_semitone() -> None:
    a = _tone(220.0)
    hits, frames = raw_pitch_accuracy(a, a, SR)
    assert frames > 80 and hits == frames
    hits, frames = raw_pitch_accuracy(a, _tone(220.0 * 2 ** (1 / 12)), SR)
    assert hits < 0.05 * frames  # a semitone off is 100 cents: no frame within 50
    hits, frames = raw_pitch_accuracy(a, np.zeros_like(a), SR)
    assert hits == 0


def test_pitch_stats_of_notes_and_noise() -> None:
    rng = np.random.default_rng(0)
    notes = np.concatenate([_tone(261.6, 0.5), _tone(392.0, 0.5)])  # C4 then G4
    s = pitch_stats(notes, SR)
    assert s.pitched / s.loud > 0.9
    assert len(s.runs) >= 2 and max(s.runs) >= 40  # two held notes of 50 frames
    assert int(np.argmax(s.pitch_classes)) in (0, 7)
    assert s.pitch_classes[0] > 30 and s.pitch_classes[7] > 30
    noise = pitch_stats(0.3 * rng.standard_normal(SR), SR)
    assert noise.pitched / noise.loud < 0.3
    pooled = pool_pitch_stats([s, noise])
    assert pooled["pitched_share"] == pytest.approx(
        (s.pitched + noise.pitched) / (s.loud + noise.loud), abs=1e-4
    )
    assert pooled["median_steady_ms"] > 200


def test_histogram_distance() -> None:
    assert histogram_distance([1, 0, 0], [5, 0, 0]) == 0.0
    assert histogram_distance([1, 0], [0, 1]) == 1.0
    assert histogram_distance([1, 1], [1, 0]) == pytest.approx(0.5)
