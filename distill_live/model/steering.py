"""Steering a pitched model: which pitch codes the prior may draw, and pitch shifts at decoding.

The keyboard (:mod:`distill_live.engine.keyboard`) decides *what* to play; this module does it
on the model's tensors, so the engine needs to know nothing of the pitch grid's layout:

* :func:`pitch_mask` is the (V,) boolean mask of codebook-0 codes the prior may draw;
* :func:`shifted_embeddings` decodes codes with their pitch moved by some semitones per frame:
  the pitch code's vector is the nearest grid code's, and the f0 channel (what the harmonic
  oscillators follow) is the exact shifted pitch, so a bend or a glide is continuous.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["pitch_mask", "shifted_embeddings", "has_pitch", "KEY_CENTS"]

#: A held key allows the pitch codes this close to its note (the grid steps 25 cents).
KEY_CENTS = 25.0


def has_pitch(codec: Any) -> bool:
    """Whether ``codec`` has a pitch codebook (codebook 0 on a pitch grid)."""
    return getattr(codec, "grid", None) is not None and hasattr(codec, "pitch_embed")


def pitch_mask(size: int, allowed: Sequence[int] | None) -> Tensor | None:
    """(size,) bool, True for the codes in ``allowed``; None when ``allowed`` is None."""
    if allowed is None:
        return None
    mask = torch.zeros(size, dtype=torch.bool)
    if len(allowed):
        mask[torch.as_tensor(list(allowed), dtype=torch.long)] = True
    return mask


def shifted_embeddings(codec: Any, codes: Tensor, semitones: np.ndarray) -> Tensor:
    """Codes (B, K, F) with their pitch moved by ``semitones`` (F,) → the decoder's input
    (B, D + 1, F), as ``codec.codes_to_embeddings`` gives for unshifted codes."""
    grid = codec.grid
    shift = torch.as_tensor(np.asarray(semitones, dtype=np.float64))  # (F,)
    pc = codes[:, 0].long()  # (B, F)
    pitched = pc > 0
    steps = torch.from_numpy(grid.steps(semitones))  # (F,)
    moved = torch.where(pitched, (pc + steps).clamp(1, grid.n_pitches), pc)
    emb = codec.codes_to_embeddings(torch.cat([moved[:, None], codes[:, 1:]], dim=1))
    note = grid.low_note + (pc.double() - 1) * grid.step_cents / 100.0 + shift  # (B, F)
    f0 = torch.where(pitched, 440.0 * 2.0 ** ((note - 69.0) / 12.0), torch.zeros_like(note))
    emb[:, -1] = f0.to(emb.dtype)
    return emb
