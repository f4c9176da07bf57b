"""Training data: reading any rate and channel count, the held-out split, crops, bad folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from distill_live.errors import TrainingDataError
from distill_live.model.data import (
    Clip,
    find_audio_files,
    load_audio,
    load_dataset,
    random_crops,
    split_heldout,
)


def _peak_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


def test_resamples_44k1_stereo_to_48k_mono(make_audio: Callable[..., Path]) -> None:
    path = make_audio("tone.wav", seconds=2.0, samplerate=44100, channels=2, freq=1000.0)
    audio = load_audio(path, 48000)
    assert audio.ndim == 1 and audio.dtype == np.float32
    assert abs(len(audio) - 96000) <= 1  # same duration at the new rate
    mid = audio[4800:-4800]
    assert abs(_peak_hz(mid, 48000) - 1000.0) < 2.0  # same pitch
    # mono is the mean of the channels (0.5 and 0.45 amplitude)
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(0.475 / np.sqrt(2), rel=0.01)


def test_reads_other_formats_and_rates(tmp_path: Path, make_audio: Callable[..., Path]) -> None:
    make_audio("a/low.flac", seconds=1.0, samplerate=22050, freq=300.0)
    make_audio("b/c/high.wav", seconds=1.0, samplerate=96000, channels=3, freq=5000.0)
    (tmp_path / "notes.txt").write_text("not audio")
    files, skipped = find_audio_files(tmp_path)
    assert [f.name for f in files] == ["low.flac", "high.wav"]
    assert [s[0] for s in skipped] == ["notes.txt"]
    hi = load_audio(files[1], 48000)
    assert abs(len(hi) - 48000) <= 1
    assert abs(_peak_hz(hi[2400:-2400], 48000) - 5000.0) < 3.0


def test_empty_folder_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="no usable audio"):
        load_dataset(tmp_path)


def test_folder_without_audio_names_what_was_skipped(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("# nothing to hear")
    with pytest.raises(TrainingDataError, match=r"readme\.md"):
        load_dataset(tmp_path)


def test_missing_folder_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="does not exist"):
        load_dataset(tmp_path / "nope")


def test_too_little_audio_is_rejected(make_audio: Callable[..., Path], tmp_path: Path) -> None:
    make_audio("short.wav", seconds=2.0)
    with pytest.raises(TrainingDataError, match=r"too little audio.*2\.0 s"):
        load_dataset(tmp_path, min_seconds=10.0)


def test_silent_files_are_skipped(tmp_path: Path, make_audio: Callable[..., Path]) -> None:
    sf.write(tmp_path / "silence.wav", np.zeros(48000, np.float32), 48000)
    make_audio("tone.wav", seconds=12.0)
    data = load_dataset(tmp_path, heldout_fraction=0.1)
    assert ("silence.wav", "silent or empty") in data.skipped
    assert data.seconds("train") + data.seconds("heldout") == pytest.approx(12.0, abs=0.01)


def test_heldout_split_is_deterministic_and_disjoint() -> None:
    clips = [Clip(f"f{i:02d}.wav", np.ones(48000 * (1 + i % 3), np.float32)) for i in range(30)]
    train, held = split_heldout(clips, 0.1)
    train2, held2 = split_heldout(list(reversed(clips)), 0.1)
    assert {c.name for c in held} == {c.name for c in held2}
    assert not {c.name for c in held} & {c.name for c in train}
    assert len(train) + len(held) == 30
    total = sum(len(c.audio) for c in clips)
    assert 0.05 * total <= sum(len(c.audio) for c in held) <= 0.25 * total
    assert train2  # used


def test_single_file_holds_out_its_tail() -> None:
    clip = Clip("one.wav", np.arange(100_000, dtype=np.float32))
    train, held = split_heldout([clip], 0.1)
    assert len(train[0].audio) == 90_000 and len(held[0].audio) == 10_000
    assert held[0].audio[0] == 90_000


def test_random_crops_gain_length_and_no_clipping() -> None:
    rng = np.random.default_rng(0)
    loud = Clip("loud", np.full(10_000, 0.98, np.float32))
    short = Clip("short", np.full(100, 0.5, np.float32))
    batch = random_crops([loud, short], 64, 2048, rng, gain_db=(-12.0, 6.0))
    assert batch.shape == (64, 2048) and batch.dtype == np.float32
    assert float(np.abs(batch).max()) <= 0.99 + 1e-6
    peaks = np.abs(batch).max(1)
    assert peaks.min() < 0.4  # the gain varies
    assert (np.count_nonzero(batch, axis=1) > 0).all()  # silence was avoided


def test_random_crops_avoid_silence() -> None:
    rng = np.random.default_rng(1)
    audio = np.zeros(100_000, np.float32)
    audio[50_000:52_000] = 0.5
    crops = random_crops([Clip("gap", audio)], 32, 4096, rng, gain_db=(0.0, 0.0), avoid_silence=20)
    loud = (np.sqrt((crops**2).mean(1)) > 1e-3).mean()
    assert loud > 0.5  # 1 - 0.94 ** 21 = 73 % expected; without the redraw about 6 %


def test_random_crops_pitch_shift_moves_a_tone_within_the_range() -> None:
    """Tape-style augmentation: a 1 kHz tone comes out between -2 and +2 semitones of it,
    at the requested length, and not always at 1 kHz."""
    rng = np.random.default_rng(2)
    t = np.arange(48000 * 2) / 48000
    tone = Clip("tone", (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32))
    crops = random_crops([tone], 24, 16384, rng, gain_db=(0.0, 0.0), pitch_semitones=2.0)
    assert crops.shape == (24, 16384) and crops.dtype == np.float32
    peaks = np.array([_peak_hz(c, 48000) for c in crops])
    lo, hi = 1000.0 * 2 ** (-2 / 12), 1000.0 * 2 ** (2 / 12)
    assert ((peaks > lo - 6) & (peaks < hi + 6)).all()
    assert np.ptp(peaks) > 100  # the shift varies from crop to crop
    plain = random_crops([tone], 4, 16384, rng, gain_db=(0.0, 0.0))
    assert all(abs(_peak_hz(c, 48000) - 1000.0) < 6 for c in plain)


def test_random_crops_mix_adds_a_second_sound() -> None:
    """With mix=1 every crop holds both of two tones (one per clip); with mix=0 only one."""
    rng = np.random.default_rng(3)
    t = np.arange(48000) / 48000
    a = Clip("a", (0.4 * np.sin(2 * np.pi * 500.0 * t)).astype(np.float32))
    b = Clip("b", (0.4 * np.sin(2 * np.pi * 3000.0 * t)).astype(np.float32))

    def both(x: np.ndarray) -> bool:
        spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        hz = np.fft.rfftfreq(len(x), 1 / 48000)
        at = [spec[np.argmin(np.abs(hz - f))] for f in (500.0, 3000.0)]
        return min(at) > 0.1 * max(at)

    mixed = random_crops([a, b], 40, 8192, rng, mix=1.0)
    # both tones unless the same clip was drawn twice (probability 1/2 each crop)
    share = np.mean([both(c) for c in mixed])
    assert 0.25 < share < 0.75
    assert float(np.abs(mixed).max()) <= 0.99 + 1e-6
    alone = random_crops([a, b], 40, 8192, rng, mix=0.0)
    assert not any(both(c) for c in alone)


def test_random_crops_report_where_each_crop_came_from() -> None:
    from distill_live.model.data import Clip, random_crops

    rng = np.random.default_rng(3)
    clips = [
        Clip("long.wav", np.linspace(0.1, 0.9, 5000, dtype=np.float32)),
        Clip("short.wav", np.full(300, 0.5, dtype=np.float32)),
    ]
    origins: list[tuple[int, int]] = []
    crops = random_crops(clips, 16, 1000, rng, origins=origins)
    assert len(origins) == 16 and {i for i, _ in origins} == {0, 1}
    for crop, (i, start) in zip(crops, origins, strict=True):
        clip = clips[i].audio
        lo, hi = max(start, 0), min(start + 1000, len(clip))
        piece = crop[lo - start : hi - start]
        gain = piece[0] / clip[lo]  # one random gain per crop
        assert np.allclose(piece, clip[lo:hi] * gain, rtol=1e-5)
        assert not np.any(np.delete(crop, np.arange(lo - start, hi - start)))  # zeros elsewhere
    with pytest.raises(ValueError, match="only without pitch shift and mixing"):
        random_crops(clips, 2, 1000, rng, mix=0.5, origins=[])
