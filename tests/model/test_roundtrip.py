"""Round trips decode long files in blocks, equal to one whole-sequence decode."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from distill_live.model.codec import Codec, CodecConfig
from distill_live.model.pitch import PitchGrid
from distill_live.model.pitched import PitchedCodec
from distill_live.model.roundtrip import decode_codes, encode_audio, encode_channels, round_trip


def _check_blocks_equal_whole(codec: Codec | PitchedCodec, k: int, v: int) -> None:
    codes = torch.randint(0, v, (1, k, 40), generator=torch.Generator().manual_seed(3))
    with torch.inference_mode():
        whole = codec.decode(codec.codes_to_embeddings(codes))[0].numpy()
    for block in (7, 16, 40):
        blocks = decode_codes(codec, codes, block=block)
        assert blocks.shape == whole.shape
        assert np.max(np.abs(blocks - whole)) < 1e-4, block


def test_plain_codec_blocks_equal_whole() -> None:
    torch.manual_seed(0)
    codec = Codec(CodecConfig.tiny()).eval()
    _check_blocks_equal_whole(codec, codec.n_codebooks, codec.codebook_size)


def test_pitched_codec_blocks_equal_whole() -> None:
    grid = PitchGrid(low_note=45, step_cents=100, n_pitches=15)
    cfg = dataclasses.replace(CodecConfig.tiny(), n_codebooks=3)
    torch.manual_seed(0)
    codec = PitchedCodec(cfg, grid, n_harmonics=8).eval()
    _check_blocks_equal_whole(codec, 3, grid.size)


def test_round_trip_keeps_the_length_and_codes_every_sample() -> None:
    torch.manual_seed(0)
    codec = Codec(CodecConfig.tiny()).eval()
    audio = np.random.default_rng(0).standard_normal(1000).astype(np.float32) * 0.1
    assert encode_audio(codec, audio).shape[-1] == -(-1000 // codec.hop)
    assert round_trip(codec, audio).shape == (1000,)


def test_a_pitched_codec_codes_every_channel_with_one_pitch_track() -> None:
    """Stereo through a pitched codec: the pitch codes of both channels are the mix's (the
    oscillators of the two copies then stay in phase), the other codebooks each channel's
    own; the round trip keeps the shape."""
    grid = PitchGrid(low_note=50, step_cents=100, n_pitches=15)  # D3 to E4
    cfg = dataclasses.replace(CodecConfig.tiny(), n_codebooks=3, pitch=True)
    torch.manual_seed(0)
    codec = PitchedCodec(cfg, grid, n_harmonics=8).eval()
    t = np.arange(int(0.5 * 48000)) / 48000
    left = 0.3 * np.sin(2 * np.pi * 220.0 * t)
    right = 0.3 * np.sin(2 * np.pi * 311.1 * t)  # six semitones up
    stereo = np.stack([left, right], axis=1).astype(np.float32)
    codes, lead = encode_channels(codec, stereo)
    assert lead == 4 * codec.hop and codes.shape[:2] == (2, 3)
    alone = [encode_audio(codec, np.concatenate([np.zeros(lead), ch]))[0] for ch in stereo.T]
    assert not torch.equal(alone[0][0], alone[1][0])  # tracked apart, the pitches differ
    mix = encode_audio(codec, np.concatenate([np.zeros(lead), stereo.mean(axis=1)]))[0]
    assert torch.equal(codes[0, 0], mix[0]) and torch.equal(codes[1, 0], mix[0])
    for ch in range(2):  # the residual codebooks: each channel's own, given the shared pitch
        own = encode_audio(codec, np.concatenate([np.zeros(lead), stereo[:, ch]]), mix[:1])
        assert torch.equal(codes[ch], own[0])
    assert not torch.equal(codes[0, 1:], codes[1, 1:])
    out = round_trip(codec, stereo)
    assert out.shape == stereo.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 1], round_trip(codec, stereo[:, ::-1].copy())[:, 0])


def _one_shot(sr: int = 48000) -> np.ndarray:
    """A struck, decaying note with a click: 0.15 s, loudest in its first frame."""
    t = np.arange(int(0.15 * sr)) / sr
    rng = np.random.default_rng(1)
    note = 0.5 * np.sin(2 * np.pi * 196.0 * t) + 0.25 * np.sin(2 * np.pi * 392.0 * t)
    click = rng.standard_normal(len(t)) * np.exp(-t / 0.004)
    return ((note + 0.5 * click) * np.exp(-t / 0.03)).astype(np.float32)


def _db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12))


def test_the_default_models_round_trip_keeps_a_one_shots_attack() -> None:
    """A causal codec's round trip starts from the state silence leaves (the pre-roll): the
    first frame of a one-shot keeps most of its level (from an empty state it came out 20-27
    dB down on the sonic-pi tabla and beep one-shots; with the pre-roll the default of
    2026-12-04 gave this one 3.5 dB down, the one with the harmonic term 6.6 dB: more of its
    attack is oscillators, which ramp in over the first frame)."""
    from distill_live.model.files import load_model

    codec = load_model(None).codec.float().eval()
    x = _one_shot()
    y = round_trip(codec, x)
    hop = codec.hop
    assert y.shape == x.shape
    assert abs(_db(y[:hop]) - _db(x[:hop])) < 10.0
