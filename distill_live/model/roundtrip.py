"""The round trip through a codec: audio → codes → audio, for any length of audio.

What ``distill-live codec`` writes and what ``eval`` measures: a user hears what the model
keeps of their own sounds before they play it. Long files are decoded in blocks so memory stays
bounded: a pitched codec streams (each frame decoded once, its state carried), a plain codec
decodes windows with :attr:`decoder_context` frames of context on each side (equal to a
whole-sequence decode).

A causal codec's stream starts from silence: :func:`round_trip` codes
:data:`PREROLL_FRAMES` frames of silence before the audio and drops their audio after, so
the first frames of a file are decoded from the state silence leaves, as every later frame
is, not from an empty one (which lost most of a one-shot's attack: docs/experiments.md,
"Pre-roll").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["PREROLL_FRAMES", "decode_codes", "encode_audio", "prerolled", "round_trip"]

BLOCK_FRAMES = 256  # code frames per block (about 5.5 s at hop 1024)
#: frames of silence a causal codec's round trip codes before the audio
PREROLL_FRAMES = 4


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


def prerolled(codec: Any, audio: np.ndarray) -> tuple[np.ndarray, int]:
    """(T,) → the audio a round trip codes and how many samples of it come first: a causal
    codec's :data:`PREROLL_FRAMES` frames of silence; none for a windowed one."""
    if not hasattr(codec, "decode_step"):
        return np.asarray(audio, dtype=np.float32), 0
    lead = PREROLL_FRAMES * codec.hop
    return np.concatenate([np.zeros(lead, np.float32), np.asarray(audio, np.float32)]), lead


def round_trip(codec: Any, audio: np.ndarray) -> np.ndarray:
    """Mono audio (T,) at the codec's rate through the codec → (T,) float32."""
    x, lead = prerolled(codec, audio)
    codes = encode_audio(codec, x)
    return decode_codes(codec, codes)[lead : lead + len(audio)]
