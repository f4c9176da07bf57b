"""How well a pitched model holds each key: the table the keyboard plays from.

A held key restricts the prior's pitch codebook to the key's codes; the other codebooks are
drawn given them, in the contexts where the training data had that pitch. Where the data
holds few clean notes at a pitch (a bass with its octave below, a drum that pYIN gave a
stray pitch), those codes decode to a sound whose pitch is not the key's. Measured on the
shipped default before this table: 7 of the 25 keys D3-D5 sounded their note in fewer than
80 % of their pitched frames (F4 0.17, A#4 0.29), while keys a semitone or two away scored
0.9-1.0 and a key moved by decoding (transpose) keeps its source's figure (docs/experiments.md,
"Keys the model holds").

:func:`key_quality` measures it per key, the way a player meets it: the key held from the
start of a fresh stream for a few seconds, a few seeds, and the share of audible frames whose
pitch (the package's tracker) lies within 50 cents of the key. ``train`` stores the table in
the model file (``training.key_quality``); the keyboard plays a poorly held key from a
better one nearby, moved to the key at decoding (:func:`~distill_live.engine.keyboard.plan`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .metrics import LOUD_DB
from .metrics import NOTE_CENTS as SAME_NOTE_CENTS
from .pitch import frame_f0, hz_to_midi
from .sampling import sample_code_sequence
from .steering import KEY_CENTS, has_pitch, pitch_mask

__all__ = [
    "key_quality",
    "KEY_GOOD",
    "KEY_SECONDS",
    "KEY_SEEDS",
    "MIN_PITCHED",
]

#: Seconds of audio per key and seed.
KEY_SECONDS = 3.0
#: Seeds per key (one batch: the streams share each prior step).
KEY_SEEDS = (0, 1)
#: A key held at least this well counts as held (the keyboard draws it as itself).
KEY_GOOD = 0.8
#: A key whose audible frames are pitched less often than this scores as if they were.
MIN_PITCHED = 0.25


@torch.inference_mode()
def key_quality(
    model: Any,
    *,
    seconds: float = KEY_SECONDS,
    seeds: Sequence[int] = KEY_SEEDS,
    tracker: str = "world",
    keys: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Each key's share of audible frames at its pitch (within 50 cents), held from the start
    of a fresh stream for ``seconds`` with each of ``seeds``.

    Returns ``{"low_key": K0, "quality": [q for K0, K0 + 1, ...], "seconds", "seeds",
    "tracker"}``, JSON-ready (what ``train`` stores); ``keys`` defaults to every whole MIDI
    note on the model's pitch grid.
    """
    if not has_pitch(model.codec):
        raise ValueError("key_quality needs a pitched model (one with a pitch codebook)")
    grid = model.codec.grid
    if keys is None:
        keys = range(math.ceil(grid.low_note), math.floor(grid.high_note) + 1)
    keys = [int(k) for k in keys]
    if not keys or keys != list(range(keys[0], keys[0] + len(keys))):
        raise ValueError(f"keys must be consecutive MIDI notes, got {keys}")
    if seconds <= 0 or not seeds:
        raise ValueError(f"need seconds > 0 and at least one seed, got {seconds}, {list(seeds)}")
    prior, codec = model.prior, model.codec
    hop, rate = int(model.hop), int(model.sample_rate)
    n = max(1, math.ceil(seconds * model.frame_rate))
    size = int(prior.config.codebook_size)
    quality = []
    for key in keys:
        mask = pitch_mask(size, [int(c) for c in grid.note_codes(key, KEY_CENTS)])
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        codes, _ = sample_code_sequence(
            prior, prior.initial_state(len(gens)), n, generator=gens, pitch_mask=mask
        )
        audio = codec.decode(codec.codes_to_embeddings(codes)).numpy()  # (S, n * hop)
        hits = pitched = loud = 0
        for row in audio.astype(np.float64):
            f0 = frame_f0(row, rate, hop, tracker)[:n]  # (n,) Hz, 0 unpitched
            frames = row[: len(f0) * hop].reshape(len(f0), hop)
            audible = np.sqrt(np.mean(frames**2, axis=1)) > 10 ** (LOUD_DB / 20)  # eval's
            voiced = audible & (f0 > 0)
            near = np.abs(hz_to_midi(np.where(voiced, f0, 1.0)) - key) * 100.0 < SAME_NOTE_CENTS
            hits += int(np.sum(near & voiced))
            pitched += int(np.sum(voiced))
            loud += int(np.sum(audible))
        # the share of pitched frames at the key (as the keyboard benchmark), counting a key
        # that sounds pitched in fewer than MIN_PITCHED of its audible frames as that many
        quality.append(round(hits / max(pitched, MIN_PITCHED * loud), 3) if loud else 0.0)
    return {
        "low_key": keys[0],
        "quality": quality,
        "seconds": float(seconds),
        "seeds": [int(s) for s in seeds],
        "tracker": tracker,
    }
