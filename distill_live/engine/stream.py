"""The generated stream at the output rate: generator + post-processing + change scheduling.

:class:`Stream` is what both the live engine (a generator thread writing to the ring) and
the offline render (a virtual clock) drive. It produces output frames chunk by chunk and
applies parameter changes at chunk boundaries:

* A change is applied at the first chunk boundary whose output position is at or after the
  position the caller asks for (``not_before``): the live engine asks for "the play position
  plus a safety margin", the render for "the automation event's time".
* If that boundary lies in look-ahead already produced, the stream rolls back to it: the
  generator restores its prior/random state (sampling parameters) or only its decode
  position (gain, width), the post chain restores its filter states, and the caller
  overwrites the queued frames from there. Rolling back to a boundary and producing again
  gives exactly what changing the value at that boundary in the first place gives, so the
  regenerated audio joins the kept audio like any other chunk (linear crossfade included),
  and live changes equal offline automation at the same boundaries.
* Boundaries never go backwards (a later change never lands before an earlier one).

A model switch crossfades the old stream into a new one with an equal-power fade (two
unrelated streams: their powers add).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..model.steering import has_pitch
from ..params import ParamValues, Value
from .generator import Generator, SeededSampling
from .keyboard import KEYBOARD_PARAMS, Keyboard, Steer, plan
from .post import PostChain, streams_for_mode

__all__ = [
    "Change",
    "AppliedChange",
    "Stream",
    "FrameQueue",
    "SAMPLING_PARAMS",
    "POST_PARAMS",
    "NOTE_EVENTS",
]

SAMPLING_PARAMS = ("temperature", "top_k", "top_p", "seed")
POST_PARAMS = ("gain", "width")
#: Keyboard events that are not parameters: ``note`` (value = the MIDI note, with a
#: velocity; 0 releases it) and ``notes_off`` (every key up, value 0).
NOTE_EVENTS = ("note", "notes_off")


@dataclass(frozen=True)
class Change:
    """A requested change (already validated/clamped), queued for the generator: a parameter
    or a keyboard event (:data:`NOTE_EVENTS`)."""

    param: str
    value: Value
    source: str = "api"
    t_ns: int = 0  # time.monotonic_ns() when it was requested (latency measurements)
    velocity: int | None = None  # a note's velocity (0 = released)


@dataclass(frozen=True)
class AppliedChange:
    """A change that took effect at output frame ``frame`` (the first frame made with it)."""

    frame: int
    param: str
    value: Value
    source: str
    t_ns: int = 0
    velocity: int | None = None


def _sampling(p: ParamValues) -> SeededSampling:
    return SeededSampling(
        temperature=float(p["temperature"]),
        top_k=int(p["top_k"]),
        top_p=float(p["top_p"]),
        seed=int(p["seed"]),
    )


class _Fade:
    """Equal-power crossfade from an outgoing generator to an incoming one."""

    def __init__(self, old: Generator, length: int) -> None:
        self.old = old
        self.length = max(1, length)
        self.done = 0
        self.fifo = np.zeros((old.n_streams, 0), dtype=np.float32)

    def mix(self, new: np.ndarray) -> np.ndarray:
        n = new.shape[1]
        while self.fifo.shape[1] < n:
            self.fifo = np.concatenate([self.fifo, self.old.next_chunk()], axis=1)
        old, self.fifo = self.fifo[:, :n], self.fifo[:, n:]
        t = np.clip((self.done + np.arange(n)) / self.length, 0.0, 1.0)
        theta = t * (math.pi / 2)
        self.done += n
        return (old * np.cos(theta) + new * np.sin(theta)).astype(np.float32)

    @property
    def finished(self) -> bool:
        return self.done >= self.length


class Stream:
    """Output frames (n, channels) float32 at ``out_rate``, chunk by chunk."""

    def __init__(
        self,
        model: Any,
        params: ParamValues | None = None,
        stereo: str = "mono",
        out_rate: int = 48000,
        channels: int = 2,
        chunk_frames: int | None = None,
        context_frames: int | None = None,
        crossfade: int | None = None,
        fast_context: int | None = 2,
    ) -> None:
        self.params = params or ParamValues()
        self.stereo = stereo
        self.n_streams = streams_for_mode(stereo)
        self.out_rate = int(out_rate)
        self.channels = int(channels)
        self.model = model
        self._gen_kw: dict[str, Any] = dict(
            chunk_frames=chunk_frames,
            context_frames=context_frames,
            crossfade=crossfade,
            fast_context=fast_context,
        )
        self.gen = Generator(model, _sampling(self.params), self.n_streams, **self._gen_kw)
        self.keyboard = Keyboard()
        self.gen.set_steer(self._plan(self.keyboard, self.params, 0, None))
        self.model_rate = int(model.sample_rate)
        self.post = PostChain(
            stereo,
            self.model_rate,
            self.out_rate,
            self.channels,
            gain_db=float(self.params["gain"]),
            width=float(self.params["width"]),
        )
        self.out_pos = 0  # output frames produced
        self._snaps: dict[int, tuple[int, Any]] = {}  # chunk frame → (out_pos, post state)
        self._floor = 0  # boundaries of later changes may not come before this output frame
        self.fade: _Fade | None = None

    def _plan(
        self, keyboard: Keyboard, params: ParamValues, start: int, previous: Steer | None
    ) -> Steer:
        codec = self.gen.codec
        grid = codec.grid if has_pitch(codec) else None
        return plan(keyboard, params, start, previous, grid, self.gen.sample_rate / self.gen.hop)

    # ------------------------------------------------------------------ producing
    @property
    def chunk_out_frames(self) -> float:
        return self.gen.chunk_samples * self.out_rate / self.model_rate

    def produce(self) -> np.ndarray:
        """The next chunk of output frames (n, channels) float32."""
        self._snaps[self.gen.emitted] = (self.out_pos, self.post.snapshot())
        raw = self.gen.next_chunk()  # (S, C * hop)
        fading = self.fade is not None
        if self.fade is not None:
            raw = self.fade.mix(raw)
            if self.fade.finished:
                self.fade = None
        out = self.post.process(raw)
        self.out_pos += out.shape[0]
        if fading:  # no rollback into a fade: the outgoing stream cannot be replayed
            self._snaps.clear()
            self._floor = self.out_pos
        return out

    def prune(self, before_out: int) -> None:
        """Forget rollback points whose output position is before ``before_out``."""
        drop = [f for f, (o, _) in self._snaps.items() if o < before_out]
        if not drop:
            return
        for f in drop:
            del self._snaps[f]
        self.gen.prune(max(drop) + 1)

    # ------------------------------------------------------------------ changes
    def apply(
        self, changes: Iterable[Change], not_before: int
    ) -> tuple[int, list[AppliedChange]] | None:
        """Apply ``changes`` at the first chunk boundary at or after output frame
        ``not_before`` (and not before an earlier change). Returns ``(out_frame, applied)``
        where ``out_frame`` is the boundary (the caller must replace queued frames from there
        with what :meth:`produce` returns next), or ``None`` if that boundary has not been
        reached yet (call again later). Changes to the current value are dropped, except
        ``seed``: setting it, even to the same value, restarts the random stream."""
        new = self.params
        keyboard = self.keyboard.copy()
        effective: list[Change] = []
        for ch in changes:
            if ch.param == "note":
                keyboard.note(int(ch.value), int(ch.velocity or 0))
                effective.append(ch)
            elif ch.param == "notes_off":
                keyboard.all_off()
                effective.append(ch)
            elif new[ch.param] != ch.value or ch.param == "seed":
                new = new.replace(**{ch.param: ch.value})
                effective.append(ch)
                if ch.param == "sustain":
                    keyboard.set_sustain(bool(ch.value))
        target = max(not_before, self._floor)
        if self.out_pos < target:
            return None
        if not effective:
            return self.out_pos, []
        steer: Steer | None = None
        if any(ch.param in KEYBOARD_PARAMS or ch.param in NOTE_EVENTS for ch in effective):
            steer = self._plan(keyboard, new, self.gen.emitted, self.gen.steer)
        # new codes are drawn after new sampling parameters, or when other pitch codes are
        # allowed; a new pitch offset or gain only decodes the same codes again
        resample = any(ch.param in SAMPLING_PARAMS for ch in effective) or (
            steer is not None and steer.allowed != self.gen.steer.allowed
        )
        frame = self.gen.emitted
        if self.fade is None:
            for f in sorted(self._snaps):
                if self._snaps[f][0] >= target and (not resample or self.gen.can_rollback_codes(f)):
                    frame = f
                    break
        if resample:
            self.gen.rollback_codes(frame)
            reseed = any(ch.param == "seed" for ch in effective)
            self.gen.set_sampling(_sampling(new), reseed=reseed)
        else:
            self.gen.rollback_emission(frame)
        if steer is not None:
            self.gen.set_steer(self._plan(keyboard, new, frame, self.gen.steer))
        self.keyboard = keyboard
        if frame in self._snaps:
            out_pos, post_state = self._snaps[frame]
            self.post.restore(post_state)
            self.out_pos = out_pos
            for f in [f for f in self._snaps if f >= frame]:
                del self._snaps[f]
        self.post.set(float(new["gain"]), float(new["width"]))
        self.params = new
        self._floor = self.out_pos
        applied = [
            AppliedChange(
                self.out_pos,
                ch.param,
                ch.value if ch.param in NOTE_EVENTS else new[ch.param],
                ch.source,
                ch.t_ns,
                ch.velocity,
            )
            for ch in effective
        ]
        return self.out_pos, applied

    # ------------------------------------------------------------------ model switch
    def switch_model(self, model: Any, fade_s: float = 0.5) -> None:
        """Crossfade (equal power) into a fresh stream of ``model`` with the same parameters."""
        if int(model.sample_rate) != self.model_rate:
            raise ValueError(
                f"model runs at {model.sample_rate} Hz, the stream at {self.model_rate} Hz"
            )
        old = self.gen
        self.model = model
        self.gen = Generator(model, _sampling(self.params), self.n_streams, **self._gen_kw)
        self.gen.set_steer(self._plan(self.keyboard, self.params, 0, None))
        self.fade = _Fade(old, int(fade_s * self.model_rate))
        self._snaps.clear()
        self._floor = self.out_pos


class FrameQueue:
    """Frames produced but not final yet: ``(position, frames)`` blocks in order.

    :meth:`put` replaces everything queued from its position on (a rollback rewrote it);
    :meth:`take` pops the frames before a position (played, or past any possible rollback).
    """

    def __init__(self) -> None:
        self._blocks: deque[tuple[int, np.ndarray]] = deque()
        self.final = 0  # position up to which frames have been taken

    def put(self, pos: int, frames: np.ndarray) -> None:
        q = self._blocks
        while q and q[-1][0] >= pos:
            q.pop()
        if q and q[-1][0] + q[-1][1].shape[0] > pos:
            p0, d0 = q[-1]
            q[-1] = (p0, d0[: pos - p0])
        q.append((pos, frames))

    def take(self, upto: int) -> list[tuple[int, np.ndarray]]:
        """Pop and return the frames before position ``upto``, as (position, frames)."""
        out = []
        q = self._blocks
        while q and q[0][0] < upto:
            pos, data = q[0]
            end = pos + data.shape[0]
            if end <= upto:
                q.popleft()
                out.append((pos, data))
                self.final = end
            else:
                out.append((pos, data[: upto - pos]))
                q[0] = (upto, data[upto - pos :])
                self.final = upto
        return out

    @property
    def end(self) -> int:
        """Position just past the last queued frame (or :attr:`final` if empty)."""
        if not self._blocks:
            return self.final
        pos, data = self._blocks[-1]
        return pos + data.shape[0]
