"""The pitched codec: pitch codebook, causal decoder, streamed == whole."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from scipy.signal import hilbert

from distill_live.model.codec import CodecConfig
from distill_live.model.pitch import PitchGrid
from distill_live.model.pitched import PitchedCodec

GRID = PitchGrid(low_note=45, step_cents=100, n_pitches=31)  # A2..E5 in semitones


PHASES = ["direct", "running"]  # the residual's two phase layouts
# and the direct phase dithered (CodecConfig.residual_dither), for the streaming tests
DECODERS = [*PHASES, "dithered"]


def tiny(phase: str = "running", dither: float = 0.0) -> PitchedCodec:
    if phase == "dithered":
        phase, dither = "direct", 0.5
    cfg = dataclasses.replace(
        CodecConfig.tiny(),
        codebook_size=GRID.size,
        n_codebooks=3,
        pitch=True,
        phase=phase,
        residual_dither=dither,
    )
    torch.manual_seed(0)
    return PitchedCodec(cfg, GRID, n_harmonics=8).eval()


def _tone(seconds: float, hz: float, sr: int = 48000) -> torch.Tensor:
    t = torch.arange(int(seconds * sr)) / sr
    return 0.3 * torch.sin(2 * torch.pi * hz * t) + 0.1 * torch.sin(2 * torch.pi * 2 * hz * t)


def test_codes_carry_the_pitch_of_a_tone() -> None:
    codec = tiny()
    codes = codec.encode(_tone(1.0, 220.0))
    assert codes.shape == (1, 3, 48000 // 256)
    pitch = codes[0, 0, 3:-3].numpy()
    assert np.all(GRID.decode(pitch) == pytest.approx(220.0, rel=0.03))
    emb = codec.codes_to_embeddings(codes)
    assert emb.shape == (1, codec.config.latent_dim + 1, codes.shape[-1])
    assert torch.allclose(emb[0, -1, 3:-3], torch.tensor(220.0), rtol=0.03)


@pytest.mark.parametrize("phase", DECODERS)
@pytest.mark.parametrize("chunks", [[1] * 24, [2] * 12, [5, 1, 7, 11], [24]])
@torch.inference_mode()
def test_streamed_decode_equals_whole(chunks: list[int], phase: str) -> None:
    codec = tiny(phase)
    g = torch.Generator().manual_seed(1)
    f = sum(chunks)
    codes = torch.randint(0, GRID.size, (2, 3, f), generator=g)
    codes[:, 0, 5:9] = 0  # a rest
    emb = codec.codes_to_embeddings(codes)
    whole = codec.decode(emb)
    assert whole.shape == (2, f * codec.hop)
    state, parts, at = codec.initial_state(2), [], 0
    for n in chunks:
        audio, state = codec.decode_step(emb[:, :, at : at + n], state)
        assert audio.shape == (2, n * codec.hop)
        parts.append(audio)
        at += n
    streamed = torch.cat(parts + [codec.decoder.flush(state)], dim=1)[:, codec.hop :]
    assert torch.max(torch.abs(streamed - whole)) < 1e-5
    assert state.frames == f


@pytest.mark.parametrize("phase", DECODERS)
@pytest.mark.parametrize("chunks", [[1] * 12, [2] * 6, [9, 3]])
def test_fast_step_equals_the_graph_step(chunks: list[int], phase: str) -> None:
    """Without autograd the decoder runs its own few-call step (9 frames: more than the
    overlap-add product takes); it must agree with the module-by-module one, state too,
    and follow the parameters when they change."""
    codec = tiny(phase)
    dec = codec.decoder
    g = torch.Generator().manual_seed(2)
    codes = torch.randint(0, GRID.size, (2, 3, sum(chunks)), generator=g)
    codes[:, 0, 3:6] = 0
    emb = codec.codes_to_embeddings(codes).detach()
    for change in (False, True):
        if change:  # an optimiser-like in-place update: the cached layouts must follow
            with torch.no_grad():
                for p in dec.parameters():
                    p.add_(0.01 * torch.randn(p.shape, generator=g))
        fast, graph = codec.initial_state(2), codec.initial_state(2)
        at = 0
        for n in chunks:
            with torch.no_grad():
                mkldnn = torch._C._get_mkldnn_enabled()
                a, fast = dec.step(emb[:, :, at : at + n], fast)
                assert torch._C._get_mkldnn_enabled() == mkldnn
            with torch.enable_grad():
                b, graph = dec.step(emb[:, :, at : at + n], graph)
            assert torch.max(torch.abs(a - b)) < 1e-5
            at += n
        for x, y in zip(fast.caches, graph.caches, strict=True):
            assert torch.max(torch.abs(x - y)) < 1e-5
        for x, y in ((fast.pending, graph.pending), (fast.tail, graph.tail)):
            assert x.shape == y.shape and torch.max(torch.abs(x - y)) < 1e-5
        assert torch.equal(fast.osc.phase, graph.osc.phase) and fast.frames == graph.frames
        wrapped = torch.remainder(fast.res_phase - graph.res_phase + torch.pi, 2 * torch.pi)
        assert torch.max(torch.abs(wrapped - torch.pi)) < 1e-5  # the same angle


def _residual_only(codec: PitchedCodec, bin_: int | None, gate: float) -> np.ndarray:
    """The decoder's output for 40 frames of one code, its heads set so that the residual
    is one bin (deviation 0; for None every bin, a click mid-frame) and the noise gates are at
    ``gate`` (a logit), without the
    first 10 frames and the last 2 (the start and the flush's fade): (28 * hop,)."""
    dec = codec.decoder
    with torch.no_grad():
        for head in (dec.harm_head, dec.res_head):
            head.weight.zero_()
        dec.harm_head.bias.fill_(-30.0)
        bias = dec.res_head.bias
        bias.zero_()
        res = bias[: dec.n_res].view(codec.config.istft_sub, 2, dec.n_bins)
        res[:, 0] = -30.0 if bin_ is not None else 0.0
        if bin_ is not None:
            res[:, 0, bin_] = 3.0
        else:  # a click at each STFT frame's centre (a linear phase)
            res[:, 1] = -torch.pi * torch.arange(dec.n_bins)
        bias[dec.n_res :] = gate
    codes = torch.zeros(1, 3, 40, dtype=torch.long)  # unpitched: the residual alone
    with torch.inference_mode():
        y = codec.decode(codec.codes_to_embeddings(codes))[0]
    return y[10 * codec.hop : -2 * codec.hop].numpy()


@pytest.mark.parametrize("bin_", [5, 12, 37])
def test_a_steady_latent_gives_a_steady_partial_not_a_frame_rate_buzz(bin_: int) -> None:
    """With the running phase and the gates shut, one steady bin is one steady sinusoid at
    the bin's centre: constant amplitude, periodic over n_fft. The direct phase, which
    repeats each frame's phase, makes an odd bin beat at the frame rate."""
    codec = tiny("running")
    y = _residual_only(codec, bin_, gate=-30.0)
    n_fft = codec.config.istft_n_fft
    assert np.max(np.abs(y[n_fft:] - y[:-n_fft])) < 1e-3 * np.max(np.abs(y))
    mid = np.abs(hilbert(y))[n_fft:-n_fft]  # the amplitude envelope
    assert mid.min() > 0.98 * mid.max()
    if bin_ % 2:  # odd bins: the direct phase's repeated frames cancel in their overlaps
        direct = _residual_only(tiny("direct"), bin_, gate=-30.0)
        env = np.abs(direct)
        assert env.min() < 0.5 * env.max()


def test_open_noise_gates_make_the_residual_aperiodic() -> None:
    """Gates open: the same steady latent gives noise (its hops do not repeat), and the same
    noise on every run (the table is seeded)."""
    codec = tiny("running")
    y = _residual_only(codec, 20, gate=30.0)
    hop = codec.hop
    a, b = y[hop:], y[:-hop]
    corr = float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))
    assert abs(corr) < 0.5
    again = _residual_only(tiny("running"), 20, gate=30.0)
    np.testing.assert_array_equal(y, again)


def _lag_correlation(y: np.ndarray, lag: int) -> float:
    a, b = y[lag:], y[:-lag]
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


@pytest.mark.parametrize("dither", [0.5, 1.0])
def test_dither_stops_the_direct_residual_repeating_every_sub_frame(dither: float) -> None:
    """A steady latent through the direct phase gives the same STFT frame again and again:
    the residual repeats every sub-frame (a buzz at the sub-frame rate, which pitch trackers
    call pitched). A dither of a times U(-pi, pi) per frame and bin keeps sin(pi a) / (pi a)
    of it coherent from one frame to the next (0.64 at 0.5, none at 1), in decoding and in
    training, where each call starts at a random row of the noise table."""
    hop_s = CodecConfig.tiny().hop // CodecConfig.tiny().istft_sub
    plain = _residual_only(tiny("direct"), None, gate=0.0)
    assert _lag_correlation(plain, hop_s) > 0.99
    dithered = _residual_only(tiny("direct", dither=dither), None, gate=0.0)
    coherent = np.sin(np.pi * dither) / (np.pi * dither)
    assert abs(_lag_correlation(dithered, hop_s) - coherent) < 0.15
    # training sees the dither too, from a random row per call (torch's generator)
    training = tiny("direct", dither=dither).train()
    torch.manual_seed(0)
    first = _residual_only(training, None, gate=0.0)
    assert abs(_lag_correlation(first, hop_s) - coherent) < 0.15
    torch.manual_seed(1)
    assert not np.allclose(_residual_only(training, None, gate=0.0), first, atol=1e-3)
    torch.manual_seed(0)
    np.testing.assert_array_equal(_residual_only(training, None, gate=0.0), first)
    plain = _residual_only(tiny("direct").train(), None, gate=0.0)
    assert _lag_correlation(plain, hop_s) > 0.99


@pytest.mark.parametrize("phase", PHASES)
def test_training_pass_gives_gradients_to_both_heads(phase: str) -> None:
    codec = tiny(phase).train()
    audio = torch.stack([_tone(0.5, 196.0), _tone(0.5, 330.0)])
    out = codec(audio)
    assert out.audio.shape == (2, (24000 // 256) * 256)
    assert out.codes.shape == (2, 3, 24000 // 256)
    loss = (out.audio - audio[:, : out.audio.shape[1]]).pow(2).mean() + out.commit_loss
    loss.backward()
    for head in (codec.decoder.harm_head, codec.decoder.res_head):
        grad = head.weight.grad
        assert grad is not None and float(grad.abs().sum()) > 0


@pytest.mark.parametrize("phase", PHASES)
def test_training_pass_returns_the_amplitudes_its_oscillators_play(phase: str) -> None:
    """The amplitudes a training pass returns (for the harmonic term) are the ones its
    oscillators rendered: its output less the residual branch is the bank at those amplitudes
    and the coded f0, sample for sample."""
    from distill_live.model.harmonic import harmonic_bank

    codec = tiny(phase).train()
    audio = torch.stack([_tone(0.5, 196.0), _tone(0.5, 330.0)])
    torch.manual_seed(0)
    out = codec(audio, quantizer_dropout=False)
    assert out.harmonics is not None
    assert out.harmonics.shape == (2, 8, out.codes.shape[-1])
    emb = codec.codes_to_embeddings(out.codes)
    harm, _ = harmonic_bank(emb[:, -1], out.harmonics, codec.hop, 48000)
    with torch.no_grad():
        codec.decoder.harm_head.bias.fill_(-40.0)  # the oscillators silent: the residual alone
        codec.decoder.harm_head.weight.zero_()
        torch.manual_seed(0)
        residual = codec(audio, quantizer_dropout=False).audio
    torch.testing.assert_close(out.audio.detach(), residual + harm.detach(), atol=1e-5, rtol=0)
    assert float(harm.detach().abs().max()) > 1e-3


def test_the_encoder_reads_the_partials_and_encode_agrees_with_training() -> None:
    """With ``enc_harmonics`` the encoder's first layer reads the input's harmonic amplitudes
    at the coded f0: a training pass returns them as the harmonic term's targets, its loss
    reaches that layer, and ``encode`` codes the same frames the training pass does."""
    from distill_live.model.harmonic import harmonic_targets

    base = tiny("direct")
    cfg = dataclasses.replace(base.config, enc_harmonics=True)
    torch.manual_seed(0)
    codec = PitchedCodec(cfg, GRID, n_harmonics=8).train()
    assert codec.harmonic_in is not None and base.harmonic_in is None
    audio = torch.stack([_tone(0.5, 196.0), _tone(0.5, 330.0)])
    assert base(audio).targets is None  # not asked for, and its encoder does not read them
    out = codec(audio, quantizer_dropout=False, targets=True)
    assert out.targets is not None
    f0 = codec.codes_to_embeddings(out.codes)[:, -1]
    want = harmonic_targets(audio, f0, 8, codec.hop, 48000)
    for got, expected in zip(out.targets, want, strict=True):
        torch.testing.assert_close(got, expected)
    assert float(out.targets[0][0, 0, 10]) == pytest.approx(0.3, rel=0.05)  # the tone's level
    out.audio.pow(2).mean().backward()
    grad = codec.harmonic_in.weight.grad
    assert grad is not None and float(grad.abs().sum()) > 0
    with torch.inference_mode():
        coded = codec.eval().encode(audio)
        again = codec(audio, quantizer_dropout=False).codes
    assert torch.equal(coded, again)


def test_grid_must_fit_the_codebook() -> None:
    with pytest.raises(ValueError, match="pitch grid has 256 codes but codebook_size is 16"):
        PitchedCodec(CodecConfig.tiny(), PitchGrid())


def test_truncated_keeps_pitch_and_a_prefix_of_the_residual() -> None:
    codec = tiny()
    codes = codec.encode(_tone(0.5, 262.0))
    short = codec.truncated(2)
    assert short.n_codebooks == 2
    assert torch.equal(short.encode(_tone(0.5, 262.0)), codes[:, :2])
    with pytest.raises(ValueError, match="keeps 2..3 codebooks"):
        codec.truncated(1)


def test_unquantised_embeddings_decode_like_the_codes_do() -> None:
    codec = tiny()
    audio = _tone(0.5, 220.0)[None]
    with torch.inference_mode():
        emb = codec.unquantised_embeddings(audio)
        coded = codec.codes_to_embeddings(codec.encode(audio))
        out = codec.decode(emb)
    assert emb.shape == coded.shape
    assert torch.equal(emb[:, -1], coded[:, -1])  # the same f0 channel
    assert out.shape == (1, audio.shape[1] // 256 * 256)


def test_headers_written_before_the_pitched_codec_load_as_plain_codecs() -> None:
    from distill_live.model.pitched import build_codec

    old = CodecConfig.tiny().to_dict()
    for key in ("pitch", "harmonics", "pitch_low_note", "pitch_step_cents", "enc_harmonics"):
        old.pop(key)
    cfg = CodecConfig.from_dict(old)
    assert cfg.pitch is False and cfg.enc_harmonics is False
    assert type(build_codec(cfg)).__name__ == "Codec"
    assert isinstance(
        build_codec(dataclasses.replace(cfg, pitch=True, n_codebooks=2)), PitchedCodec
    )
