"""The codec: a VQ-VAE that turns 48 kHz mono audio into discrete codes and back.

* Encoder: log-mel frames at a quarter of the code hop, stacked per code frame, then a small
  ConvNeXt stack at the code frame rate (``sample_rate / hop`` frames a second).
* Quantiser: residual vector quantisation, ``n_codebooks`` codebooks of ``codebook_size``
  entries, updated by exponential moving averages, initialised by k-means on the first batch,
  with dead codes restarted from the batch, and quantiser dropout in training.
* Decoder (fast on a CPU, in the style of Vocos): a ConvNeXt stack at the code frame rate,
  then a head predicting ``istft_sub`` complex STFT frames per code frame (log-magnitude and
  phase), and an overlap-add inverse FFT. No transposed convolutions at the audio rate.
  With ``phase="tonal"`` a second spectrum is added whose phase is accumulated from
  predicted instantaneous frequencies, so steady tones come out steady at any pitch.
* ``pack`` P > 1: the three run at ``hop // P`` and each code frame holds the codes of its P
  sub-frames, so the prior takes ``sample_rate / hop`` steps a second whatever the codec's
  own rate.

The decoder has no absolute-position dependence (zero-padded non-causal convolutions,
per-frame layer norms), so a window of frames decoded with :attr:`Codec.decoder_context`
frames of context on each side equals the same frames of a whole-sequence decode, given the
tonal phase the stream reached at the window's first frame (:meth:`Codec.decode_window`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .codec_config import CodecConfig

__all__ = [
    "CodecConfig",
    "CodecOutput",
    "Codec",
    "Encoder",
    "Decoder",
    "ResidualVQ",
    "dropout_counts",
    "mel_band_matrix",
    "mel_filterbank",
]


class CodecOutput(NamedTuple):
    audio: Tensor  # (B, T) reconstruction
    codes: Tensor  # (B, K, F) long
    commit_loss: Tensor  # scalar
    latent: Tensor  # (B, D, F * pack) encoder output before quantisation
    harmonics: Tensor | None = None  # (B, H, F) a pitched decoder's harmonic amplitudes
    # (B, H, F) each, the input's harmonic amplitudes at the coded f0 and where they count
    # (:func:`~distill_live.model.harmonic.harmonic_targets`): a pitched codec's training pass
    targets: tuple[Tensor, Tensor] | None = None


def _hz_to_mel(f: Tensor) -> Tensor:
    return 2595.0 * torch.log10(1.0 + f / 700.0)


def _mel_to_hz(m: Tensor) -> Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0) -> Tensor:
    """Triangular HTK mel filters, (n_mels, n_fft // 2 + 1), each normalised to unit area."""
    n_bins = n_fft // 2 + 1
    freqs = torch.linspace(0, sample_rate / 2, n_bins, dtype=torch.float64)
    mels = torch.linspace(
        float(_hz_to_mel(torch.tensor(fmin))),
        float(_hz_to_mel(torch.tensor(sample_rate / 2))),
        n_mels + 2,
        dtype=torch.float64,
    )
    hz = _mel_to_hz(mels)
    lower, center, upper = hz[:-2, None], hz[1:-1, None], hz[2:, None]
    up = (freqs[None] - lower) / (center - lower)
    down = (upper - freqs[None]) / (upper - center)
    fb = torch.clamp(torch.minimum(up, down), min=0.0)
    # a filter narrower than one bin would be empty: give it its nearest bin
    empty = fb.sum(1) == 0
    if empty.any():
        nearest = torch.round(center[:, 0] / (sample_rate / n_fft)).long().clamp(0, n_bins - 1)
        fb[empty, nearest[empty]] = 1.0
    fb = fb / fb.sum(1, keepdim=True)
    return fb.float()


def mel_band_matrix(n_bins: int, sample_rate: int, bands: int) -> Tensor:
    """(bands, bins): each bin's weights on the band values, triangles between band centres
    spaced evenly on the mel scale from 0 Hz to Nyquist (each column sums to 1)."""
    hz = torch.linspace(0.0, sample_rate / 2, n_bins, dtype=torch.float64)
    centres = _mel_to_hz(torch.linspace(0.0, float(_hz_to_mel(hz[-1])), bands, dtype=torch.float64))
    pos = torch.searchsorted(centres, hz, right=True).clamp(1, bands - 1)  # upper centre
    lo, hi = centres[pos - 1], centres[pos]
    frac = ((hz - lo) / (hi - lo)).clamp(0.0, 1.0)
    m = torch.zeros(bands, n_bins, dtype=torch.float64)
    cols = torch.arange(n_bins)
    m[pos - 1, cols] = 1.0 - frac
    m[pos, cols] += frac
    return m.float()


class ConvNeXtBlock(nn.Module):
    """Depthwise conv → layer norm → MLP → scaled residual, on (B, C, T)."""

    def __init__(self, dim: int, kernel: int, mult: int, layer_scale: float = 0.1) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * mult)
        self.fc2 = nn.Linear(dim * mult, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: Tensor) -> Tensor:  # (B, C, T) → (B, C, T)
        y = self.dwconv(x).transpose(1, 2)  # (B, T, C)
        y = self.fc2(F.gelu(self.fc1(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2)


class Encoder(nn.Module):
    """Audio (B, T) → latent (B, D, T // hop)."""

    window: Tensor
    mel_fb: Tensor

    def __init__(self, c: CodecConfig) -> None:
        super().__init__()
        self.c = c
        self.mel_hop = c.hop // c.enc_sub
        self.register_buffer("window", torch.hann_window(c.enc_n_fft), persistent=False)
        self.register_buffer(
            "mel_fb", mel_filterbank(c.sample_rate, c.enc_n_fft, c.enc_n_mels), persistent=False
        )
        self.conv_in = nn.Conv1d(c.enc_n_mels * c.enc_sub, c.enc_dim, 3, padding=1)
        # the samples themselves: log-mels hold no phase, and without phase a decoder that
        # is invariant to shifts by one frame can only make tones periodic in the hop
        self.wave_in = nn.Linear(c.hop, c.enc_dim) if c.enc_wave else None
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(c.enc_dim, c.enc_kernel, c.mlp_mult) for _ in range(c.enc_layers)
        )
        self.norm = nn.LayerNorm(c.enc_dim)
        self.proj = nn.Linear(c.enc_dim, c.latent_dim)

    def features(self, audio: Tensor) -> Tensor:  # (B, T) → (B, n_mels * sub, F)
        c = self.c
        n_frames = audio.shape[-1] // c.hop
        spec = torch.stft(
            audio.float(),
            c.enc_n_fft,
            self.mel_hop,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        ).abs()  # (B, bins, T // mel_hop + 1)
        mel = torch.log(torch.clamp(self.mel_fb @ spec, min=1e-5))  # (B, M, S)
        mel = (mel + 5.0) / 4.0
        mel = mel[:, :, : n_frames * c.enc_sub]
        b, m, _ = mel.shape
        mel = mel.reshape(b, m, n_frames, c.enc_sub).permute(0, 1, 3, 2)  # (B, M, sub, F)
        return mel.reshape(b, m * c.enc_sub, n_frames)

    def forward(self, audio: Tensor, extra: Tensor | None = None) -> Tensor:
        """(B, T) → (B, D, F). ``extra`` (B, C, F): more input, added after the first layer
        (the pitched codec's harmonic amplitudes)."""
        x = self.conv_in(self.features(audio))  # (B, C, F)
        if self.wave_in is not None:
            b, f = x.shape[0], x.shape[2]
            frames = audio[:, : f * self.c.hop].reshape(b, f, self.c.hop)
            x = x + self.wave_in(frames * 4.0).transpose(1, 2)
        if extra is not None:
            x = x + extra
        for block in self.blocks:
            x = block(x)
        return self.proj(self.norm(x.transpose(1, 2))).transpose(1, 2)


class Decoder(nn.Module):
    """Embeddings (B, D, F) → audio (B, F * hop) through an overlap-add inverse FFT.

    With ``phase="tonal"`` the spectrum of each STFT frame is the sum of a *direct* part
    (magnitude and phase predicted per frame: transients, noise) and a *tonal* part whose
    phase is accumulated over frames from predicted instantaneous frequencies::

        phi[j] = phi[j - 1] + 2 pi k hop_s / n_fft + delta[j]      (per bin k)

    so a latent that stays the same gives a steady tone at any pitch, not only at multiples
    of the frame rate. The accumulated phase is the decoder's only state: a window decoded
    with the phase of its first output frame (:meth:`decode_window`) equals the same frames
    of a whole-sequence decode.
    """

    window: Tensor
    omega: Tensor
    phase0: Tensor

    def __init__(self, c: CodecConfig) -> None:
        super().__init__()
        self.c = c
        self.n_fft = c.istft_n_fft
        self.hop_s = c.hop // c.istft_sub
        self.n_bins = self.n_fft // 2 + 1
        self.tonal = c.phase == "tonal"
        self.register_buffer(
            "window", torch.hann_window(self.n_fft, periodic=True), persistent=False
        )
        # phase advance per STFT hop of each bin's centre frequency, wrapped to [0, 2 pi)
        k = torch.arange(self.n_bins, dtype=torch.float64)
        omega = torch.remainder(2 * math.pi * k * self.hop_s / self.n_fft, 2 * math.pi)
        self.register_buffer("omega", omega.float(), persistent=False)
        # a fixed, seeded starting phase (all-zero phases would start with a click)
        g = torch.Generator().manual_seed(1234)
        self.register_buffer(
            "phase0", torch.rand(self.n_bins, generator=g) * 2 * math.pi, persistent=False
        )
        # the periodic Hann windows at this hop sum to a constant: n_fft / (2 * hop_s)
        self.ola_gain = self.n_fft / (2 * self.hop_s)
        self.conv_in = nn.Conv1d(
            c.latent_dim, c.dec_dim, c.dec_in_kernel, padding=c.dec_in_kernel // 2
        )
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(c.dec_dim, c.dec_kernel, c.mlp_mult) for _ in range(c.dec_layers)
        )
        self.norm = nn.LayerNorm(c.dec_dim)
        self.n_out = 4 if self.tonal else 2  # per bin: log-mag, phase (+ tonal log-mag, freq)
        self.head = nn.Linear(c.dec_dim, c.istft_sub * self.n_out * self.n_bins)
        with torch.no_grad():
            # start near the level of typical audio (RMS ~0.03): bins of about 0.03 sqrt(n_fft)
            level = math.log(0.03 * math.sqrt(self.n_fft) / (2 if self.tonal else 1))
            bias = self.head.bias.view(c.istft_sub, self.n_out, self.n_bins)
            bias[:, 0] = level
            if self.tonal:
                bias[:, 2] = level
                bias[:, 3] = 0.0
                self.head.weight.view(c.istft_sub, self.n_out, self.n_bins, -1)[:, 3] *= 0.1

    @property
    def context(self) -> int:
        """Code frames of context needed on each side for an exact windowed decode."""
        c = self.c
        conv = c.dec_in_kernel // 2 + c.dec_layers * (c.dec_kernel // 2)
        overlap = (self.n_fft - self.hop_s) // 2  # samples a segment reaches past its hop
        return conv + math.ceil(overlap / c.hop)

    def _frames(self, emb: Tensor) -> Tensor:  # (B, D, F) → (B, F * sub, n_out, bins)
        c = self.c
        x = self.conv_in(emb)
        for block in self.blocks:
            x = block(x)
        y = self.head(self.norm(x.transpose(1, 2)))  # (B, F, sub * n_out * bins)
        b, f, _ = y.shape
        return y.reshape(b, f * c.istft_sub, self.n_out, self.n_bins)

    def spectrum(
        self, emb: Tensor, anchor: Tensor | None = None, at: int = 0
    ) -> tuple[Tensor, Tensor | None]:
        """Complex STFT frames (B, F * sub, bins), and the tonal phase (B, F * sub, bins).

        ``anchor`` (B, bins) is the tonal phase of code frame ``at`` of this window (its
        first STFT frame); without it the sequence starts at code frame 0 from a fixed phase.
        """
        y = self._frames(emb)
        # no low clamp: loud tones reach ~1e3
        spec = torch.polar(torch.exp(torch.clamp(y[:, :, 0], max=12.0)), y[:, :, 1])
        if not self.tonal:
            return spec, None
        inc = self.omega + y[:, :, 3]  # (B, J, bins) phase advance into each frame
        # float64 and wrapped: the same phase whether a stream is decoded whole or in windows
        acc = torch.cumsum(inc.double(), dim=1)
        j = at * self.c.istft_sub
        ref = self.phase0.expand(acc.shape[0], -1) if anchor is None else anchor
        phi = torch.remainder(acc - acc[:, j : j + 1] + ref[:, None].double(), 2 * math.pi)
        phi = phi.float()
        tonal = torch.polar(torch.exp(torch.clamp(y[:, :, 2], max=12.0)), phi)
        return spec + tonal, phi

    def _istft(self, spec: Tensor, n_frames: int) -> Tensor:  # (B, J, bins) → (B, F * hop)
        seg = torch.fft.irfft(spec, n=self.n_fft) * self.window  # (B, J, n_fft)
        n_seg = seg.shape[1]
        length = (n_seg - 1) * self.hop_s + self.n_fft
        out = F.fold(
            seg.transpose(1, 2),  # (B, n_fft, J)
            output_size=(1, length),
            kernel_size=(1, self.n_fft),
            stride=(1, self.hop_s),
        )[:, 0, 0]  # (B, length)
        # segment j is centred on (j + 1/2) * hop_s
        start = self.n_fft // 2 - self.hop_s // 2
        return out[:, start : start + n_frames * self.c.hop] / self.ola_gain

    def forward(self, emb: Tensor) -> Tensor:  # (B, D, F) → (B, F * hop)
        spec, _ = self.spectrum(emb)
        return self._istft(spec, emb.shape[-1])

    def decode_window(
        self, emb: Tensor, anchor: Tensor | None, at: int, next_at: int
    ) -> tuple[Tensor, Tensor | None]:
        """Decode a window (B, D, F) → (audio (B, F * hop), tonal phase of frame ``next_at``).

        ``anchor`` is the tonal phase of frame ``at`` (from the previous window's
        ``next_at``, or None at the start of a stream). Direct-phase decoders return None,
        and so does a window that ends at ``next_at``.
        """
        spec, phi = self.spectrum(emb, anchor, at)
        audio = self._istft(spec, emb.shape[-1])
        if phi is None:
            return audio, None
        j = next_at * self.c.istft_sub
        if j >= phi.shape[1]:  # the window ends there: no frame to take the phase of
            return audio, None
        return audio, phi[:, j].clone()


class ResidualVQ(nn.Module):
    """Residual vector quantiser with EMA codebooks, k-means init and dead-code restarts."""

    embed: Tensor  # (K, V, D) the codebooks
    cluster_size: Tensor  # (K, V) EMA of hits per step
    embed_sum: Tensor  # (K, V, D) EMA of the vectors assigned to each code
    initialized: Tensor  # () 1 once k-means has run

    def __init__(self, c: CodecConfig) -> None:
        super().__init__()
        self.c = c
        k, v, d = c.n_codebooks, c.codebook_size, c.latent_dim
        self.register_buffer("embed", torch.randn(k, v, d) * 0.1)  # (K, V, D)
        self.register_buffer("cluster_size", torch.zeros(k, v))  # EMA of hits per step
        self.register_buffer("embed_sum", torch.zeros(k, v, d))
        self.register_buffer("initialized", torch.zeros((), dtype=torch.long))

    @staticmethod
    def _nearest(x: Tensor, embed: Tensor) -> Tensor:  # (N, D), (V, D) → (N,)
        dist = (x * x).sum(1, keepdim=True) - 2 * x @ embed.t() + (embed * embed).sum(1)[None]
        return dist.argmin(1)

    @torch.no_grad()
    def _kmeans_init(self, k: int, x: Tensor, iters: int = 10) -> None:
        v = self.c.codebook_size
        idx = torch.randint(0, x.shape[0], (v,), device=x.device)
        centers = x[idx] + 1e-3 * torch.randn(v, x.shape[1], device=x.device)
        for _ in range(iters):
            assign = self._nearest(x, centers)
            counts = torch.bincount(assign, minlength=v).float()
            sums = torch.zeros_like(centers).index_add_(0, assign, x)
            filled = counts > 0
            centers[filled] = sums[filled] / counts[filled, None]
            # empty clusters take random points
            n_empty = int((~filled).sum())
            if n_empty:
                centers[~filled] = x[torch.randint(0, x.shape[0], (n_empty,), device=x.device)]
        self.embed[k] = centers
        rate = x.shape[0] / v
        self.cluster_size[k] = rate
        self.embed_sum[k] = centers * rate

    @torch.no_grad()
    def _ema_update(self, k: int, x: Tensor, idx: Tensor) -> None:
        c = self.c
        v = c.codebook_size
        d = c.ema_decay
        counts = torch.bincount(idx, minlength=v).float()
        sums = torch.zeros(v, x.shape[1], device=x.device).index_add_(0, idx, x)
        self.cluster_size[k].mul_(d).add_(counts, alpha=1 - d)
        self.embed_sum[k].mul_(d).add_(sums, alpha=1 - d)
        n = self.cluster_size[k].sum()
        smoothed = (self.cluster_size[k] + 1e-5) / (n + v * 1e-5) * n
        self.embed[k] = self.embed_sum[k] / smoothed[:, None]
        # restart dead codes from this batch's residuals
        rate = x.shape[0] / v
        dead = self.cluster_size[k] < c.dead_fraction * rate
        n_dead = int(dead.sum())
        if n_dead and x.shape[0] > 0:
            pick = x[torch.randint(0, x.shape[0], (n_dead,), device=x.device)]
            self.embed[k][dead] = pick
            # a restarted code that is not picked up soon is restarted again
            self.cluster_size[k][dead] = 2 * c.dead_fraction * rate
            self.embed_sum[k][dead] = pick * 2 * c.dead_fraction * rate

    def forward(self, z: Tensor, n_active: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """Quantise latents (B, D, F). Returns (quantised (B, D, F), codes (B, K, F), commit loss).

        ``n_active`` (B,) is how many codebooks each item uses (quantiser dropout); the codes
        of all codebooks are returned regardless. EMA updates happen in training mode only.
        """
        b, d, f = z.shape
        x = z.transpose(1, 2).reshape(b * f, d)  # (N, D)
        if n_active is None:
            mask_items = torch.ones(b, self.c.n_codebooks, dtype=torch.bool, device=z.device)
        else:
            ks = torch.arange(self.c.n_codebooks, device=z.device)
            mask_items = ks[None] < n_active[:, None]  # (B, K)
        mask = mask_items.repeat_interleave(f, dim=0)  # (N, K)
        first = self._first_input(z.detach(), x.detach())  # (N, D) what codebook 0 quantises
        if self.training and int(self.initialized) == 0:
            with torch.no_grad():
                r = x.detach().clone()
                for k in range(self.c.n_codebooks):
                    src = first if k == 0 else r
                    self._kmeans_init(k, src)
                    r = r - self.embed[k][self._nearest(src, self.embed[k])]
                self.initialized.fill_(1)
        residual = x.detach()
        quant = torch.zeros_like(x)
        codes = []
        for k in range(self.c.n_codebooks):
            src = first if k == 0 else residual
            idx = self._nearest(src, self.embed[k])
            codes.append(idx)
            q = self.embed[k][idx]  # (N, D)
            m = mask[:, k : k + 1].to(x.dtype)
            if self.training:
                sel = mask[:, k]
                self._ema_update(k, src[sel], idx[sel])
            quant = quant + q * m
            residual = residual - q * m
        commit = F.mse_loss(x, quant.detach())
        out = x + (quant - x).detach()  # straight-through
        codes_t = torch.stack(codes, 1).reshape(b, f, -1).permute(0, 2, 1)  # (B, K, F)
        return out.reshape(b, f, d).transpose(1, 2), codes_t, commit

    def _first_input(self, z: Tensor, flat: Tensor) -> Tensor:  # (B, D, F), (N, D) → (N, D)
        """What the first codebook quantises: ``flat`` (the latent z flattened like the
        residual) itself, or with ``first_smooth`` > 1 z averaged over that many frames
        centred on each (fewer at the ends), flattened the same way."""
        s = self.c.first_smooth
        if s == 1:
            return flat
        b, d, f = z.shape
        z = F.avg_pool1d(z, s, stride=1, padding=s // 2, count_include_pad=False)
        return z.transpose(1, 2).reshape(b * f, d)

    def encode(self, z: Tensor) -> Tensor:  # (B, D, F) → (B, K, F)
        b, d, f = z.shape
        residual = z.transpose(1, 2).reshape(b * f, d)
        first = self._first_input(z, residual)
        codes = []
        for k in range(self.c.n_codebooks):
            idx = self._nearest(first if k == 0 else residual, self.embed[k])
            codes.append(idx)
            residual = residual - self.embed[k][idx]
        return torch.stack(codes, 1).reshape(b, f, -1).permute(0, 2, 1)

    def lookup(self, codes: Tensor) -> Tensor:  # (B, K, F) → (B, D, F)
        k = codes.shape[1]
        emb = self.embed[0][codes[:, 0]]  # (B, F, D)
        for i in range(1, k):
            emb = emb + self.embed[i][codes[:, i]]
        return emb.transpose(1, 2)


def dropout_counts(z: Tensor, k: int, fraction: float, fewest: int) -> Tensor | None:
    """Quantiser dropout: how many of ``k`` codebooks each item of ``z`` (B, ...) uses, (B,);
    a ``fraction`` of the items draw ``fewest..k`` uniformly, the rest use all ``k``.
    None when ``fraction`` is 0 (every item uses every codebook)."""
    if fraction <= 0:
        return None
    b = z.shape[0]
    n_active = torch.full((b,), k, dtype=torch.long, device=z.device)
    drop = torch.rand(b, device=z.device) < fraction
    n_active[drop] = torch.randint(fewest, k + 1, (int(drop.sum()),), device=z.device)
    return n_active


class Codec(nn.Module):
    """The VQ-VAE: ``encode`` → codes → ``codes_to_embeddings`` → ``decode``.

    Codes are (B, K, F): K = :attr:`n_codebooks` codes per frame of :attr:`hop` samples.
    With ``config.pack`` P > 1 the networks run at ``hop // P`` and the K = n_codebooks x P
    codes of a frame are its sub-frames' codes (see :class:`CodecConfig`); embeddings are
    then (B, D, F * P), one per sub-frame.
    """

    def __init__(self, config: CodecConfig) -> None:
        super().__init__()
        config.validate()
        self.config = config
        self.sample_rate = config.sample_rate
        self.hop = config.hop
        self.pack = config.pack
        self.n_codebooks = config.codes_per_frame
        self.codebook_size = config.codebook_size
        inner = config.inner()
        self.encoder = Encoder(inner)
        self.quantizer = ResidualVQ(inner)
        self.decoder = Decoder(inner)
        # code frames of context on each side for an exact windowed decode
        self.decoder_context = -(-self.decoder.context // self.pack)

    def truncated(self, n_codebooks: int) -> Codec:
        """A copy that keeps only the first ``n_codebooks`` residual codebooks (quantiser
        dropout trains every such prefix to decode on its own); with pack P its frames then
        hold ``n_codebooks * P`` codes."""
        if not 1 <= n_codebooks <= self.config.n_codebooks:
            raise ValueError(
                f"n_codebooks must be in 1..{self.config.n_codebooks}, got {n_codebooks}"
            )
        cfg = dataclasses.replace(self.config, n_codebooks=n_codebooks)
        state = self.state_dict()
        for name in ("quantizer.embed", "quantizer.cluster_size", "quantizer.embed_sum"):
            state[name] = state[name][:n_codebooks].clone()
        new = Codec(cfg).to(self.quantizer.embed.device)
        new.load_state_dict(state)
        return new.train(self.training)

    def _pack(self, codes: Tensor) -> Tensor:  # (B, K, F * P) → (B, K * P, F)
        if self.pack == 1:
            return codes
        b, k, fp = codes.shape
        p = self.pack
        return codes.reshape(b, k, fp // p, p).permute(0, 1, 3, 2).reshape(b, k * p, fp // p)

    def _unpack(self, codes: Tensor) -> Tensor:  # (B, K * P, F) → (B, K, F * P)
        if self.pack == 1:
            return codes
        b, kp, f = codes.shape
        p = self.pack
        if kp % p:
            raise ValueError(
                f"codes must hold a multiple of pack={p} codes per frame in dim 1, got {kp}"
            )
        return codes.reshape(b, kp // p, p, f).permute(0, 1, 3, 2).reshape(b, kp // p, f * p)

    def encode(self, audio: Tensor) -> Tensor:
        """Audio (B, T) float → codes (B, K, T // hop) long."""
        if audio.dim() == 1:
            audio = audio[None]
        audio = audio[:, : audio.shape[-1] // self.hop * self.hop]
        return self._pack(self.quantizer.encode(self.encoder(audio)))

    def codes_to_embeddings(self, codes: Tensor) -> Tensor:
        """Codes (B, K, F) → embeddings (B, D, F * pack); fewer codebooks may be given."""
        if codes.dim() == 2:
            codes = codes[None]
        return self.quantizer.lookup(self._unpack(codes.long()))

    def decode(self, emb: Tensor) -> Tensor:
        """Embeddings (B, D, F * pack) → audio (B, F * hop) float32."""
        return self.decoder(emb).float()

    def decode_window(
        self, emb: Tensor, anchor: Tensor | None, at: int, next_at: int
    ) -> tuple[Tensor, Tensor | None]:
        """Decode one window of a stream: (audio (B, F * hop), decoder state at ``next_at``).

        The decoder's state is the tonal branch's phase (B, bins), or None for a codec
        without one. Pass the state a previous window returned for the same frame as
        ``anchor`` with ``at`` = that frame's index in this window, and the window equals
        the same frames of a whole-sequence decode (given :attr:`decoder_context` frames of
        context on both sides); None starts a stream. ``at`` and ``next_at`` count code
        frames.
        """
        audio, state = self.decoder.decode_window(emb, anchor, at * self.pack, next_at * self.pack)
        return audio.float(), state

    def forward(self, audio: Tensor, quantizer_dropout: bool | None = None) -> CodecOutput:
        """Training pass: audio (B, T) → reconstruction (B, F * hop), codes (B, K, F), commit
        loss, latent (B, D, F * pack)."""
        audio = audio[:, : audio.shape[-1] // self.hop * self.hop]
        z = self.encoder(audio)  # (B, D, F * pack)
        use_dropout = self.training if quantizer_dropout is None else quantizer_dropout
        n_active = None
        if use_dropout:
            n_active = dropout_counts(z, self.config.n_codebooks, self.config.quantizer_dropout, 1)
        zq, codes, commit = self.quantizer(z, n_active)
        return CodecOutput(self.decoder(zq), self._pack(codes), commit, z)
