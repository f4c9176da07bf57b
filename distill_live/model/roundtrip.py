"""The round trip through a codec: audio → codes → audio, for any length of audio.

What ``distill-live codec`` writes and what ``eval`` measures: a user hears what the model
keeps of their own sounds before they play it. Long files are decoded in blocks so memory stays
bounded: a pitched codec streams (each frame decoded once, its state carried), a plain codec
decodes windows with :attr:`decoder_context` frames of context on each side (equal to a
whole-sequence decode).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["decode_codes", "encode_audio", "round_trip"]

BLOCK_FRAMES = 256  # code frames per block (about 5.5 s at hop 1024)


def encode_audio(codec: Any, audio: np.ndarray) -> Tensor:
    """Mono audio (T,) at the codec's rate → codes (1, K, ceil(T / hop)).

    The audio is zero-padded to whole frames, so every sample is coded.
    """
    hop = codec.hop
    n = -(-len(audio) // hop) * hop
    x = torch.zeros(1, max(n, hop))
    x[0, : len(audio)] = torch.from_numpy(np.asarray(audio, dtype=np.float32))
    with torch.inference_mode():
        return codec.encode(x)


def decode_codes(codec: Any, codes: Tensor, block: int = BLOCK_FRAMES) -> np.ndarray:
    """Codes (1, K, F) → audio (F * hop,) float32, in blocks of ``block`` frames."""
    f = codes.shape[-1]
    parts: list[Tensor] = []
    with torch.inference_mode():
        if hasattr(codec, "decode_step"):  # causal: stream it
            state = codec.initial_state(1)
            for a in range(0, f, block):
                audio, state = codec.decode_step(
                    codec.codes_to_embeddings(codes[..., a : a + block]), state
                )
                parts.append(audio[0])
            parts.append(codec.decoder.flush(state)[0])
            return torch.cat(parts)[codec.hop :].numpy()
        ctx = int(codec.decoder_context)
        for a in range(0, f, block):
            b = min(a + block, f)
            lo, hi = max(0, a - ctx), min(f, b + ctx)
            emb = codec.codes_to_embeddings(codes[..., lo:hi])
            audio, _ = codec.decode_window(emb, None, a - lo, b - lo)
            parts.append(audio[0, (a - lo) * codec.hop : (b - lo) * codec.hop])
        return torch.cat(parts).numpy()


def round_trip(codec: Any, audio: np.ndarray) -> np.ndarray:
    """Mono audio (T,) at the codec's rate through the codec → (T,) float32."""
    codes = encode_audio(codec, audio)
    return decode_codes(codec, codes)[: len(audio)]
