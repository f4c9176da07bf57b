"""The prior's training views: varispeed moves the audio and its f0 track together."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from distill_live.model.codec import CodecConfig
from distill_live.model.data import Clip
from distill_live.model.dataprep import (
    code_stream,
    is_tonal,
    prior_sequences,
    transposed,
    varispeed,
)
from distill_live.model.pitch import PitchGrid, hz_to_midi, track
from distill_live.model.pitched import PitchedCodec

SR = 48000
GRID = PitchGrid(low_note=45, step_cents=100, n_pitches=31)  # A2..E5 in semitones


def _tone(seconds: float, hz: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * np.sin(2 * np.pi * hz * t) + 0.1 * np.sin(4 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.parametrize("semitones", [2.0, -3.0])
def test_varispeed_moves_pitch_tempo_and_track_together(semitones: float) -> None:
    audio = _tone(1.0, 220.0)
    tr = track(audio, SR, "world")
    fast, moved = varispeed(audio, semitones, tr)
    ratio = 2.0 ** (semitones / 12.0)
    assert moved is not None and fast.dtype == np.float32
    assert abs(len(fast) - len(audio) / ratio) <= 2
    assert moved.times[-1] == pytest.approx(tr.times[-1] / ratio)
    # the moved track says what tracking the new audio says: the tone, `semitones` higher
    again = track(fast, SR, "world")
    for f0 in (moved.f0, again.f0):
        pitched = f0[f0 > 0]
        assert len(pitched) > 10
        assert abs(float(np.median(hz_to_midi(pitched))) - (57.0 + semitones)) < 0.25
    assert varispeed(audio, semitones)[1] is None


def test_prior_sequences_add_a_faster_and_a_slower_view_per_speed() -> None:
    cfg = dataclasses.replace(CodecConfig.tiny(), codebook_size=GRID.size, n_codebooks=3)
    torch.manual_seed(0)
    codec = PitchedCodec(cfg, GRID, n_harmonics=8).eval()
    clip = Clip("tone.wav", _tone(0.5, 220.0))
    tracks = [track(clip.audio, SR, "world")]
    variants = ((0.0, 0), (-6.0, codec.hop // 2))
    plain = prior_sequences(codec, [clip], torch.device("cpu"), 99, variants, tracks)
    more = prior_sequences(codec, [clip], torch.device("cpu"), 99, variants, tracks, (4.0,))
    assert len(plain[0]) == 2 and len(more[0]) == 6
    for a, b in zip(plain[0], more[0][:2], strict=True):  # the clip's own speed comes first
        np.testing.assert_array_equal(a, b)
    # +4 semitones: fewer frames, and the pitch code of the tone 4 grid steps up
    up, down = more[0][2], more[0][4]
    f = plain[0][0].shape[1]
    assert up.shape[1] < f < down.shape[1]
    note = int(np.bincount(plain[0][0][0]).argmax())
    assert note == GRID.encode(np.array([220.0]))[0]
    assert int(np.bincount(up[0]).argmax()) == note + 4
    assert int(np.bincount(down[0]).argmax()) == note - 4


@pytest.mark.parametrize("share", [0.5, 0.8])
def test_code_stream_draws_the_clips_own_speed_at_the_share_asked(share: float) -> None:
    # 300 clips of 3 frames; views 0-1 at the clip's own speed (code 0), 2-5 varispeed (code 1)
    seqs = [[np.full((1, 3), int(v >= 2)) for v in range(6)] for _ in range(300)]
    rng = np.random.default_rng(0)
    stream = np.concatenate(
        [code_stream(seqs, rng, 1, own=2, own_share=share) for _ in range(20)], 1
    )
    assert stream.shape == (1, 20 * 300 * 3)
    assert abs(float(np.mean(stream == 0)) - share) < 0.02
    # without varispeed views every view is equally likely, as before
    plain = [per[:2] for per in seqs]
    assert np.all(code_stream(plain, rng, 1, own=2, own_share=share) == 0)


def test_transposed_moves_only_the_pitched_frames_pitch_code() -> None:
    codes = np.array([[0, 1, 5, 30, 31, 0], [3, 4, 5, 6, 7, 8], [9, 9, 9, 9, 9, 9]])
    up = transposed(codes, 2, GRID)
    np.testing.assert_array_equal(up[0], [0, 3, 7, 31, 31, 0])  # held at the grid's top
    np.testing.assert_array_equal(up[1:], codes[1:])
    np.testing.assert_array_equal(transposed(codes, -4, GRID)[0], [0, 1, 1, 26, 27, 0])
    assert codes[0, 1] == 1  # the input is left as it was


def test_only_mostly_pitched_clips_count_as_tonal() -> None:
    drum = np.array([[0, 0, 12, 0, 0, 0], [1, 2, 3, 4, 5, 6]])  # one stray pitch code
    note = np.array([[0, 12, 12, 12, 13, 0], [1, 2, 3, 4, 5, 6]])
    assert not is_tonal(drum) and is_tonal(note)
    assert not is_tonal(np.zeros((2, 0), dtype=np.int64))
