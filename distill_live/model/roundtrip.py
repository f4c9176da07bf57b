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

__all__ = [
    "PREROLL_FRAMES",
    "decode_codes",
    "encode_audio",
    "encode_channels",
    "prerolled",
    "round_trip",
]

BLOCK_FRAMES = 256  # code frames per block (about 5.5 s at hop 1024)
#: frames of silence a causal codec's round trip codes before the audio
PREROLL_FRAMES = 4


def _frames(codec: Any, audio: np.ndarray) -> Tensor:
    """Mono audio (T,) → (1, ceil(T / hop) * hop) float32, zero-padded to whole frames."""
    hop = codec.hop
    n = -(-len(audio) // hop) * hop
    x = torch.zeros(1, max(n, hop))
    x[0, : len(audio)] = torch.from_numpy(np.asarray(audio, dtype=np.float32))
    return x


def encode_audio(codec: Any, audio: np.ndarray, pitch: Tensor | None = None) -> Tensor:
    """Mono audio (T,) at the codec's rate → codes (1, K, ceil(T / hop)).

    The audio is zero-padded to whole frames, so every sample is coded. ``pitch`` (1, F):
    a pitched codec's pitch codes, tracked from other audio (:func:`round_trip`'s one track
    for all channels); by default its own.
    """
    x = _frames(codec, audio)
    with torch.inference_mode():
        return codec.encode(x) if pitch is None else codec.encode(x, pitch=pitch)


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


def encode_channels(codec: Any, audio: np.ndarray) -> tuple[Tensor, int]:
    """Audio (T, C) at the codec's rate → each channel's codes (C, K, F) after the pre-roll
    (:func:`prerolled`), and the pre-roll's length in samples.

    A pitched codec codes every channel with one pitch track, their mean's, so the copy's
    channels run their oscillators on the same f0 from the same phase and stay in phase with
    each other. (Tracked one by one, the channels' tracks differ by a grid step here and
    there, their partials drift apart, and a mono mix of the copy cancels: docs/experiments.md,
    "Stereo round trips".)
    """
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim != 2 or a.shape[1] < 1:
        raise ValueError(f"audio must be (samples, channels), got shape {a.shape}")
    pitch = None
    if hasattr(codec, "pitch_codes") and a.shape[1] > 1:
        mid, _ = prerolled(codec, a.mean(axis=1))
        with torch.inference_mode():
            pitch = codec.pitch_codes(_frames(codec, mid))  # (1, F)
    codes, lead = [], 0
    for ch in range(a.shape[1]):
        x, lead = prerolled(codec, a[:, ch])
        codes.append(encode_audio(codec, x, pitch)[0])
    return torch.stack(codes), lead


def round_trip(codec: Any, audio: np.ndarray) -> np.ndarray:
    """Audio (T,) or (T, C) at the codec's rate through the codec → the same shape, float32
    (the channels coded by :func:`encode_channels`)."""
    a = np.asarray(audio, dtype=np.float32)
    if a.ndim == 1:  # one channel
        return round_trip(codec, a[:, None])[:, 0]
    codes, lead = encode_channels(codec, a)
    out = np.empty_like(a)
    for ch in range(a.shape[1]):
        out[:, ch] = decode_codes(codec, codes[ch : ch + 1])[lead : lead + len(a)]
    return out
