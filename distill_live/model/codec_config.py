"""The codec's settings: :class:`CodecConfig`, everything that fixes its shapes and how
audio becomes codes (stored in the model file's header; :mod:`.codec` and :mod:`.pitched`
build the networks from it)."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["CodecConfig"]


@dataclass
class CodecConfig:
    """Everything that fixes the codec's shapes. Stored in the model file's header."""

    sample_rate: int = 48000
    # audio samples per code frame (46.875 frames/s at 48 kHz). Smaller hops code finer
    # detail, but a prior that steps one short frame at a time sticks in one sound and falls
    # silent at low temperatures, so the default stays here (docs/experiments.md, "The code
    # hop")
    hop: int = 1024
    # quantised latents per code frame. With pack P the encoder, quantiser and decoder run
    # at hop // P, and a code frame holds the codes of its P sub-frames for every codebook
    # (``n_codebooks * P`` codes, ordered codebook-major: code ``k * P + s`` is codebook k of
    # sub-frame s), so the prior still steps ``hop`` samples at a time while the codec codes
    # finer detail. 1 by default: packed codecs code better, but their priors generated
    # worse than the shipped pack-1 model's (docs/experiments.md, "Packing sub-frames")
    pack: int = 1
    n_codebooks: int = 8  # residual codebooks (each codes every sub-frame)
    codebook_size: int = 256
    latent_dim: int = 64  # dimension of the quantised latent and of every codebook
    # encoder
    enc_n_fft: int = 2048
    enc_sub: int = 4  # log-mel frames per code frame (their hop is hop // enc_sub)
    enc_n_mels: int = 128
    enc_dim: int = 128
    enc_layers: int = 2
    enc_kernel: int = 7
    enc_wave: bool = True  # also feed each frame's raw samples (phase) to the encoder
    # pitched codec (a plain one ignores it, as the pitch settings below): also feed the
    # encoder each harmonic's amplitude at the frame's coded f0
    # (:func:`~distill_live.model.harmonic.harmonic_features`), which 128 log-mels blur
    # above the lowest partials. Off by default: the amplitudes came out no closer and the
    # held-out SC worse (docs/experiments.md, "The encoder reads the partials")
    enc_harmonics: bool = False
    # decoder
    dec_dim: int = 192
    dec_layers: int = 6
    dec_kernel: int = 3  # depthwise kernel of the decoder blocks (sets decoder_context)
    dec_in_kernel: int = 3
    mlp_mult: int = 4
    istft_n_fft: int = 2048
    istft_sub: int = 1  # STFT frames per code frame (their hop is hop // istft_sub)
    # "direct" (the default): the head predicts each STFT frame's phase. "tonal" (plain
    # codec): a second branch whose phase runs from predicted instantaneous frequencies.
    # "running" (pitched residual): each bin's phase runs on from the last frame's plus a
    # deviation and gated noise, no frame-rate buzz. Both measured worse or within noise
    # (docs/experiments.md, "The decoder's phase", "The residual's phase")
    phase: str = "direct"
    # quantiser training
    ema_decay: float = 0.95
    dead_fraction: float = 0.1  # restart a code hit less than this x the mean rate
    quantizer_dropout: float = 0.5  # fraction of items trained with fewer codebooks
    # frames (odd) over which the latent is averaged before the first codebook quantises it
    # (a slow label a prior can carry); 1 = off, the default: on, the priors generated worse
    # (docs/experiments.md, "Smoothing the first codebook")
    first_smooth: int = 1
    # pitch: codebook 0 is each frame's f0 on a fixed grid (``codebook_size - 1`` steps of
    # ``pitch_step_cents`` from MIDI ``pitch_low_note``, code 0 unpitched) and the decoder is
    # the causal harmonic-plus-residual one of :mod:`distill_live.model.pitched`
    pitch: bool = False
    harmonics: int = 48  # partials of the pitched decoder's oscillator bank
    pitch_low_note: float = 33.0  # A1, 55 Hz: with 255 steps of 25 cents up to about 2.1 kHz
    pitch_step_cents: float = 25.0
    pitch_tracker: str = "world"  # "world" (fast) or "pyin" (agrees with YIN on chords)
    # frames quieter than this (dBFS) are unpitched whatever the tracker says (None: no gate,
    # as in older models). pitched() sets -60 dBFS, where a YIN tracker stops calling frames
    # pitched; -50 cut decays it still hears (docs/experiments.md, "A level gate on the
    # pitch codes")
    pitch_gate_db: float | None = None
    # the pitched decoder's residual phase ("direct") plus this times a uniform phase in
    # (-pi, pi), fixed per STFT frame and bin, in training and decoding, less where a bin's
    # magnitude rises (an onset keeps its phase): without it the residual of a steady sound
    # repeats every sub-frame and buzzes at the sub-frame rate (93.75 Hz at hop 1024,
    # istft_sub 2), which a pitch tracker calls pitched. 0 = off, as in older models;
    # pitched() sets 0.5 (docs/experiments.md, "The residual's buzz")
    residual_dither: float = 0.0

    @classmethod
    def pitched(cls) -> CodecConfig:
        """What ``distill-live train`` builds by default: the pitch codebook plus 3 residual
        codebooks, and the causal harmonic-plus-residual decoder (smaller than the plain one:
        the oscillators render the partials, and it must stream a frame at a time)."""
        return cls(
            pitch=True,
            n_codebooks=4,
            dec_dim=128,
            dec_layers=4,
            istft_sub=2,
            pitch_tracker="pyin",
            pitch_gate_db=-60.0,
            residual_dither=0.5,
        )

    @classmethod
    def tiny(cls) -> CodecConfig:
        """A very small codec for tests: fast to build, train and decode."""
        return cls(
            hop=256,
            n_codebooks=2,
            codebook_size=16,
            latent_dim=16,
            enc_n_fft=512,
            enc_sub=4,
            enc_n_mels=32,
            enc_dim=32,
            enc_layers=1,
            dec_dim=32,
            dec_layers=2,
            mlp_mult=2,
            istft_n_fft=512,
            istft_sub=2,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CodecConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(
                f"unknown codec config keys {sorted(unknown)}; expected {sorted(known)}"
            )
        # files written before the pitched codec existed hold no "pitch": they are plain
        return cls(**{"pitch": False, **d})

    @property
    def codes_per_frame(self) -> int:
        """Codes in one code frame: what the prior predicts per step."""
        return self.n_codebooks * self.pack

    def inner(self) -> CodecConfig:
        """The config of the networks, which run at ``hop // pack`` (pack 1)."""
        return dataclasses.replace(self, hop=self.hop // self.pack, pack=1)

    def validate(self) -> None:
        if self.pack < 1 or self.hop % self.pack:
            raise ValueError(f"pack {self.pack} must be a positive divisor of hop {self.hop}")
        hop = self.hop // self.pack
        if hop % self.enc_sub or hop % self.istft_sub:
            raise ValueError(
                f"hop // pack = {hop} must be divisible by enc_sub {self.enc_sub} and "
                f"istft_sub {self.istft_sub}"
            )
        hop_s = hop // self.istft_sub
        if self.istft_n_fft % hop_s or self.istft_n_fft // hop_s < 2 or hop_s % 2:
            raise ValueError(
                f"istft_n_fft {self.istft_n_fft} must be an even multiple (>= 2x) of the "
                f"STFT hop {hop_s}"
            )
        if self.dec_kernel % 2 == 0 or self.dec_in_kernel % 2 == 0 or self.enc_kernel % 2 == 0:
            raise ValueError("convolution kernels must be odd")
        if self.first_smooth < 1 or self.first_smooth % 2 == 0:
            raise ValueError(f"first_smooth must be an odd number >= 1, got {self.first_smooth}")
        phases = ("direct", "running") if self.pitch else ("direct", "tonal")
        if self.phase not in phases:
            kind = "pitched" if self.pitch else "plain"
            raise ValueError(
                f"phase must be one of {phases} for a {kind} codec, got {self.phase!r}"
            )
        if self.pitch_tracker not in ("world", "pyin"):
            raise ValueError(f"pitch_tracker must be 'world' or 'pyin', got {self.pitch_tracker!r}")
        gate = self.pitch_gate_db
        if gate is not None and not -120.0 <= gate <= 0.0:
            raise ValueError(f"pitch_gate_db must be None (no gate) or in -120..0, got {gate!r}")
        if not 0.0 <= self.residual_dither <= 1.0:
            raise ValueError(
                f"residual_dither must be in 0..1 (times pi radians), got {self.residual_dither!r}"
            )
        if self.pitch and (self.n_codebooks < 2 or self.harmonics < 1):
            raise ValueError(
                "a pitched codec needs n_codebooks >= 2 (pitch + residual) and harmonics >= 1, "
                f"got n_codebooks={self.n_codebooks}, harmonics={self.harmonics}"
            )
