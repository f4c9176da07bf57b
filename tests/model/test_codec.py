"""The codec: shapes, windowed decode equals whole decode, the quantiser's guards."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import Tensor

from distill_live.model.codec import Codec, CodecConfig, ResidualVQ, mel_filterbank

TONAL_TINY = dataclasses.replace(CodecConfig.tiny(), phase="tonal")
# four sub-frames of 256 samples a code frame of 1024
PACKED_TINY = dataclasses.replace(CodecConfig.tiny(), hop=1024, pack=4)


def _perturbed(cfg: CodecConfig, seed: int = 0) -> Codec:
    """An untrained codec whose weights are shaken so the decoder is far from trivial."""
    torch.manual_seed(seed)
    codec = Codec(cfg).eval()
    with torch.no_grad():
        for p in codec.parameters():
            p.add_(0.05 * torch.randn_like(p))
        codec.quantizer.embed.normal_()
    return codec


def test_shapes_tiny() -> None:
    cfg = CodecConfig.tiny()
    codec = _perturbed(cfg)
    frames = 13
    audio = torch.randn(3, frames * cfg.hop + 17) * 0.1  # a ragged tail is dropped
    with torch.inference_mode():
        codes = codec.encode(audio)
        assert codes.shape == (3, cfg.n_codebooks, frames)
        assert codes.dtype == torch.long
        assert int(codes.min()) >= 0 and int(codes.max()) < cfg.codebook_size
        emb = codec.codes_to_embeddings(codes)
        assert emb.shape == (3, cfg.latent_dim, frames)
        out = codec.decode(emb)
    assert out.shape == (3, frames * cfg.hop)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_packed_frames_hold_their_sub_frames_codes() -> None:
    """pack 4: the networks run at hop // 4 and frame f holds, codebook-major, the codes of
    sub-frames 4f..4f+3 (code k * 4 + s is codebook k of sub-frame s); decoding the packed
    codes gives the audio of decoding the sub-frame codes, and the prior sees 4x the codes
    at a quarter of the steps."""
    cfg = PACKED_TINY
    codec = _perturbed(cfg, seed=2)
    assert (codec.hop, codec.n_codebooks) == (1024, cfg.n_codebooks * 4)
    assert codec.decoder.c.hop == 256
    frames = 6
    audio = torch.randn(2, frames * 1024 + 300) * 0.1
    with torch.inference_mode():
        codes = codec.encode(audio)
        sub = codec.quantizer.encode(codec.encoder(audio[:, : frames * 1024]))  # (B, K, 4F)
        assert codes.shape == (2, cfg.n_codebooks * 4, frames)
        assert sub.shape == (2, cfg.n_codebooks, frames * 4)
        for f in range(frames):
            for k in range(cfg.n_codebooks):
                for s in range(4):
                    assert torch.equal(codes[:, k * 4 + s, f], sub[:, k, f * 4 + s])
        emb = codec.codes_to_embeddings(codes)
        assert emb.shape == (2, cfg.latent_dim, frames * 4)
        torch.testing.assert_close(emb, codec.quantizer.lookup(sub))
        assert codec.decode(emb).shape == (2, frames * 1024)
        # truncating keeps whole codebooks: every sub-frame of the first one
        first = codec.truncated(1)
        assert first.n_codebooks == 4
        assert torch.equal(first.encode(audio), codes[:, :4])
        with pytest.raises(ValueError, match="multiple of pack=4"):
            codec.codes_to_embeddings(codes[:, :3])
    with pytest.raises(ValueError, match="pack 3 must be a positive divisor of hop 1024"):
        dataclasses.replace(cfg, pack=3).validate()


def test_fewer_codebooks_decode() -> None:
    cfg = CodecConfig.tiny()
    codec = _perturbed(cfg)
    codes = torch.randint(0, cfg.codebook_size, (1, cfg.n_codebooks, 9))
    with torch.inference_mode():
        full = codec.codes_to_embeddings(codes)
        first = codec.codes_to_embeddings(codes[:, :1])
    assert torch.allclose(first, codec.quantizer.embed[0][codes[0, 0]].T[None])
    assert not torch.allclose(first, full)


@pytest.mark.parametrize(
    "config",
    [
        CodecConfig.tiny(),
        CodecConfig(),
        CodecConfig(phase="tonal"),
        TONAL_TINY,
        PACKED_TINY,
        dataclasses.replace(PACKED_TINY, phase="tonal"),
    ],
    ids=["tiny", "default", "tonal", "tiny-tonal", "tiny-packed", "tiny-packed-tonal"],
)
def test_windowed_decode_equals_whole_decode(config: CodecConfig) -> None:
    """cached_conv's test_equal: windows decoded with decoder_context frames on each side,
    each given the decoder state the previous window returned for its first frame, give
    exactly the samples of the whole-sequence decode, for several window sizes."""
    codec = _perturbed(config, seed=1)
    hop, ctx = config.hop, codec.decoder_context
    n = 50
    codes = torch.randint(0, config.codebook_size, (2, codec.n_codebooks, n))
    with torch.inference_mode():
        whole = codec.decode(codec.codes_to_embeddings(codes))
        assert float(whole.abs().max()) > 1e-4
        for size in (1, 3, 8, 16):
            pieces = []
            state = None
            for s in range(0, n, size):
                e = min(n, s + size)
                lo, hi = max(0, s - ctx), min(n, e + ctx)
                emb = codec.codes_to_embeddings(codes[:, :, lo:hi])  # as the generator does
                out, state = codec.decode_window(emb, state, s - lo, e - lo)
                if config.phase == "direct":
                    assert state is None
                pieces.append(out[:, (s - lo) * hop : (e - lo) * hop])
            chunked = torch.cat(pieces, dim=1)
            torch.testing.assert_close(chunked, whole, rtol=0, atol=2e-6)


def test_tonal_branch_needs_its_state() -> None:
    """A window decoded without the phase the stream reached there differs from the whole
    decode even with full context: the tonal phase is state, not a function of the window.
    Files from before the option decode with direct phase."""
    assert (
        CodecConfig.from_dict({k: v for k, v in TONAL_TINY.to_dict().items() if k != "phase"}).phase
        == "direct"
    )
    codec = _perturbed(TONAL_TINY, seed=3)
    hop, ctx = codec.hop, codec.decoder_context
    codes = torch.randint(0, codec.codebook_size, (1, codec.n_codebooks, 40))
    with torch.inference_mode():
        emb = codec.codes_to_embeddings(codes)
        whole = codec.decode(emb)
        lo = 20 - ctx
        fresh, _ = codec.decode_window(emb[:, :, lo:30], None, 0, 10)
    err = (fresh[:, ctx * hop : (ctx + 5) * hop] - whole[:, 20 * hop : 25 * hop]).abs().max()
    assert float(err) > 1e-3 * float(whole.abs().max())


def test_tonal_branch_makes_steady_tones_off_the_frame_grid() -> None:
    """A constant latent through the tonal branch alone, with a constant frequency offset of
    a third of a bin, is one steady sinusoid between bin centres: the phase advances by the
    same amount every hop, so consecutive frames add up without beating."""
    cfg = TONAL_TINY
    codec = Codec(cfg).eval()
    dec = codec.decoder
    n_bins = dec.n_bins
    bin_k, offset = 5, 1.0 / 3.0  # between bins 5 and 6
    with torch.no_grad():
        dec.head.weight.zero_()
        bias = dec.head.bias.view(cfg.istft_sub, 4, n_bins)
        bias.fill_(0.0)
        bias[:, 0] = -30.0  # direct branch silent
        bias[:, 2] = -30.0
        bias[:, 2, bin_k] = 0.0  # tonal magnitude 1 in bin k only
        # advance of a frequency a third of a bin above bin k's centre, per STFT hop
        bias[:, 3, bin_k] = 2 * torch.pi * offset * dec.hop_s / dec.n_fft
        audio = codec.decode(torch.zeros(1, cfg.latent_dim, 60))[0]
    x = audio[10 * cfg.hop : 50 * cfg.hop].numpy()
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    freq = spec.argmax() * cfg.sample_rate / len(x)
    expected = (bin_k + offset) * cfg.sample_rate / dec.n_fft
    assert abs(freq - expected) < cfg.sample_rate / len(x) * 1.5
    env = x.reshape(-1, dec.hop_s)
    rms = np.sqrt((env**2).mean(1))
    assert rms.min() > 0.9 * rms.max()  # steady: no beating between overlapping frames


def test_windowed_decode_without_context_differs() -> None:
    """The context is needed: without it the window edges differ (what decoder_context guards)."""
    cfg = CodecConfig.tiny()
    codec = _perturbed(cfg, seed=2)
    assert codec.decoder_context >= 2
    codes = torch.randint(0, cfg.codebook_size, (1, cfg.n_codebooks, 30))
    with torch.inference_mode():
        emb = codec.codes_to_embeddings(codes)
        whole = codec.decode(emb)
        window = codec.decode(emb[:, :, 10:20])
    err = (window - whole[:, 10 * cfg.hop : 20 * cfg.hop]).abs().max()
    assert float(err) > 1e-4 * float(whole.abs().max())


def test_decoder_context_matches_receptive_field() -> None:
    cfg = CodecConfig.tiny()
    codec = Codec(cfg)
    conv = cfg.dec_in_kernel // 2 + cfg.dec_layers * (cfg.dec_kernel // 2)
    assert codec.decoder_context == conv + 1  # + one frame of overlap-add
    big = Codec(CodecConfig(dec_layers=4, dec_kernel=5))
    assert big.decoder_context == 1 + 4 * 2 + 1


def test_forward_trains_through_quantiser() -> None:
    cfg = CodecConfig.tiny()
    torch.manual_seed(0)
    codec = Codec(cfg).train()
    audio = torch.randn(4, 8 * cfg.hop) * 0.2
    out = codec(audio)
    assert out.audio.shape == audio.shape
    assert out.codes.shape == (4, cfg.n_codebooks, 8)
    assert torch.isfinite(out.commit_loss)
    (out.audio.pow(2).mean() + out.commit_loss).backward()
    grad = codec.encoder.proj.weight.grad
    assert grad is not None and float(grad.abs().sum()) > 0  # straight-through estimator
    assert int(codec.quantizer.initialized) == 1


def test_kmeans_init_and_dead_code_restart() -> None:
    cfg = CodecConfig(n_codebooks=2, codebook_size=32, latent_dim=8)
    vq = ResidualVQ(cfg).train()
    torch.manual_seed(0)
    z = torch.randn(4, 8, 64)  # 256 vectors
    vq(z)
    codes = vq.encode(z)
    # k-means init spreads the first codebook over the data: most codes are used
    assert len(torch.unique(codes[:, 0])) > 0.6 * cfg.codebook_size
    # kill half the first codebook: far away and never hit
    with torch.no_grad():
        vq.embed[0, :16] = 100.0
        vq.cluster_size[0, :16] = 0.0
    vq(z)
    assert float(vq.embed[0, :16].abs().max()) < 10.0  # restarted from the batch
    assert float(vq.cluster_size[0, :16].min()) > 0.0


def test_eval_mode_does_not_update_codebooks() -> None:
    cfg = CodecConfig.tiny()
    codec = Codec(cfg).train()
    codec(torch.randn(2, 8 * cfg.hop))
    before = codec.quantizer.embed.clone()
    codec.eval()
    with torch.inference_mode():
        codec.encode(torch.randn(2, 8 * cfg.hop))
        codec(torch.randn(2, 8 * cfg.hop))
    assert torch.equal(before, codec.quantizer.embed)


def test_mel_filterbank_has_no_empty_filters() -> None:
    fb = mel_filterbank(48000, 2048, 128)
    assert fb.shape == (128, 1025)
    assert torch.allclose(fb.sum(1), torch.ones(128))


def test_config_round_trip_and_validation() -> None:
    cfg = CodecConfig.tiny()
    assert CodecConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown codec config"):
        CodecConfig.from_dict({**cfg.to_dict(), "bogus": 1})
    with pytest.raises(ValueError, match="istft_n_fft"):
        Codec(CodecConfig(istft_n_fft=1000))
    # a file made before the pitch codes' level gate loads without one
    old = {k: v for k, v in CodecConfig.pitched().to_dict().items() if k != "pitch_gate_db"}
    assert CodecConfig.from_dict(old).pitch_gate_db is None


def test_first_smooth_makes_the_first_codebook_slow() -> None:
    torch.manual_seed(0)
    z = torch.randn(2, 8, 128)  # white latents: consecutive frames unrelated

    def repeat_rate(codes: Tensor) -> float:
        return float((codes[:, :, 1:] == codes[:, :, :-1]).float().mean())

    plain = ResidualVQ(CodecConfig(n_codebooks=2, codebook_size=16, latent_dim=8)).train()
    slow = ResidualVQ(
        CodecConfig(n_codebooks=2, codebook_size=16, latent_dim=8, first_smooth=9)
    ).train()
    plain(z)
    _, codes_fwd, _ = slow(z)
    plain.eval()
    slow.eval()
    codes_plain, codes_slow = plain.encode(z), slow.encode(z)
    assert torch.equal(codes_fwd, codes_slow)  # training pass and encode agree
    assert repeat_rate(codes_slow[:, :1]) > repeat_rate(codes_plain[:, :1]) + 0.3
    # codebook 0 holds the nearest entry to the averaged latent ...
    avg = torch.nn.functional.avg_pool1d(z, 9, 1, 4, count_include_pad=False)
    dist = torch.cdist(avg.transpose(1, 2), slow.embed[0][None].expand(2, -1, -1))
    assert torch.equal(codes_slow[:, 0], dist.argmin(-1))
    # ... and the next codebook codes what it leaves of the latent itself
    err1 = (slow.lookup(codes_slow[:, :1]) - z).pow(2).mean()
    err2 = (slow.lookup(codes_slow) - z).pow(2).mean()
    assert float(err2) < float(err1)
    with pytest.raises(ValueError, match="first_smooth"):
        Codec(CodecConfig(first_smooth=4))
