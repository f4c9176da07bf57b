"""The pitch tracker per code frame and the pitch codebook's grid."""

from __future__ import annotations

import numpy as np
import pytest

from distill_live.model.pitch import PitchGrid, frame_f0, hz_to_midi, midi_to_hz

SR, HOP = 48000, 1024


def _cents(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(1200 * np.log2(a / b))


def test_grid_round_trips_a_sweep_within_half_a_step() -> None:
    grid = PitchGrid()
    f0 = np.geomspace(midi_to_hz(grid.low_note), midi_to_hz(grid.high_note), 5000)
    back = grid.decode(grid.encode(f0))
    assert _cents(back, f0).max() <= grid.step_cents / 2 + 1e-6
    codes = grid.encode(f0)
    assert codes.min() == 1 and codes.max() == grid.size - 1  # the sweep covers the grid
    assert np.all(np.diff(codes) >= 0)


def test_unpitched_and_out_of_range() -> None:
    grid = PitchGrid()
    codes = grid.encode(np.array([0.0, -1.0, np.nan, 10.0, 20000.0]))
    assert codes.tolist() == [0, 0, 0, 1, grid.size - 1]
    assert grid.decode(np.array([0]))[0] == 0.0
    with pytest.raises(ValueError, match=r"pitch code 256 is outside the grid's 0..255"):
        grid.decode(np.array([256]))
    with pytest.raises(ValueError, match="step_cents"):
        PitchGrid(step_cents=150)


def test_note_codes_name_the_codes_of_a_key() -> None:
    grid = PitchGrid()
    codes = grid.note_codes(57)  # A3
    hz = grid.decode(codes)
    assert len(codes) == 5  # -50, -25, 0, +25, +50 cents
    assert _cents(hz, np.full_like(hz, midi_to_hz(57))).max() <= 50 + 1e-6
    assert PitchGrid.from_dict(grid.to_dict()) == grid


def test_frame_f0_follows_a_sweep_and_finds_silence_unpitched() -> None:
    t = np.arange(SR * 3) / SR
    f = 110 * 2 ** (t / 3 * 2)  # two octaves up in 3 s
    x = 0.4 * np.sin(2 * np.pi * np.cumsum(f) / SR)
    x[SR * 2 :] = 0.0  # the last second silent
    f0 = frame_f0(x, SR, HOP)
    assert f0.shape == (len(x) // HOP,)
    centres = f[HOP // 2 :: HOP][: len(f0)]
    tone = slice(2, int(2 * SR / HOP) - 2)
    assert np.median(_cents(f0[tone], centres[tone])) < 10
    assert np.all(f0[tone] > 0)
    assert np.all(f0[int(2 * SR / HOP) + 2 :] == 0)
    assert abs(float(hz_to_midi(440.0)) - 69) < 1e-9


def test_track_frames_match_frame_f0_and_shift_with_the_start() -> None:
    from distill_live.model.pitch import track

    t = np.arange(SR * 2) / SR
    x = 0.4 * np.sin(2 * np.pi * 196.0 * t)
    x[SR:] = 0.4 * np.sin(2 * np.pi * 294.0 * t[SR:])  # G3 then D4, a second each
    tr = track(x, SR)
    n = len(x) // HOP
    assert np.array_equal(tr.frames(HOP, SR, n), frame_f0(x, SR, HOP))
    # frames read 10 frames later in the clip: the same values shifted
    later = tr.frames(HOP, SR, n - 10, start=10 * HOP)
    assert np.array_equal(later, tr.frames(HOP, SR, n)[10:])
    with pytest.raises(ValueError, match="pitch tracker must be one of world, pyin"):
        track(x, SR, "crepe")


def test_pyin_tracks_a_two_note_line() -> None:
    t = np.arange(SR) / SR
    x = 0.4 * np.sin(2 * np.pi * 220.0 * t)
    x[SR // 2 :] = 0.4 * np.sin(2 * np.pi * 330.0 * t[SR // 2 :])
    f0 = frame_f0(x, SR, HOP, tracker="pyin")
    assert np.median(_cents(f0[3:20], np.full(17, 220.0))) < 20
    assert np.median(_cents(f0[27:44], np.full(17, 330.0))) < 20


def test_the_level_gate_unpitches_a_decay_below_it_and_keeps_the_rest() -> None:
    t = np.arange(SR * 3) / SR
    level_db = -6.0 - 30.0 * t  # a 220 Hz note falling from -6 to -96 dBFS (peak) in 3 s
    x = 10 ** (level_db / 20) * np.sin(2 * np.pi * 220.0 * t)
    n = len(x) // HOP
    rms_db = 20 * np.log10(np.sqrt((x[: n * HOP].reshape(n, HOP) ** 2).mean(1)))
    free = frame_f0(x, SR, HOP)
    gated = frame_f0(x, SR, HOP, gate_db=-50.0)
    # the tracker alone follows the note far below the gate...
    assert np.mean(free[rms_db < -55] > 0) > 0.5
    # ...the gate codes those frames unpitched and leaves the louder ones as they were
    assert np.all(gated[rms_db < -52] == 0)
    loud = rms_db > -48
    assert np.array_equal(gated[loud], free[loud]) and np.all(gated[loud][2:] > 0)


def test_gate_is_by_level_not_by_the_tracker() -> None:
    from distill_live.model.pitch import PitchTrack, gate

    times = 0.05 + np.arange(10) * 0.1  # estimates clear of the step at 0.5 s
    tr = PitchTrack(times, np.full(10, 220.0))
    audio = np.zeros(SR)
    audio[: SR // 2] = 0.1  # -20 dBFS for half a second, then silence
    out = gate(tr, audio, SR, -50.0)
    assert np.array_equal(out.f0[:5] > 0, [True] * 5) and np.all(out.f0[5:] == 0)
    assert np.array_equal(out.times, times)
