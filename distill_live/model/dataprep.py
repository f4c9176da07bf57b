"""Training data for the stages: the codec's augmented crops and the prior's code sequences.

* :func:`codec_batch`: a batch of random training crops (pitch shift and mixing as asked).
* :func:`prior_variants` and :func:`prior_sequences`: the codes of every clip under a few
  gain/shift views, long silences shortened (:func:`distill_live.model.metrics.limit_silence`,
  the same shortening ``eval`` applies before measuring bits per code).
* :func:`code_stream`: those sequences in a random order, concatenated, for the prior's crops.
* :func:`noisy_context`: the prior's regulariser (``--prior-input-noise``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .codec import Codec, CodecConfig
from .data import AudioData, Clip, crop_to_frames, random_crops
from .metrics import limit_silence
from .pitched import PitchedCodec

__all__ = ["codec_batch", "prior_variants", "prior_sequences", "code_stream", "noisy_context"]


def codec_batch(
    data: AudioData,
    batch_size: int,
    length: int,
    rng: np.random.Generator,
    device: torch.device,
    pitch_shift: float = 0.0,
    mix: float = 0.0,
) -> Tensor:
    """A (batch_size, length) batch of augmented training crops on ``device``."""
    crops = random_crops(data.train, batch_size, length, rng, pitch_semitones=pitch_shift, mix=mix)
    return torch.from_numpy(crops).to(device)


def prior_variants(cfg: CodecConfig) -> tuple[tuple[float, int], ...]:
    """(gain dB, sample shift) views of the training audio for the prior.

    The shifts are fractions of the networks' hop (``hop // pack``), so each view codes
    different waveform phases; with ``pack`` > 1 they also move by whole sub-frames, so each
    view packs the sub-frames into code frames differently. (The earlier views, shifts of
    hop/4, hop/2, 3 hop/4 and the same for pack 1, are whole sub-frames at pack 4: the same
    codes regrouped. What the change measured: docs/experiments.md, "The prior's views".)
    """
    inner = cfg.hop // cfg.pack
    views = ((0.0, 0.0, 0), (-6.0, 0.5, 2), (-3.0, 0.25, 1), (0.0, 0.75, 3))
    return tuple((g, int(f * inner) + (m % cfg.pack) * inner) for g, f, m in views)


@torch.no_grad()
def prior_sequences(
    codec: Codec | PitchedCodec,
    clips: list[Clip],
    device: torch.device,
    max_silence: int,
    variants: tuple[tuple[float, int], ...] = ((0.0, 0),),
) -> list[list[np.ndarray]]:
    """Codes of every clip under each (gain dB, sample shift) variant, long silences cut.

    Returns, per clip, a list of (K, F) int64 arrays (one per variant).
    """
    codec.eval()
    hop = codec.hop
    out: list[list[np.ndarray]] = []
    for clip in clips:
        per: list[np.ndarray] = []
        for gain_db, shift in variants:
            a = np.concatenate([np.zeros(shift, np.float32), clip.audio]) * 10 ** (gain_db / 20)
            a = crop_to_frames(a.astype(np.float32), hop)  # (F * hop,)
            codes = codec.encode(torch.from_numpy(a)[None].to(device))[0].cpu().numpy()
            per.append(limit_silence(codes, a, hop, max_silence))
        out.append(per)
    return out


def code_stream(seqs: list[list[np.ndarray]], rng: np.random.Generator, min_len: int) -> np.ndarray:
    """All clips once, in random order, each in a random variant, concatenated: (K, N) with
    N >= ``min_len`` (repeated when shorter)."""
    order = rng.permutation(len(seqs))
    parts = [seqs[i][int(rng.integers(len(seqs[i])))] for i in order]
    stream = np.concatenate(parts, axis=1)
    while stream.shape[1] < min_len:
        stream = np.concatenate([stream, stream], axis=1)
    return stream


def noisy_context(
    codes: Tensor, p: float, codebook_size: int, generator: torch.Generator | None = None
) -> Tensor:
    """``codes`` (any shape, long) with each code replaced, with probability ``p``, by a
    uniformly random one (which may be the same code). The prior reads this as its context
    and still predicts the clean codes: it learns to continue from contexts with mistakes in
    them, as its own samples will have, and cannot simply recall a memorised sequence.
    """
    if p <= 0.0:
        return codes
    hit = torch.rand(codes.shape, generator=generator, device=codes.device) < p
    other = torch.randint(
        codebook_size, codes.shape, generator=generator, device=codes.device, dtype=codes.dtype
    )
    return torch.where(hit, other, codes)
