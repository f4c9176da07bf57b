"""The generated stream at the output rate: generator + post-processing + change scheduling.

:class:`Stream` is what both the live engine (a generator thread writing to the ring) and
the offline render (a virtual clock) drive. It produces output frames chunk by chunk and
applies parameter changes at chunk boundaries:

* A change takes effect at exactly the output frame ``S`` the caller asks for
  (``not_before``): the live engine asks for "the play position plus a safety margin", the
  render for "the automation event's time". The stream rolls back to the last chunk
  boundary ``F <= S`` (the generator restores its prior/random state when codes must be drawn
  again, or only its decode position; the post chain restores its filter states), makes the
  new audio from ``F``, and splices it in at ``S``: frames ``F..S`` stay what they were, the
  next :data:`SPLICE_FRAMES` fade linearly from the old audio into the new (two decodes of
  the same past are correlated, so the gains sum to one), and the rest is new. So a change
  does not wait for a boundary (the chunk is only the unit of work), and as the old audio
  is itself the stream's, a render of the same events at the same frames splices the same
  way: live changes equal offline automation, bit for bit.
* When no boundary at or before ``S`` can be rolled back to (a model switch's fade), the
  change lands at the first boundary after ``S`` instead.
* The caller overwrites its queued frames from ``F`` with what :meth:`produce` returns next
  (the frames before ``S`` are the ones it has).
* Changes never go backwards (a later change never lands before an earlier one).

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
from .keyboard import KEYBOARD_PARAMS, Keyboard, KeyMap, Steer, plan
from .post import PostChain, streams_for_mode

__all__ = [
    "Change",
    "AppliedChange",
    "Stream",
    "FrameQueue",
    "SAMPLING_PARAMS",
    "POST_PARAMS",
    "NOTE_EVENTS",
    "SPLICE_FRAMES",
]

#: Output frames over which a change fades from the old audio into the new (about 2.7 ms
#: at 48 kHz): short enough to keep a key's attack, long enough not to click.
SPLICE_FRAMES = 128

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
        self._keymap = KeyMap.of(model)  # the model file's key table, read once
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
        # what was produced since the oldest snapshot (the old frames a splice keeps)
        self._made = FrameQueue()
        # a pending splice: (output frame S, the old frames from out_pos on)
        self._splice: tuple[int, np.ndarray] | None = None
        self.changed_at = 0  # output frame of the last change (frames before it are kept)
        self._floor = 0  # boundaries of later changes may not come before this output frame
        self.fade: _Fade | None = None

    def _plan(
        self, keyboard: Keyboard, params: ParamValues, start: int, previous: Steer | None
    ) -> Steer:
        codec = self.gen.codec
        grid = codec.grid if has_pitch(codec) else None
        rate = self.gen.sample_rate / self.gen.hop
        return plan(keyboard, params, start, previous, grid, rate, self._keymap)

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
        if self._splice is not None:
            out = self._spliced(out)
        self._made.put(self.out_pos, out)
        self.out_pos += out.shape[0]
        if fading:  # no rollback into a fade: the outgoing stream cannot be replayed
            self._snaps.clear()
            self._floor = self.out_pos
        return out

    def _spliced(self, out: np.ndarray) -> np.ndarray:
        """New frames ``out`` (from :attr:`out_pos`) with the pending splice applied: the old
        frames before S, then a linear fade from old to new over :data:`SPLICE_FRAMES`."""
        assert self._splice is not None
        at, old = self._splice  # old[0] is the frame at out_pos
        pos, n = self.out_pos, out.shape[0]
        keep = min(max(at - pos, 0), n, old.shape[0])
        out = out.copy()
        out[:keep] = old[:keep]
        fade_end = min(n, at + SPLICE_FRAMES - pos, old.shape[0])
        if fade_end > keep:
            j = np.arange(keep, fade_end) - (at - pos)  # 0.. within the fade
            w = ((j + 1) / (SPLICE_FRAMES + 1)).astype(np.float32)[:, None]
            out[keep:fade_end] = old[keep:fade_end] * (1 - w) + out[keep:fade_end] * w
        rest = old[n:]
        done = at + SPLICE_FRAMES <= pos + n or not rest.shape[0]
        self._splice = None if done else (at, rest)
        return out

    def prune(self, before_out: int) -> None:
        """Forget rollback points whose output position is before ``before_out``, but the
        last of them (a change at ``before_out`` may still roll back to it and splice)."""
        old = sorted(f for f, (o, _) in self._snaps.items() if o < before_out)[:-1]
        for f in old:
            del self._snaps[f]
        oldest = min((o for o, _ in self._snaps.values()), default=self.out_pos)
        self._made.take(oldest)
        if old:
            self.gen.prune(max(old) + 1)

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
        on_boundary = target == self.out_pos or any(o == target for o, _ in self._snaps.values())
        if self.out_pos < target or (self.out_pos < target + SPLICE_FRAMES and not on_boundary):
            return None  # not reached yet, or the old audio to fade from is not made yet
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
        # chunk boundaries (code frame → output frame): the snapshots and where we are now
        bounds = {f: o for f, (o, _) in self._snaps.items()} | {self.gen.emitted: self.out_pos}
        usable = [
            f
            for f in sorted(bounds)
            if f == self.gen.emitted
            or (self.fade is None and (not resample or self.gen.can_rollback_codes(f)))
        ]
        before = [f for f in usable if bounds[f] <= target]
        frame = before[-1] if before else next(f for f in usable if bounds[f] >= target)
        at = max(target, bounds[frame])
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
            # keep the old frames up to the change and fade after it
            old = self._made.frames(out_pos, at + SPLICE_FRAMES, self.channels)
            self._splice = (at, old) if at > out_pos else None
            self._made.truncate(out_pos)
            self.out_pos = out_pos
            for f in [f for f in self._snaps if f >= frame]:
                del self._snaps[f]
        self.post.set(float(new["gain"]), float(new["width"]))
        self.params = new
        self._floor = self.changed_at = at
        applied = [
            AppliedChange(
                at,
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
        self._keymap = KeyMap.of(model)
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
        if pos < self.final:  # frames already taken: a splice keeps them as they were
            frames = frames[self.final - pos :]
            pos = self.final
        self.truncate(pos)
        self._blocks.append((pos, frames))

    def truncate(self, pos: int) -> None:
        """Drop what is queued from position ``pos`` on."""
        q = self._blocks
        while q and q[-1][0] >= pos:
            q.pop()
        if q and q[-1][0] + q[-1][1].shape[0] > pos:
            p0, d0 = q[-1]
            q[-1] = (p0, d0[: pos - p0])

    def frames(self, start: int, end: int, channels: int) -> np.ndarray:
        """A copy of the queued frames ``start..end`` (those there are): (n, channels)."""
        parts = []
        for pos, data in self._blocks:
            lo, hi = max(start, pos), min(end, pos + data.shape[0])
            if hi > lo:
                parts.append(data[lo - pos : hi - pos])
        return np.concatenate(parts) if parts else np.zeros((0, channels), np.float32)

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
