"""Chunk-ahead sampling and windowed decoding with a linear crossfade.

One :class:`Generator` turns a model into an endless stream of decoded audio (at the model
rate, one row per stream), ``chunk_frames`` code frames at a time:

* The prior samples one continuous code sequence per stream (its state carries across
  chunks), always at least ``context + 1`` frames ahead of what has been decoded, in whole
  chunks.
* Chunk ``[E, E + C)`` is decoded from the window ``[E - X, E + C + 1 + X)`` of codes, with
  ``X = context_frames`` (the decoder's receptive field, ``model.decoder_context``) on both
  sides, so it equals the same frames of a whole-sequence decode. The codec's decoder state
  (the phase of its tonal branch, :meth:`Codec.decode_window`) at frame ``E`` is carried
  from one window to the next, and kept in the rollback snapshots with the tail.
* Each decode also yields ``crossfade`` samples past its chunk (the tail); the next chunk's
  first ``crossfade`` samples are a *linear* fade from that tail into the new decode. Two
  decodes of the same codes are correlated, so the gains sum to one (an equal-power fade
  would add up to 3 dB). The fade matters where the codes differ: after a rollback (a
  control change that regenerates look-ahead) the old tail was decoded with the old future.

After new codes (a change of a sampling parameter), the first chunk is decoded with only
``fast_context`` frames of right context, which cuts the time from a change to its sound
(the prior has to sample ``chunk + fast_context + 1`` frames, not ``chunk + context + 1``).

A causal codec (one with ``decode_step``, the pitched codec) is streamed instead: each frame
is decoded once, and the decoder's state (conv caches, oscillator phases, overlap-add tail)
after the frames before ``E`` is what carries the stream. Its audio runs one frame behind its
codes (the overlap-add's look-ahead), so chunk ``[E, E + C)`` of codes yields the audio of
frames ``E - 1 .. E + C - 2``, and that depends on codes before ``E + C`` only: a rollback to
``E`` restores the state there and the new audio continues the old exactly, with no fade.
The decoder runs ``decode_frames`` frames a call (four for one-frame chunks: most of a
call's cost is per call, not per frame) and hands them out a chunk at a time, so a change
still lands at any chunk boundary; a rollback into a call's frames restores the state at the
call's start, and the next call decodes the call's frames before the boundary again (their
audio dropped: it was handed out already) with the new ones. The first two calls after a
rollback decode one new chunk each, so a change is heard about as soon as with one-frame
calls.

Rollback: before sampling chunk ``b`` the generator keeps a snapshot of every stream's prior
state and random generator (:meth:`rollback_codes`), and before decoding chunk ``b`` the
crossfade tail (:meth:`rollback_emission`). Rolling back to ``b`` and going on with other
parameters gives exactly what a stream changed at ``b`` in the first place gives, which is
what makes live changes and offline automation identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..model.sampling import SamplingParams, sample_code_sequence
from ..model.steering import has_pitch, pitch_mask, shifted_embeddings
from .keyboard import Steer

__all__ = [
    "Generator",
    "SeededSampling",
    "DEFAULT_CHUNK_SAMPLES",
    "STREAMING_CHUNK_SAMPLES",
    "chunk_frames_for",
    "decode_frames_for",
]

#: Audio samples decoded per chunk by default for a windowed codec (about 43 ms at 48 kHz).
#: Each chunk's window carries the decoder's context on both sides, so chunks of a few
#: milliseconds would spend most of the decoding on context; much longer ones make control
#: changes slower to hear.
DEFAULT_CHUNK_SAMPLES = 2048
#: The same for a streaming codec, which decodes each frame once whatever the chunk: the
#: smallest chunk (one frame, about 21 ms at hop 1024) makes a key or a knob land soonest,
#: since a change takes effect at a chunk boundary.
STREAMING_CHUNK_SAMPLES = 1024
#: Frames a streaming codec decodes per call when chunks are one frame: most of a call's cost
#: is per call, not per frame (docs/experiments.md, "Generator speed"), and the later frames
#: wait, decoded, for their chunks.
STREAMING_DECODE_FRAMES = 4
#: Decoder calls of one chunk after a rollback: a change lands within a chunk and its splice
#: fade may reach into the next, both regenerated before the change is heard.
SHORT_CALLS_AFTER_ROLLBACK = 2


def chunk_frames_for(hop: int, streaming: bool = False) -> int:
    """Code frames per chunk for a codec with this hop: about :data:`DEFAULT_CHUNK_SAMPLES`
    (:data:`STREAMING_CHUNK_SAMPLES` for a streaming codec)."""
    target = STREAMING_CHUNK_SAMPLES if streaming else DEFAULT_CHUNK_SAMPLES
    return max(1, round(target / int(hop)))


def decode_frames_for(chunk_frames: int) -> int:
    """Frames per call of a streaming decoder that hands out chunks of ``chunk_frames``:
    :data:`STREAMING_DECODE_FRAMES` for one-frame chunks, else one chunk."""
    return STREAMING_DECODE_FRAMES if chunk_frames == 1 else chunk_frames


@dataclass(frozen=True)
class _Call:
    """One call of a streaming decoder: its first frame, the state before it (kept
    unchanged), and its input embeddings (S, D, n)."""

    start: int
    state: Any
    emb: torch.Tensor


@dataclass(frozen=True)
class SeededSampling(SamplingParams):
    """The model's checked :class:`~distill_live.model.sampling.SamplingParams` plus the seed
    of the first stream (stream ``i`` uses ``seed + i``)."""

    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "seed", int(self.seed))


class Generator:
    """Codes → decoded audio for ``n_streams`` streams (seeds ``seed``, ``seed + 1``, ...)."""

    def __init__(
        self,
        model: Any,
        sampling: SeededSampling,
        n_streams: int = 1,
        chunk_frames: int | None = None,
        context_frames: int | None = None,
        crossfade: int | None = None,
        fast_context: int | None = 2,
        decode_frames: int | None = None,
    ) -> None:
        self._sample = sample_code_sequence
        self.model = model
        self.prior = model.prior
        self.codec = model.codec
        self.hop = int(model.hop)
        self.sample_rate = int(model.sample_rate)
        self.n_streams = n_streams
        # a causal codec streams: each frame decoded once, its state carried (see above)
        self.streaming = hasattr(self.codec, "decode_step")
        self.chunk = (
            chunk_frames_for(self.hop, self.streaming)
            if chunk_frames is None
            else int(chunk_frames)
        )
        if self.chunk < 1:
            raise ValueError(f"chunk_frames must be >= 1, got {chunk_frames}")
        # a streaming codec's frames per decoder call: a whole number of chunks
        if decode_frames is None:
            decode_frames = decode_frames_for(self.chunk)
        self.decode_frames = int(decode_frames) if self.streaming else self.chunk
        if self.decode_frames < self.chunk or self.decode_frames % self.chunk:
            raise ValueError(
                f"decode_frames must be a multiple of chunk_frames ({self.chunk}), got "
                f"{decode_frames}"
            )
        # the keyboard's plan (pitch codes allowed, pitch offset, gain) and the gain reached
        self.pitched = has_pitch(self.codec)
        self.steer = Steer()
        self._mask: torch.Tensor | None = None
        self.gain = 1.0
        self.context = (
            0
            if self.streaming
            else int(model.decoder_context if context_frames is None else context_frames)
        )
        self.crossfade = self.hop if crossfade is None else int(crossfade)
        # right context of the first chunk after new codes (see rollback_codes)
        self.fast_context = (
            self.context if fast_context is None else min(int(fast_context), self.context)
        )
        self._fast_next = False
        if not 0 <= self.crossfade <= self.hop:
            raise ValueError(f"crossfade must be in 0..hop ({self.hop}), got {crossfade}")
        if self.crossfade:
            i = np.arange(1, self.crossfade + 1, dtype=np.float64)
            self.fade_in = (i / (self.crossfade + 1)).astype(np.float32)
            self.fade_out = (1.0 - i / (self.crossfade + 1)).astype(np.float32)
        self.sampling = sampling
        self.rngs = [torch.Generator() for _ in range(n_streams)]
        self._reseed()
        # all streams share one prior state (batch = n_streams) and one pass per frame,
        # each row with its own random generator (seed, seed + 1, ...)
        self.states = [self.prior.initial_state(batch=n_streams)]
        k = int(self.prior.config.n_codebooks)  # what the prior samples (the codec decodes it)
        self.codes = torch.zeros((n_streams, k, 0), dtype=torch.long)  # (S, K, N)
        self.codes_start = 0  # frame index of self.codes[..., 0]
        self.emitted = 0  # E: frames decoded and handed out (a chunk boundary)
        self.tail: np.ndarray | None = None  # (S, crossfade) decoded past E, for the fade
        # the codec's state at frame E: a tonal phase (windowed decoding), or a streaming
        # decoder's whole state after the frames before E
        self.decoder_state: Any = self.codec.initial_state(n_streams) if self.streaming else None
        # streaming: the frames of the last decoder call not handed out yet (S, F * hop), and
        # that call (its first frame, the decoder's state there, its input) to rebuild the
        # state at any of its frames
        self._ahead: np.ndarray | None = None
        self._call: _Call | None = None
        self._prefix: torch.Tensor | None = None  # (S, D, k) see _restart_at
        # after a rollback (a change) the first calls decode one chunk each: the change is
        # heard, and its splice fade (which may reach into the next chunk) made, after
        # sampling and decoding those chunks, not whole calls
        self._short_calls = 0
        self._code_snaps: dict[int, Any] = {}
        self._emit_snaps: dict[int, Any] = {}

    # ------------------------------------------------------------------ properties
    @property
    def sampled(self) -> int:
        """P: frames sampled so far (a chunk boundary)."""
        return self.codes_start + int(self.codes.shape[-1])

    @property
    def chunk_samples(self) -> int:
        return self.chunk * self.hop

    @property
    def lead_frames(self) -> int:
        """Code frames the prior must have sampled beyond a chunk before it can be decoded."""
        return 0 if self.streaming else self.context + 1

    def _reseed(self) -> None:
        for i, g in enumerate(self.rngs):
            g.manual_seed(int(self.sampling.seed) + i)

    # ------------------------------------------------------------------ sampling
    def _snapshot_codes(self) -> None:
        # a mark per chunk (the ring slots the chunk overwrites), not a copy of the cache:
        # rollback_codes restores the marks newest first
        self._code_snaps[self.sampled] = (
            self.states[0].mark(self.chunk),
            [g.get_state() for g in self.rngs],
        )

    def _sample_chunk(self) -> None:
        self._snapshot_codes()
        codes, self.states[0] = self._sample(
            self.prior,
            self.states[0],
            self.chunk,
            sampling=self.sampling,
            generator=self.rngs[0] if self.n_streams == 1 else self.rngs,
            pitch_mask=self._mask,
        )  # (S, K, C)
        self.codes = torch.cat([self.codes, codes], dim=-1)

    # ------------------------------------------------------------------ decoding
    @torch.inference_mode()
    def next_chunk(self) -> np.ndarray:
        """Decode the next chunk: (n_streams, chunk_frames * hop) float32."""
        if self.streaming:
            return self._next_chunk_streamed()
        e, c, x, h = self.emitted, self.chunk, self.context, self.hop
        self._emit_snaps[e] = (
            None if self.tail is None else self.tail.copy(),
            self._fast_next,
            self.decoder_state,
            self.gain,
        )
        right = self.fast_context if self._fast_next else x
        self._fast_next = False
        need = e + c + 1 + right
        while self.sampled < need:
            self._sample_chunk()
        s = max(0, e - x, self.codes_start)
        window = self.codes[:, :, s - self.codes_start : need - self.codes_start]  # (S, K, T)
        emb = self.codec.codes_to_embeddings(window)  # (S, D, T)
        # the decoder's state (tonal phase) at frame E carries the stream across windows
        anchor = self.decoder_state if e > 0 else None
        audio_t, self.decoder_state = self.codec.decode_window(emb, anchor, e - s, e + c - s)
        audio = audio_t.numpy()  # (S, T * hop)
        off = (e - s) * h
        out = audio[:, off : off + c * h].astype(np.float32, copy=True)  # (S, C * hop)
        f = self.crossfade
        if f and self.tail is not None:
            out[:, :f] = self.tail * self.fade_out + out[:, :f] * self.fade_in
        self.tail = audio[:, off + c * h : off + c * h + f].copy() if f else None
        self.emitted = e + c
        self._trim_codes()
        return self._apply_gain(out)

    def _next_chunk_streamed(self) -> np.ndarray:
        e, c, h = self.emitted, self.chunk, self.hop
        if self._ahead is None:
            self._decode_call(e, self.chunk if self._short_calls else self.decode_frames)
            self._short_calls = max(0, self._short_calls - 1)
        assert self._ahead is not None and self._call is not None
        self._emit_snaps[e] = (None, False, self._call, self.gain)
        self._fast_next = False
        out, rest = self._ahead[:, : c * h], self._ahead[:, c * h :]
        self._ahead = rest if rest.shape[1] else None
        self.emitted = e + c
        self._trim_codes()
        return self._apply_gain(out.copy())  # (S, C * hop)

    def _decode_call(self, e: int, n: int) -> None:
        """Decode frames ``[E, E + n)`` into :attr:`_ahead`, after the frames a rollback into
        a call left to decode again (:attr:`_prefix`, their audio dropped)."""
        while self.sampled < e + n:
            self._sample_chunk()
        window = self.codes[:, :, e - self.codes_start : e + n - self.codes_start]  # (S, K, n)
        if self.pitched and self.steer.shifts_pitch:
            offsets = self.steer.offsets(np.arange(e, e + n))  # (n,) semitones
            emb = shifted_embeddings(self.codec, window, offsets)
        else:
            emb = self.codec.codes_to_embeddings(window)
        k = 0
        if self._prefix is not None:
            k = int(self._prefix.shape[-1])
            emb = torch.cat([self._prefix, emb], dim=-1)
            self._prefix = None
        self._call = _Call(e - k, self.decoder_state.clone(), emb)
        audio, self.decoder_state = self.codec.decode_step(emb, self.decoder_state)
        self._ahead = audio[:, k * self.hop :].numpy().astype(np.float32, copy=False)

    def _restart_at(self, call: _Call, frame: int) -> None:
        """Back to ``frame``, one of ``call``'s frames: the state at the call's start, and the
        call's frames before ``frame`` to decode again with the next call (one call of
        those and the new frames costs less than decoding them alone first)."""
        self.decoder_state = call.state.clone()
        self._prefix = call.emb[:, :, : frame - call.start] if frame > call.start else None
        self._ahead = None

    def _apply_gain(self, out: np.ndarray) -> np.ndarray:
        """The keyboard's gain (velocity, gate): a new gain is reached by a linear ramp over
        the chunk's first frame, so a key's attack and release are click-free."""
        g0, g1 = self.gain, self.steer.gain
        if g0 == g1 == 1.0:
            return out
        if g0 == g1:
            out *= np.float32(g1)
            return out
        n = min(self.hop, out.shape[1])
        ramp = np.full(out.shape[1], g1, dtype=np.float32)
        ramp[:n] = g0 + (g1 - g0) * np.arange(1, n + 1, dtype=np.float64) / n
        out *= ramp
        self.gain = g1
        return out

    def _trim_codes(self) -> None:
        # codes older than the left context of the oldest window we may decode again go
        oldest = min([self.emitted, *self._emit_snaps])
        keep_from = max(self.codes_start, oldest - self.context)
        if keep_from > self.codes_start:
            self.codes = self.codes[:, :, keep_from - self.codes_start :]
            self.codes_start = keep_from

    # ------------------------------------------------------------------ rollback
    def boundaries(self) -> list[int]:
        """Chunk boundaries (frames) the emission can be rolled back to, oldest first."""
        return sorted(self._emit_snaps)

    def can_rollback_codes(self, frame: int) -> bool:
        return frame in self._code_snaps and (frame == self.emitted or frame in self._emit_snaps)

    def rollback_emission(self, frame: int) -> None:
        """Decode again from chunk boundary ``frame`` (≤ E), keeping the sampled codes."""
        # also at E itself, so that a stream changed there decodes as one rolled back to it
        self._short_calls = SHORT_CALLS_AFTER_ROLLBACK if self.streaming else 0
        if frame == self.emitted:
            if self._ahead is None:
                return
            # decoded past the boundary: back to it
            assert self._call is not None
            self._restart_at(self._call, frame)
            return
        if frame not in self._emit_snaps:
            raise ValueError(f"no emission snapshot at frame {frame}")
        tail, self._fast_next, dec, self.gain = self._emit_snaps[frame]
        if self.streaming:  # the snapshot stays valid for another rollback to the same frame
            self._restart_at(dec, frame)
        else:
            self.decoder_state = dec
        self.tail = None if tail is None else tail.copy()
        self.emitted = frame
        for f in [f for f in self._emit_snaps if f > frame]:
            del self._emit_snaps[f]

    def rollback_codes(self, frame: int) -> None:
        """Drop the codes sampled from ``frame`` on and restore the prior and random state
        there; the emission goes back to ``frame`` too."""
        self.rollback_emission(frame)
        if frame == self.sampled:
            return
        for f in sorted((f for f in self._code_snaps if frame <= f < self.sampled), reverse=True):
            self.states[0].restore(self._code_snaps[f][0])
        for g, st in zip(self.rngs, self._code_snaps[frame][1], strict=True):
            g.set_state(st)
        self.codes = self.codes[:, :, : frame - self.codes_start]
        for f in [f for f in self._code_snaps if f > frame]:
            del self._code_snaps[f]
        # The first chunk from here is decoded with only `fast_context` frames of right
        # context, so that new codes are heard after sampling a few frames instead of
        # context + 1: that chunk is approximate towards its end and joins the next (exact)
        # chunk through the crossfade. Deterministic, so live and render agree.
        self._fast_next = True

    def set_sampling(self, sampling: SeededSampling, reseed: bool | None = None) -> None:
        """New sampling parameters for codes sampled from now on. Call right after
        :meth:`rollback_codes` (at a boundary with nothing sampled beyond it). ``reseed``
        (default: when the seed changed) restarts the random streams there; the snapshot at
        that boundary is renewed."""
        if reseed is None:
            reseed = sampling.seed != self.sampling.seed
        self.sampling = sampling
        if reseed:
            self._reseed()
        if self.sampled in self._code_snaps:
            self._snapshot_codes()

    def set_steer(self, steer: Steer) -> None:
        """The keyboard's plan for frames from now on. Call right after a rollback to the
        boundary it starts at: :meth:`rollback_codes` when it allows other pitch codes than
        the plan before (the codes must be drawn again), :meth:`rollback_emission` when only
        the pitch offset or the gain changed."""
        if steer.allowed != self.steer.allowed:
            self._mask = pitch_mask(int(self.prior.config.codebook_size), steer.allowed)
        self.steer = steer
        if self.emitted == 0:  # nothing played yet: start at the plan's gain, not a fade
            self.gain = steer.gain

    def prune(self, before_frame: int) -> None:
        """Forget snapshots of boundaries before ``before_frame`` (already played)."""
        for d in (self._code_snaps, self._emit_snaps):
            for f in [f for f in d if f < before_frame]:
                del d[f]
        self._trim_codes()
