"""The pitched codec: a pitch codebook, residual codebooks, and a decoder that streams.

* Codes (B, K, F): codebook 0 is the pitch of each frame on a fixed grid
  (:class:`~distill_live.model.pitch.PitchGrid`: code 0 unpitched, then 25-cent steps), from
  the config's f0 tracker (``pitch_tracker``: pYIN for what ``train`` builds, WORLD for
  speed); codebooks 1..K-1 are a residual VQ of the encoder's latent (the same
  :class:`~distill_live.model.codec.Encoder` and :class:`~distill_live.model.codec.ResidualVQ`
  as the plain codec), which carry what pitch does not: loudness, timbre, noise, attacks.
* Decoder: a causal ConvNeXt stack at the code frame rate reads the pitch embedding plus the
  residual embeddings, and two heads render each frame:

  - harmonic: one amplitude per harmonic for an oscillator bank whose phase runs sample by
    sample from the frame's f0 (:func:`~distill_live.model.harmonic.harmonic_bank`), so a
    held note is a continuous set of partials at exactly the coded pitch;
  - residual: ``istft_sub`` complex STFT frames per code frame overlap-added by an inverse
    FFT of ``2 * hop`` samples, for what is not one harmonic series (chords, hums, noise,
    transients); its phase: see ``CodecConfig.phase`` and ``residual_dither``.

* Streaming: every layer is causal, so each code frame is decoded once. The state
  (:class:`DecoderState`) holds each convolution's last inputs, the oscillators, and the
  overlap-add tail; the only look-ahead is the overlap-add's one frame: after frames
  0..n-1 the stream has emitted the audio of frames up to n-2, plus one frame of lead-in.
  :meth:`PitchedCodec.decode` of a whole sequence equals the concatenated stream (tested).
* Embeddings (B, D + 1, F): the summed code vectors, then each frame's f0 in Hz.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .codec import (
    Codec,
    CodecConfig,
    CodecOutput,
    Encoder,
    ResidualVQ,
    dropout_counts,
    mel_band_matrix,
)
from .harmonic import (
    OscState,
    f0_feature,
    harmonic_bank,
    harmonic_features,
    harmonic_targets,
)
from .layouts import conv_windows, param_versions
from .pitch import PitchGrid, frame_f0

__all__ = ["DecoderState", "PitchedCodec", "StreamingDecoder", "build_codec"]


class CausalBlock(nn.Module):
    """ConvNeXt block with a causal depthwise conv: (B, C, T) plus the last k-1 inputs."""

    def __init__(self, dim: int, kernel: int, mult: int, layer_scale: float = 0.1) -> None:
        super().__init__()
        self.kernel = kernel
        self.weight = nn.Parameter(torch.randn(dim, kernel) / math.sqrt(kernel))  # depthwise
        self.bias = nn.Parameter(torch.zeros(dim))
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * mult)
        self.fc2 = nn.Linear(dim * mult, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: Tensor, cache: Tensor) -> tuple[Tensor, Tensor]:
        """x (B, C, T), cache (B, C, k-1) the inputs before x → (B, C, T), the new cache."""
        xc = torch.cat([cache, x], dim=2)  # (B, C, k - 1 + T)
        t = x.shape[2]
        # the depthwise conv as k shifted products: torch's grouped conv1d costs about 75 us a
        # call on a few frames, which a stream of 2-frame chunks pays 7 times per chunk
        y = self.bias[:, None] + self.weight[:, :1] * xc[:, :, :t]
        for i in range(1, self.kernel):
            y = torch.addcmul(y, self.weight[:, i : i + 1], xc[:, :, i : i + t])
        y = y.transpose(1, 2)  # (B, T, C)
        y = self.fc2(F.gelu(self.fc1(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2), xc[:, :, xc.shape[2] - (self.kernel - 1) :]


@dataclass
class DecoderState:
    """Where a decoding stream stands: enough to decode the next frames exactly.

    caches: per causal conv, its last k-1 inputs (B, C, k-1). osc: the oscillator bank.
    pending: (B, hop) harmonic audio of the last frame, not yet emitted (the overlap-add
    is a frame behind). tail: (B, n_fft - hop_s) overlap-add sums not yet complete.
    res_phase: (B, bins) float64, the residual's last STFT frame's phase per bin (where the
    running phase goes on from); dithered direct phase: its log-magnitudes; else zeros.
    frames: code frames decoded so far (also which rows of the noise table come next).
    """

    caches: list[Tensor]
    osc: OscState
    pending: Tensor
    tail: Tensor
    res_phase: Tensor
    frames: int = 0

    def clone(self) -> DecoderState:
        caches = [c.clone() for c in self.caches]
        return DecoderState(
            caches, self.osc.clone(), self.pending.clone(), self.tail.clone(),
            self.res_phase.clone(), self.frames,
        )  # fmt: skip


@dataclass(frozen=True)
class _StepWeights:
    """The weights the inference step multiplies by, in (in, out) layouts, contiguous: built
    once per set of parameter values. ``key``: the storage and version of each parameter
    they come from (``sources``), which an optimiser step, ``load_state_dict`` or ``.to``
    changes."""

    key: list[tuple[int, int]]
    sources: list[Tensor]
    conv_in: Tensor  # (k_in * (D + 1), C), rows (tap, channel)
    conv_in_bias: Tensor  # (C,): the parameter itself
    fc1: list[Tensor]  # per block (C, mult * C)
    fc2: list[Tensor]  # per block (mult * C, C)
    head: Tensor  # (C, H + sub * 2 * bins): harm_head and res_head side by side
    head_bias: Tensor  # (H + sub * 2 * bins,)
    head_max: Tensor  # (H + sub * 2 * bins,): the clamps before exp (2 amps, 12 log-mag)
    zero: Tensor  # (): constants as tensors (a Python number costs a conversion per call)
    ref_hz: Tensor  # (): the f0 feature's reference, 220 Hz


_OLA_PRODUCT_FRAMES = 8  # _fast_step overlap-adds up to this many frames by one product

#: bands (mel-spaced, interpolated to every bin) of the running phase's noise gate
NOISE_BANDS = 16
#: rows of the running phase's noise table (STFT frames; about 11 s at hop 512 before it
#: repeats, far below any comb a listener or a 2048-point STFT resolves)
NOISE_ROWS = 1024
ONSET_NATS = 1.0  #: a bin's log-magnitude rise (an onset) that the dither leaves alone
RES_LOG_MAG_MAX = 12.0  #: the residual's log-magnitudes are clamped to this before exp
_NOISE_SEED = 0x5EED  # the table is made from this seed, the same on every machine


class StreamingDecoder(nn.Module):
    """Embeddings (B, D + 1, F) → audio: harmonic oscillators plus an iSTFT residual."""

    window: Tensor
    advance: Tensor
    band_mat: Tensor
    noise: Tensor

    def __init__(self, c: CodecConfig, n_harmonics: int) -> None:
        super().__init__()
        if c.istft_n_fft != 2 * c.hop or c.hop % c.istft_sub:
            raise ValueError(
                f"the pitched decoder needs istft_n_fft = 2 * hop and istft_sub dividing hop, "
                f"got istft_n_fft={c.istft_n_fft}, hop={c.hop}, istft_sub={c.istft_sub}"
            )
        self.c = c
        self.n_harmonics = n_harmonics
        self.n_fft = c.istft_n_fft
        self.hop_s = c.hop // c.istft_sub
        self.n_bins = self.n_fft // 2 + 1
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        self.ola_gain = self.n_fft / (2 * self.hop_s)  # periodic Hann windows sum to this
        self.running = c.phase == "running"
        self.n_gates = NOISE_BANDS if self.running else 0
        # the running phase's constants: each bin centre's advance over one STFT hop (wrapped),
        # the gate bands' interpolation, the seeded noise in [-π, π)
        k = torch.arange(self.n_bins, dtype=torch.float64)
        self.register_buffer(
            "advance",
            torch.remainder(2 * math.pi * k * self.hop_s / self.n_fft, 2 * math.pi).float(),
            persistent=False,
        )
        self.register_buffer(
            "band_mat", mel_band_matrix(self.n_bins, c.sample_rate, NOISE_BANDS), persistent=False
        )
        g = torch.Generator().manual_seed(_NOISE_SEED)
        self.dither = float(c.residual_dither) if not self.running else 0.0
        rows = NOISE_ROWS if self.running or self.dither else 1
        noise = torch.rand(rows, self.n_bins, generator=g)
        noise = (noise * 2 - 1) * math.pi
        self.register_buffer("noise", noise, persistent=False)
        self.in_kernel = c.dec_in_kernel
        self.conv_in = nn.Conv1d(c.latent_dim + 1, c.dec_dim, c.dec_in_kernel)
        self.blocks = nn.ModuleList(
            CausalBlock(c.dec_dim, c.dec_kernel, c.mlp_mult) for _ in range(c.dec_layers)
        )
        self.norm = nn.LayerNorm(c.dec_dim)
        self.harm_head = nn.Linear(c.dec_dim, n_harmonics)
        # per STFT frame: log-magnitudes and phases (or deviations) of every bin, then (running
        # phase) the noise gates of every frame of the code frame
        self.n_res = c.istft_sub * 2 * self.n_bins
        self.res_head = nn.Linear(c.dec_dim, self.n_res + c.istft_sub * self.n_gates)
        with torch.no_grad():  # start quiet: partials of 0.01, residual bins near RMS 0.01
            self.harm_head.bias.fill_(math.log(0.01))
            self.harm_head.weight.mul_(0.1)
            res = self.res_head.bias[: self.n_res].view(c.istft_sub, 2, self.n_bins)
            res[:, 0] = math.log(0.01 * math.sqrt(self.n_fft))
            if self.running:  # deviations near 0, gates near half open
                w = self.res_head.weight[: self.n_res].view(c.istft_sub, 2, self.n_bins, -1)
                w[:, 1].mul_(0.1)
                res[:, 1] = 0.0
                self.res_head.bias[self.n_res :] = 0.0
        self._weights: _StepWeights | None = None  # built by _step_weights
        self._ola_mats: dict[tuple[int, torch.dtype, torch.device], Tensor] = {}

    def initial_state(self, batch: int, device: torch.device | None = None) -> DecoderState:
        c = self.c
        caches = [torch.zeros(batch, c.latent_dim + 1, self.in_kernel - 1, device=device)]
        caches += [
            torch.zeros(batch, c.dec_dim, c.dec_kernel - 1, device=device) for _ in self.blocks
        ]
        osc = OscState.initial(batch, self.n_harmonics)
        if device is not None:
            osc = OscState(osc.phase.to(device), osc.f0.to(device), osc.amps.to(device))
        return DecoderState(
            caches,
            osc,
            torch.zeros(batch, c.hop, device=device),
            torch.zeros(batch, self.n_fft - self.hop_s, device=device),
            torch.zeros(batch, self.n_bins, dtype=torch.float64, device=device),
        )

    def _phases(
        self, out: Tensor, gates: Tensor, state: DecoderState, log_mag: Tensor
    ) -> tuple[Tensor, Tensor]:
        """The residual's phases for J new STFT frames → (B, J, bins) and the last one's
        (B, bins) float64 for the state.

        out: (B, J, bins) the head's phase outputs. gates: (B, J, NOISE_BANDS) the noise
        gates' logits (empty for ``phase="direct"``, where ``out`` is the phase itself,
        dithered by :meth:`_dithered`; ``log_mag`` (B, J, bins) is its input).
        Running phase: frame j's phase is frame j-1's plus the bin centre's advance, the
        deviation ``out`` and π times the gate times the noise table's row for frame j
        (rows counted from the stream's start, so a stream in chunks equals the whole).
        """
        if not self.running:
            if self.dither:
                return self._dithered(out, state, log_mag)
            return out, state.res_phase
        noise = self._noise_rows(state, out.shape[1])
        gate = torch.matmul(torch.sigmoid(gates), self.band_mat)  # (B, J, bins)
        step = torch.addcmul(out + self.advance, gate, noise)  # (B, J, bins)
        # summed in float64 (the same float32 steps whatever the chunks, so chunks and the
        # whole agree), wrapped
        run = torch.cumsum(step, dim=1, dtype=torch.float64).add_(state.res_phase.unsqueeze(1))
        run = torch.remainder(run, 2 * math.pi)
        return run.to(out.dtype), run[:, -1].detach()

    def _dithered(self, out: Tensor, state: DecoderState, log_mag: Tensor) -> tuple[Tensor, Tensor]:
        """The direct phase plus ``residual_dither`` times the noise table's rows, less where
        a bin's magnitude rises from the frame before (none from :data:`ONSET_NATS` on: an
        onset keeps its phase); ``res_phase`` carries the last frame's log-magnitudes."""
        lm = torch.clamp(log_mag, max=RES_LOG_MAG_MAX)  # (B, J, bins) as rendered
        prev = torch.cat([state.res_phase.to(lm.dtype).unsqueeze(1), lm[:, :-1]], dim=1)
        keep = torch.clamp((lm - prev) / ONSET_NATS, 0.0, 1.0)  # 1: a full onset
        amount = (1.0 - keep) * self.dither
        noise = self._noise_rows(state, out.shape[1])
        return torch.addcmul(out, amount, noise), lm[:, -1].detach().double()

    def _noise_rows(self, state: DecoderState, j: int) -> Tensor:
        """The noise table's rows (J, bins) for the next J STFT frames, counted from the
        stream's start (a stream decoded in calls equals the whole); training the dither:
        from a random row, so the decoder learns it as noise, not as the table's first rows."""
        if self.training and self.dither and j < NOISE_ROWS:
            first = int(torch.randint(0, NOISE_ROWS - j + 1, ()))
            return self.noise[first : first + j]
        first = state.frames * self.c.istft_sub % NOISE_ROWS
        if first + j <= NOISE_ROWS:  # a stream's call: a view
            return self.noise[first : first + j]
        return self.noise[torch.arange(first, first + j, device=self.noise.device) % NOISE_ROWS]

    @staticmethod
    def _features(emb: Tensor) -> Tensor:
        """The network's view of the last channel, f0: :func:`.harmonic.f0_feature`."""
        return torch.cat([emb[:, :-1], f0_feature(emb[:, -1:])], dim=1)

    def step(self, emb: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """Decode n new frames (B, D + 1, n) → (B, n * hop) audio, and the new state.

        The audio is the n frames' worth the stream has completed: the frames before the
        last one, after the previous call's last frame (the first call starts with one frame
        of lead-in: the left half of the first overlap-add window).

        Without autograd (``no_grad`` / ``inference_mode``) this runs :meth:`_fast_step`,
        with autograd :meth:`_graph_step`: the same sums (equal up to float rounding, tested).
        """
        if torch.is_grad_enabled():
            return self._graph_step(emb, state)
        # oneDNN's GELU (torch's default for CPU floats) costs some microseconds a call more
        # than torch's own kernel: off for the step (a process-wide flag, restored after)
        mkldnn = torch._C._get_mkldnn_enabled()
        torch._C._set_mkldnn_enabled(False)
        try:
            return self._fast_step(emb, state)
        finally:
            torch._C._set_mkldnn_enabled(mkldnn)

    def _step_weights(self) -> _StepWeights:
        """The weights in the fast step's layouts, rebuilt when a parameter they come from
        has changed."""
        w = self._weights
        if w is not None and w.key == param_versions(w.sources):
            return w
        blocks = [blk for blk in self.blocks if isinstance(blk, CausalBlock)]
        sources = [self.conv_in.weight, self.harm_head.weight, self.harm_head.bias]
        sources += [self.res_head.weight, self.res_head.bias]
        sources += [p for blk in blocks for p in (blk.fc1.weight, blk.fc2.weight)]
        # plain tensors even when first called under inference_mode, so that later no_grad
        # calls may use them too
        with torch.inference_mode(False), torch.no_grad():
            n_harm = self.harm_head.out_features
            head_max = self.harm_head.bias.new_zeros(n_harm + self.res_head.out_features)
            head_max[:n_harm] = 2.0  # amplitudes: exp of at most 2
            log_mag = head_max[n_harm : n_harm + self.n_res].view(-1, 2, self.n_bins)
            log_mag[:, 0] = RES_LOG_MAG_MAX  # magnitudes (the phases' exp is unused)
            cw = self.conv_in.weight  # (C, D + 1, k_in)
            assert self.conv_in.bias is not None
            w = _StepWeights(
                key=param_versions(sources),
                sources=sources,
                conv_in=cw.permute(2, 1, 0).reshape(-1, cw.shape[0]).contiguous(),
                conv_in_bias=self.conv_in.bias,
                fc1=[blk.fc1.weight.t().contiguous() for blk in blocks],
                fc2=[blk.fc2.weight.t().contiguous() for blk in blocks],
                head=torch.cat([self.harm_head.weight, self.res_head.weight]).t().contiguous(),
                head_bias=torch.cat([self.harm_head.bias, self.res_head.bias]),
                head_max=head_max,
                zero=cw.new_tensor(0.0),
                ref_hz=cw.new_tensor(220.0),
            )
        self._weights = w
        return w

    def _fast_step(self, emb: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """:meth:`step` without autograd, in few torch calls: activations time-major (B * n
        rows of C), the input conv one product over a window of its cache and the new frames,
        both heads one product, the overlap-add and the harmonic part's delay one product."""
        c = self.c
        w = self._step_weights()
        b, _, n = emb.shape
        f0 = emb[:, -1]  # (B, n) Hz
        # f0_feature (as _features), with the step's constants
        logf = torch.where(
            torch.gt(f0, w.zero), torch.log2(f0.clamp_min(1.0) / w.ref_hz), w.zero
        )  # (B, n)
        new = torch.cat([emb[:, :-1], logf.unsqueeze(1)], 1).transpose(1, 2)  # (B, n, D + 1)
        x = torch.cat([state.caches[0].transpose(1, 2), new], 1)  # (B, k_in - 1 + n, D + 1)
        caches = [x[:, n:].transpose(1, 2)]  # (B, D + 1, k_in - 1), a view of the window
        h = torch.addmm(w.conv_in_bias, conv_windows(x, self.in_kernel), w.conv_in)  # (B * n, C)
        dim = h.shape[1]
        for i, blk in enumerate(self.blocks):
            assert isinstance(blk, CausalBlock)
            xc = torch.cat([state.caches[i + 1].transpose(1, 2), h.view(b, n, dim)], 1)
            caches.append(xc[:, n:].transpose(1, 2))  # (B, C, k - 1)
            # the depthwise conv: each frame's k inputs (B, n, C, k) times the taps, summed
            y = (xc.unfold(1, blk.kernel, 1) * blk.weight).sum(3) + blk.bias  # (B, n, C)
            y = F.layer_norm(
                y.view(b * n, dim), (dim,), blk.norm.weight, blk.norm.bias, blk.norm.eps
            )
            y = F.gelu(torch.addmm(blk.fc1.bias, y, w.fc1[i]))  # (B * n, mult * C)
            h = torch.addcmul(h, blk.gamma, torch.addmm(blk.fc2.bias, y, w.fc2[i]))
        h = F.layer_norm(h, (dim,), self.norm.weight, self.norm.bias, self.norm.eps)
        z = torch.addmm(w.head_bias, h, w.head)  # (B * n, H + sub * 2 * bins)
        e = torch.exp(torch.clamp(z, max=w.head_max))
        n_harm = self.n_harmonics
        amps = e[:, :n_harm].view(b, n, n_harm).transpose(1, 2)  # (B, H, n)
        harm, osc = harmonic_bank(f0, amps, c.hop, c.sample_rate, state.osc)  # (B, n * hop)

        sub, hop_s, r = c.istft_sub, self.hop_s, self.n_fft // self.hop_s
        j = n * sub
        end = n_harm + self.n_res
        res = z[:, n_harm:end].view(b * n, sub, 2, self.n_bins)  # log-magnitudes, phases
        mag = e[:, n_harm:end].view(b * n, sub, 2, self.n_bins)[:, :, 0]  # (B * n, sub, bins)
        out = res[:, :, 1].reshape(b, j, -1)
        log_mag = res[:, :, 0].reshape(b, j, -1) if self.dither else out  # the dither's only
        phase, res_phase = self._phases(out, z[:, end:].reshape(b, j, self.n_gates), state, log_mag)
        # torch.polar costs 30-75 us on these (B * n, sub, bins), depending on the phases'
        # range; cos and sin cost 8-16 us together
        phase = phase.view(b * n, sub, -1)
        parts = torch.stack([mag * torch.cos(phase), mag * torch.sin(phase)], dim=-1)
        spec = torch.view_as_complex(parts).view(b, j, self.n_bins)  # (B, J, bins)
        seg = torch.fft.irfft(spec, n=self.n_fft).mul_(self.window)  # (B, J, n_fft)
        if n > _OLA_PRODUCT_FRAMES:
            return self._overlap_add(seg, harm, caches, osc, res_phase, state)
        # blocks of hop_s samples: the last call's incomplete sums, the segments (segment i
        # covers blocks i..i+r-1 of the canvas), the harmonic audio delayed by one frame
        rows = torch.cat(
            [
                state.tail.reshape(b, r - 1, hop_s),
                seg.view(b, j * r, hop_s),
                state.pending.reshape(b, sub, hop_s),
                harm.view(b, j, hop_s),
            ],
            1,
        )  # (B, r - 1 + J * r + sub + J, hop_s)
        out = torch.matmul(self._ola_matrix(n, seg), rows)  # (B, J + r - 1 + sub, hop_s)
        audio = out[:, :j].reshape(b, n * c.hop)
        tail = out[:, j : j + r - 1].reshape(b, (r - 1) * hop_s)
        pending = out[:, j + r - 1 :].reshape(b, c.hop)
        return audio, DecoderState(caches, osc, pending, tail, res_phase, state.frames + n)

    def _ola_matrix(self, n: int, like: Tensor) -> Tensor:
        """The 0/1 (and 1 / ola_gain) matrix that maps the rows :meth:`_fast_step` stacks
        for n frames to the audio's J blocks, the new tail's r - 1 and the new pending's sub:
        (J + r - 1 + sub, r - 1 + J * r + sub + J)."""
        key = (n, like.dtype, like.device)
        m = self._ola_mats.get(key)
        if m is None:
            sub, r = self.c.istft_sub, self.n_fft // self.hop_s
            j = n * sub
            with torch.inference_mode(False), torch.no_grad():
                m = torch.zeros(j + r - 1 + sub, r - 1 + j * r + sub + j, dtype=like.dtype)
                canvas = torch.zeros(j + r - 1, m.shape[1], dtype=like.dtype)
                canvas[torch.arange(r - 1), torch.arange(r - 1)] = 1.0  # the old tail
                for i in range(j):  # segment i's block q lands on block i + q
                    canvas[i + torch.arange(r), r - 1 + i * r + torch.arange(r)] = 1.0
                m[: j + r - 1] = canvas
                m[:j] /= self.ola_gain  # the audio: complete sums over the windows' sum
                first = r - 1 + j * r  # the harmonic blocks: pending, then the new ones
                m[torch.arange(j), first + torch.arange(j)] = 1.0
                m[j + r - 1 + torch.arange(sub), first + j + torch.arange(sub)] = 1.0
                m = m.to(like.device)
            self._ola_mats[key] = m
        return m

    def _overlap_add(
        self,
        seg: Tensor,
        harm: Tensor,
        caches: list[Tensor],
        osc: OscState,
        res_phase: Tensor,
        state: DecoderState,
    ) -> tuple[Tensor, DecoderState]:
        """The end of :meth:`_fast_step` for many frames: seg (B, J, n_fft) windowed segments
        and harm (B, n * hop) overlap-added by shifted sums (the product's matrix would grow
        with the square of n)."""
        b, j, _ = seg.shape
        hop, hop_s, r = self.c.hop, self.hop_s, self.n_fft // self.hop_s
        blocks = [state.tail.reshape(b, r - 1, hop_s), seg.new_zeros(b, j, hop_s)]
        canvas = torch.cat(blocks, 1)  # (B, J + r - 1, hop_s)
        seg = seg.view(b, j, r, hop_s)
        for q in range(r):  # segment i's block q lands on block i + q
            canvas.narrow(1, q, j).add_(seg.select(2, q))
        flat = canvas.view(b, -1)
        done = j * hop_s
        harm_all = torch.cat([state.pending, harm], dim=1)  # the harmonic part, one frame late
        audio = flat[:, :done] / self.ola_gain + harm_all[:, :done]
        return audio, DecoderState(
            caches,
            osc,
            harm_all[:, done:],
            flat[:, done:],
            res_phase,
            state.frames + harm.shape[1] // hop,
        )

    def _graph_step(
        self, emb: Tensor, state: DecoderState, amps_out: list[Tensor] | None = None
    ) -> tuple[Tensor, DecoderState]:
        """:meth:`step` with autograd, module by module (what training differentiates);
        the harmonic amplitudes (B, H, n) are appended to ``amps_out`` if given."""
        c = self.c
        n = emb.shape[-1]
        x = torch.cat([state.caches[0], self._features(emb)], dim=2)
        caches = [x[:, :, x.shape[2] - (self.in_kernel - 1) :]]
        x = self.conv_in(x)  # (B, C, n)
        for block, cache in zip(self.blocks, state.caches[1:], strict=True):
            x, cache = block(x, cache)
            caches.append(cache)
        h = self.norm(x.transpose(1, 2))  # (B, n, C)
        amps = torch.exp(torch.clamp(self.harm_head(h), max=2.0)).transpose(1, 2)  # (B, H, n)
        if amps_out is not None:
            amps_out.append(amps)
        harm, osc = harmonic_bank(emb[:, -1], amps, c.hop, c.sample_rate, state.osc)
        zr = self.res_head(h)  # (B, n, sub * (2 * bins + gates))
        b, j = zr.shape[0], n * c.istft_sub
        y = zr[..., : self.n_res].reshape(b, j, 2, self.n_bins)  # (B, J, 2, bins)
        phase, res_phase = self._phases(
            y[:, :, 1], zr[..., self.n_res :].reshape(b, j, self.n_gates), state, y[:, :, 0]
        )
        spec = torch.polar(torch.exp(torch.clamp(y[:, :, 0], max=RES_LOG_MAG_MAX)), phase)
        seg = torch.fft.irfft(spec, n=self.n_fft) * self.window  # (B, J, n_fft)
        length = (j - 1) * self.hop_s + self.n_fft
        canvas = F.fold(
            seg.transpose(1, 2),
            output_size=(1, length),
            kernel_size=(1, self.n_fft),
            stride=(1, self.hop_s),
        )[:, 0, 0]  # (B, length), sample 0 = where the oldest incomplete sum starts
        canvas = torch.cat(
            [canvas[:, : state.tail.shape[1]] + state.tail, canvas[:, state.tail.shape[1] :]], 1
        )
        residual = canvas[:, : j * self.hop_s] / self.ola_gain  # (B, n * hop) complete
        harm_all = torch.cat([state.pending, harm], dim=1)  # the harmonic part, one frame late
        audio = residual + harm_all[:, : n * c.hop]
        new = DecoderState(
            [t.detach() for t in caches],
            osc,
            harm_all[:, n * c.hop :].detach(),
            canvas[:, j * self.hop_s :].detach(),
            res_phase,
            state.frames + n,
        )
        return audio, new

    def flush(self, state: DecoderState) -> Tensor:
        """The last frame's audio at the end of a stream, as if silence followed: (B, hop)."""
        return state.pending + state.tail[:, : self.c.hop] / self.ola_gain

    def forward(self, emb: Tensor, amps_out: list[Tensor] | None = None) -> Tensor:
        """A whole sequence (B, D + 1, F) → (B, F * hop): the stream, without its lead-in
        (with ``amps_out``: by the graph step, which appends the amplitudes (B, H, F))."""
        state = self.initial_state(emb.shape[0], emb.device)
        if amps_out is None:
            audio, state = self.step(emb, state)
        else:
            audio, state = self._graph_step(emb, state, amps_out)
        return torch.cat([audio[:, self.c.hop :], self.flush(state)], dim=1)


class PitchedCodec(nn.Module):
    """The VQ-VAE with a pitch codebook: ``encode`` → codes → ``codes_to_embeddings`` → ``decode``.

    Codes are (B, K, F): codebook 0 the pitch grid, 1..K-1 residual codebooks.
    """

    def __init__(
        self, config: CodecConfig, grid: PitchGrid | None = None, n_harmonics: int | None = None
    ) -> None:
        super().__init__()
        if grid is None:
            grid = PitchGrid(
                config.pitch_low_note, config.pitch_step_cents, config.codebook_size - 1
            )
        n_harmonics = config.harmonics if n_harmonics is None else n_harmonics
        config.validate()
        if config.pack != 1:
            raise ValueError(f"the pitched codec runs at pack=1, got pack={config.pack}")
        self.grid = grid
        if self.grid.size != config.codebook_size:
            raise ValueError(
                f"the pitch grid has {self.grid.size} codes but codebook_size is "
                f"{config.codebook_size}: they must be equal (one vocabulary for the prior)"
            )
        self.config = config
        self.sample_rate = config.sample_rate
        self.hop = config.hop
        self.pack = 1
        self.n_codebooks = config.n_codebooks
        self.codebook_size = config.codebook_size
        self.encoder = Encoder(config)
        self.quantizer = ResidualVQ(dataclasses.replace(config, n_codebooks=config.n_codebooks - 1))
        self.pitch_embed = nn.Embedding(self.grid.size, config.latent_dim)
        nn.init.normal_(self.pitch_embed.weight, std=0.1)
        self.decoder = StreamingDecoder(config, n_harmonics)
        self.harmonic_in: nn.Conv1d | None = None  # the audio's amplitudes into the encoder
        if config.enc_harmonics:
            self.harmonic_in = nn.Conv1d(n_harmonics + 1, config.enc_dim, 3, padding=1)
        self.decoder_context = 0  # causal: no window context; decode with step()
        self._f0_table: Tensor | None = None  # (V,) f0 in Hz of each pitch code, by _f0

    def truncated(self, n_codebooks: int) -> PitchedCodec:
        """A copy that keeps the pitch codebook and the first ``n_codebooks - 1`` residual
        codebooks (quantiser dropout trains every such prefix to decode on its own)."""
        if not 2 <= n_codebooks <= self.n_codebooks:
            raise ValueError(
                f"a pitched codec keeps 2..{self.n_codebooks} codebooks (pitch + residual), "
                f"got {n_codebooks}"
            )
        cfg = dataclasses.replace(self.config, n_codebooks=n_codebooks)
        state = self.state_dict()
        for name in ("quantizer.embed", "quantizer.cluster_size", "quantizer.embed_sum"):
            state[name] = state[name][: n_codebooks - 1].clone()
        new = PitchedCodec(cfg, self.grid, self.decoder.n_harmonics)
        new = new.to(self.pitch_embed.weight.device)
        new.load_state_dict(state)
        return new.train(self.training)

    def pitch_codes(self, audio: Tensor) -> Tensor:
        """Audio (B, T) → the pitch codebook's codes (B, T // hop), by the config's tracker
        and level gate."""
        c = self.config
        rows = [
            self.grid.encode(
                frame_f0(
                    a.detach().cpu().double().numpy(),
                    self.sample_rate,
                    self.hop,
                    c.pitch_tracker,
                    c.pitch_gate_db,
                )
            )
            for a in audio
        ]
        return torch.from_numpy(np.stack(rows)).long().to(audio.device)

    def encode(self, audio: Tensor, pitch: Tensor | None = None) -> Tensor:
        """Audio (B, T) float → codes (B, K, T // hop) long (``pitch``: codes already tracked)."""
        if audio.dim() == 1:
            audio = audio[None]
        whole, audio = audio, audio[:, : audio.shape[-1] // self.hop * self.hop]
        pc = self.pitch_codes(audio) if pitch is None else pitch
        rest = self.quantizer.encode(self._latent(whole, pc)[0])
        return torch.cat([pc.unsqueeze(1), rest], dim=1)

    def _latent(
        self, audio: Tensor, pc: Tensor, targets: bool = False
    ) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """Audio (B, T >= F * hop), pitch codes (B, F) → the latent (B, D, F) and, if asked or
        read by the encoder, :func:`.harmonic.harmonic_targets` (B, H, F) x 2 at their f0."""
        amps, extra = None, None
        if targets or self.harmonic_in is not None:
            f0 = self._f0(pc)
            amps = harmonic_targets(audio, f0, self.decoder.n_harmonics, self.hop, self.sample_rate)
            if self.harmonic_in is not None:
                extra = self.harmonic_in(harmonic_features(*amps, f0))  # (B, C, F)
        return self.encoder(audio[:, : pc.shape[1] * self.hop], extra), amps

    def codes_to_embeddings(self, codes: Tensor) -> Tensor:
        """Codes (B, K, F) → (B, D + 1, F): code vectors summed, then f0 in Hz."""
        if codes.dim() == 2:
            codes = codes[None]
        codes = codes.long()
        if codes.shape[1] == 1:  # the pitch alone
            rest = self.pitch_embed.weight.new_zeros(
                codes.shape[0], self.config.latent_dim, codes.shape[2]
            )
        else:
            rest = self.quantizer.lookup(codes[:, 1:])  # (B, D, F)
        return self._with_pitch(rest, codes[:, 0])

    def unquantised_embeddings(self, audio: Tensor) -> Tensor:
        """Audio (B, T) → what the decoder would get without the residual codebooks' rounding:
        (B, D + 1, T // hop), the encoder's latent plus the pitch code's vector, then f0."""
        pc = self.pitch_codes(audio[:, : audio.shape[-1] // self.hop * self.hop])
        return self._with_pitch(self._latent(audio, pc)[0], pc)

    def _with_pitch(self, emb: Tensor, pc: Tensor) -> Tensor:
        """The decoder's input: residual embeddings (B, D, F) plus the pitch codes' (B, F)
        vectors, then their f0 in Hz as a last channel → (B, D + 1, F)."""
        emb = emb + self.pitch_embed(pc).transpose(1, 2)
        return torch.cat([emb, self._f0(pc).unsqueeze(1)], dim=1)

    def _f0(self, pc: Tensor) -> Tensor:  # (B, F) codes → (B, F) Hz
        table = self._f0_table
        if table is None or table.device != pc.device:  # every code's f0, float32, once
            g = self.grid
            with torch.inference_mode(False), torch.no_grad():
                codes = torch.arange(g.size, device=pc.device)
                note = g.low_note + (codes.float() - 1) * g.step_cents / 100.0
                hz = 440.0 * 2.0 ** ((note - 69.0) / 12.0)
                table = torch.where(codes > 0, hz, torch.zeros_like(note))
            self._f0_table = table
        return table[pc]  # one lookup: a streamed frame pays a call, not seven

    def decode(self, emb: Tensor) -> Tensor:
        """Embeddings (B, D + 1, F) → audio (B, F * hop) float32."""
        return self.decoder(emb).float()

    def initial_state(self, batch: int = 1) -> DecoderState:
        return self.decoder.initial_state(batch, self.pitch_embed.weight.device)

    def decode_step(self, emb: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState]:
        """Stream: decode n new frames once each → (B, n * hop) audio, one frame behind."""
        audio, state = self.decoder.step(emb, state)
        return audio.float(), state

    def forward(
        self,
        audio: Tensor,
        quantizer_dropout: bool | None = None,
        pitch: Tensor | None = None,
        targets: bool = False,
    ) -> CodecOutput:
        """Training pass: audio (B, T) → reconstruction (B, F * hop), codes (B, K, F), commit
        loss, latent (B, D, F), ``targets``: :meth:`_latent`'s; ``pitch`` (B, F): tracked."""
        whole, audio = audio, audio[:, : audio.shape[-1] // self.hop * self.hop]
        pc = self.pitch_codes(audio) if pitch is None else pitch
        z, amps_at_f0 = self._latent(whole, pc, targets)  # (B, D, F)
        use_dropout = self.training if quantizer_dropout is None else quantizer_dropout
        n_active = None
        if use_dropout:  # the pitch alone (0 residual codebooks) must decode too
            n_active = dropout_counts(z, self.n_codebooks - 1, self.config.quantizer_dropout, 0)
        zq, codes, commit = self.quantizer(z, n_active)
        amps: list[Tensor] = []
        audio = self.decoder(self._with_pitch(zq, pc), amps)
        codes = torch.cat([pc.unsqueeze(1), codes], 1)
        return CodecOutput(audio, codes, commit, z, amps[0], amps_at_f0)


def build_codec(config: CodecConfig) -> Codec | PitchedCodec:
    """The codec a config describes: :class:`PitchedCodec` when ``config.pitch``, else
    :class:`~distill_live.model.codec.Codec`."""
    return PitchedCodec(config) if config.pitch else Codec(config)
