"""Training data for the stages: the codec's augmented crops and the prior's code sequences.

* :func:`codec_batch`: a batch of random training crops (pitch shift and mixing as asked).
* :func:`prior_variants` and :func:`prior_sequences`: the codes of every clip under a few
  gain/shift views (and, if asked, played faster and slower: :func:`varispeed`), long
  silences shortened (:func:`distill_live.model.metrics.limit_silence`,
  the same shortening ``eval`` applies before measuring bits per code).
* :func:`code_stream`: those sequences in a random order, concatenated, for the prior's crops.
* :func:`noisy_context`: the prior's regulariser (``--prior-input-noise``).
* :func:`pitch_tracks`, :func:`pitched_codec_batch`: a pitched codec's f0 tracks, made once
  per clip (pYIN costs seconds per clip, too slow for every crop), and crops with the pitch
  codes read from them.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .codec import Codec, CodecConfig
from .data import AudioData, Clip, crop_to_frames, random_crops, tape_speed
from .metrics import limit_silence
from .pitch import PitchGrid, PitchTrack, track
from .pitched import PitchedCodec

__all__ = [
    "codec_batch",
    "pitch_tracks",
    "pitched_codec_batch",
    "TONAL_SHARE",
    "is_tonal",
    "prior_variants",
    "transposed",
    "varispeed",
    "prior_sequences",
    "code_stream",
    "noisy_context",
]


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


def pitch_tracks(codec: Codec | PitchedCodec, clips: list[Clip]) -> list[PitchTrack] | None:
    """Each clip's f0 track by the codec's tracker and level gate; None for a codec without
    pitch."""
    if not isinstance(codec, PitchedCodec):
        return None
    cfg = codec.config
    return [track(c.audio, codec.sample_rate, cfg.pitch_tracker, cfg.pitch_gate_db) for c in clips]


def clip_pitch_codes(
    codec: PitchedCodec, tr: PitchTrack, start: int, n_frames: int, clip_len: int
) -> np.ndarray:
    """Pitch codes (n_frames,) of the frames from sample ``start`` of a clip of ``clip_len``
    samples (``start`` may be negative: a clip placed later in a crop); frames wholly
    outside the clip are unpitched."""
    hop, sr = codec.hop, codec.sample_rate
    f0 = tr.frames(hop, sr, n_frames, start)
    first = start + hop * np.arange(n_frames)
    f0[(first + hop <= 0) | (first >= clip_len)] = 0.0
    return codec.grid.encode(f0)


def pitched_codec_batch(
    codec: PitchedCodec,
    data: AudioData,
    tracks: list[PitchTrack],
    batch_size: int,
    length: int,
    rng: np.random.Generator,
    device: torch.device,
) -> tuple[Tensor, Tensor]:
    """Random crops (B, length) of the training clips, as :func:`codec_batch` without
    augmentation, and their pitch codes (B, length // hop) read from the clips' tracks."""
    origins: list[tuple[int, int]] = []
    crops = random_crops(data.train, batch_size, length, rng, origins=origins)
    n = length // codec.hop
    codes = np.stack(
        [
            clip_pitch_codes(codec, tracks[i], start, n, len(data.train[i].audio))
            for i, start in origins
        ]
    )
    return torch.from_numpy(crops).to(device), torch.from_numpy(codes).to(device)


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


def varispeed(
    audio: np.ndarray, semitones: float, tr: PitchTrack | None = None
) -> tuple[np.ndarray, PitchTrack | None]:
    """``audio`` played ``semitones`` faster (:func:`~.data.tape_speed`), and its f0 track
    ``tr`` moved to match (times / r, f0 x r for r = 2^(semitones / 12)), so the clip need
    not be tracked again."""
    ratio = float(2.0 ** (semitones / 12.0))
    out = tape_speed(audio, ratio)
    if tr is None:
        return out, None
    return out, PitchTrack(tr.times / ratio, tr.f0 * ratio)


@torch.no_grad()
def prior_sequences(
    codec: Codec | PitchedCodec,
    clips: list[Clip],
    device: torch.device,
    max_silence: int,
    variants: tuple[tuple[float, int], ...] = ((0.0, 0),),
    tracks: list[PitchTrack] | None = None,
    speeds: tuple[float, ...] = (),
) -> list[list[np.ndarray]]:
    """Codes of every clip under each (gain dB, sample shift) variant, long silences cut.

    Returns, per clip, a list of (K, F) int64 arrays: one per variant of the clip as it is,
    then, for each ``s`` in ``speeds`` (semitones), one per variant of the clip played ``s``
    semitones faster and one of it ``s`` slower (:func:`varispeed`). ``tracks``: the clips'
    f0 tracks (a pitched codec's pitch codes are read from them, not tracked again).
    """
    codec.eval()
    hop = codec.hop
    pitched = tracks is not None and isinstance(codec, PitchedCodec)
    out: list[list[np.ndarray]] = []
    for ci, clip in enumerate(clips):
        per: list[np.ndarray] = []
        for semis in (0.0,) + tuple(x for s in speeds for x in (s, -s)):
            tr = tracks[ci] if tracks is not None else None
            audio, tr = (clip.audio, tr) if semis == 0.0 else varispeed(clip.audio, semis, tr)
            for gain_db, shift in variants:
                a = np.concatenate([np.zeros(shift, np.float32), audio]) * 10 ** (gain_db / 20)
                a = crop_to_frames(a.astype(np.float32), hop)  # (F * hop,)
                x = torch.from_numpy(a)[None].to(device)
                if pitched:
                    assert tr is not None and isinstance(codec, PitchedCodec)
                    pc = clip_pitch_codes(codec, tr, -shift, len(a) // hop, len(audio))
                    pitch = torch.from_numpy(pc)[None].to(device)
                    codes = codec.encode(x, pitch=pitch)[0].cpu().numpy()
                else:
                    codes = codec.encode(x)[0].cpu().numpy()
                per.append(limit_silence(codes, a, hop, max_silence))
        out.append(per)
    return out


#: A clip is tonal when at least this share of its code frames carry a pitch code. Only
#: tonal clips are transposed for the prior: a drum hit's stray pitch codes moved to other
#: keys would teach the prior that a held key may sound like a drum.
TONAL_SHARE = 0.5


def is_tonal(codes: np.ndarray) -> bool:
    """Whether a pitched codec's codes (K, F) are mostly pitched (:data:`TONAL_SHARE`)."""
    return codes.shape[1] > 0 and float(np.mean(codes[0] > 0)) >= TONAL_SHARE


def transposed(codes: np.ndarray, semitones: float, grid: PitchGrid) -> np.ndarray:
    """A pitched codec's codes (K, F) with every pitched frame's pitch code moved by
    ``semitones`` (the nearest whole grid steps, held at the grid's ends), the other
    codebooks as they are: the same sounds played in another key, as the keyboard's
    transpose plays them (:func:`~.steering.shifted_embeddings`)."""
    out = codes.copy()
    pc = out[0]
    out[0] = np.where(pc > 0, np.clip(pc + int(grid.steps(semitones)), 1, grid.n_pitches), 0)
    return out


def code_stream(
    seqs: list[list[np.ndarray]],
    rng: np.random.Generator,
    min_len: int,
    own: int | None = None,
    own_share: float = 0.5,
) -> np.ndarray:
    """All clips once, in random order, each in a random view, concatenated: (K, N) with
    N >= ``min_len`` (repeated when shorter).

    ``own``: how many of each clip's views (the first ones) are at the clip's own speed. When
    there are others (:func:`varispeed` views), a clip is drawn at its own speed with
    probability ``own_share``, so the augmentation widens the data without becoming most of
    it (docs/experiments.md, "The prior's varispeed views").
    """
    order = rng.permutation(len(seqs))
    parts = []
    for i in order:
        per = seqs[i]
        if own is None or own >= len(per):
            parts.append(per[int(rng.integers(len(per)))])
        elif rng.random() < own_share:
            parts.append(per[int(rng.integers(own))])
        else:
            parts.append(per[own + int(rng.integers(len(per) - own))])
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
