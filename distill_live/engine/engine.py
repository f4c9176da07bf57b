"""`Engine`: the live instrument as a Python object.

>>> with Engine("default", params=ParamValues(temperature=0.9)) as eng:   # doctest: +SKIP
...     eng.set("temperature", 1.2, source="api")
...     print(eng.stats()["underruns"])

Threads and processes:

* the **generator thread** owns the model (torch at one thread). It applies queued control
  changes at chunk boundaries (rolling back look-ahead that has not been played beyond a
  safety margin, see :class:`~distill_live.engine.stream.Stream`), keeps the shared ring
  filled to ``lookahead_ms``, hands every frame that has been played to the recording tee
  (:mod:`distill_live.engine.tee`), and calls listeners when a change takes effect;
* the **audio process** (:mod:`distill_live.engine.audio`) copies blocks out of the ring;
* a **watchdog thread** restarts the audio process when it dies or its callbacks stop.

``set`` is thread-safe and cheap (validate, clamp, enqueue): OSC and MIDI handlers call it.

This module runs the stream and nothing else: recording is the tee's
(:mod:`~distill_live.engine.tee`), loading a model and setting torch up are
:mod:`distill_live.model.runtime`'s, the audio device is :mod:`~distill_live.engine.output`'s.
It may import the model, the recording package, the parameter table and the rest of the
engine; never control or the command line (they import it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from ..errors import ControlError, DeviceError, RecordingError
from ..model.runtime import resolve_model, setup_torch
from ..params import SOURCES, ParamValues, Value, coerce_note, get_param
from ..record.defaults import RecordDefaults
from ..record.recorder import Recorder
from ..record.sidecar import session_metadata
from .defaults import DEFAULT_LOOKAHEAD_MS
from .generator import chunk_frames_for
from .output import check_samplerate
from .ring import H, Ring
from .stream import SPLICE_FRAMES, AppliedChange, Change, Stream
from .tee import RecordingTee

__all__ = ["Engine", "AppliedChange"]

log = logging.getLogger(__name__)

#: Where a change may land at the earliest: play position + guard + the time regeneration
#: takes (the 90th percentile of the last 50, x1.2, + 3 ms), at least this many ms.
MIN_SAFETY_MS = 10.0
GUARD_MS = 6.0  # frames this close to the play position are never rewritten


def _percentile(values: Any, q: float) -> float:
    """The ``q``-th percentile (nearest rank) of a non-empty collection."""
    xs = sorted(values)
    return float(xs[min(len(xs) - 1, max(0, int(round(q / 100 * len(xs))) - 1))])


def _ring_capacity(rate: int, lookahead_ms: float) -> int:
    need = int(rate * (lookahead_ms / 1000 + 1.0))  # look-ahead + a chunk + slack
    cap = 1 << 14
    while cap < need:
        cap <<= 1
    return cap


class Engine:
    """The live engine. See the module docstring and docs/ARCHITECTURE.md."""

    def __init__(
        self,
        model: Any = "default",
        params: ParamValues | None = None,
        stereo: str = "mono",
        samplerate: int | None = None,
        device: int | str | None = None,
        blocksize: int = 0,
        channels: int = 2,
        lookahead_ms: float = DEFAULT_LOOKAHEAD_MS,
        chunk_frames: int | None = None,
        safety_ms: float | None = None,
        generator_nice: int | None = -10,
    ) -> None:
        from .post import streams_for_mode

        setup_torch()
        streams_for_mode(stereo)  # validates
        if samplerate is not None:
            samplerate = check_samplerate(samplerate)
        if not 1 <= int(channels) <= 64:
            raise DeviceError(f"channels must be 1..64, got {channels}")
        if not 20 <= float(lookahead_ms) <= 4000:
            raise ValueError(f"lookahead must be 20..4000 ms, got {lookahead_ms}")
        if blocksize < 0:
            raise DeviceError(f"blocksize must be >= 0 (0 = the device's own), got {blocksize}")
        self.model = resolve_model(model)
        self.stereo = stereo
        self.device = device
        self.samplerate_requested = samplerate
        self.blocksize = int(blocksize)
        self.channels = int(channels)
        self.lookahead_ms = float(lookahead_ms)
        # code frames per generated chunk (the control granularity; ~43 ms by default)
        self.chunk_frames = (
            chunk_frames_for(self.model.hop, hasattr(self.model.codec, "decode_step"))
            if chunk_frames is None
            else int(chunk_frames)
        )
        self.safety_ms = safety_ms
        self.generator_nice = generator_nice
        self._params = params or ParamValues()
        self._lock = threading.Lock()  # guards _params, listeners, recorder handles
        self._queue: queue.SimpleQueue[Change | tuple[str, Any]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._listeners: list[Callable[[AppliedChange], None]] = []
        self.ring: Ring | None = None
        self.output: Any = None
        self.stream: Stream | None = None
        self.samplerate = 0
        self._threads: list[threading.Thread] = []
        # (seconds, frames) of the last chunks made: a streaming decoder's second chunk of a
        # call costs nothing, so the figure is their sums' ratio, not a median per chunk
        self._rtf: deque[tuple[float, int]] = deque(maxlen=400)
        self._regen_s: deque[float] = deque(maxlen=50)
        self._level = 0.0
        self._late_rollbacks = 0
        self._rollbacks = 0
        self._changes_applied = 0
        self._error: BaseException | None = None
        self._tee = RecordingTee(self._lock)
        self.record_defaults = RecordDefaults()
        self.started_at: float | None = None
        self.first_sound_s: float | None = None

    # ------------------------------------------------------------------ lifetime
    def start(self) -> Engine:
        """Open the audio output, pre-fill the look-ahead and start playing."""
        from .output import AudioOutput

        if self.stream is not None:
            return self
        t0 = time.monotonic()
        ring_rate = int(self.samplerate_requested or 96000)
        self.ring = Ring.create(_ring_capacity(ring_rate, self.lookahead_ms), self.channels)
        self.output = AudioOutput(self.ring, self.device, self.samplerate_requested, self.blocksize)
        try:
            info = self.output.start()
        except BaseException:
            self.ring.close()
            self.ring = None
            raise
        self.samplerate = int(round(float(info["samplerate"])))
        if self.samplerate > 96000 and not self.samplerate_requested:
            self.output.stop()
            self.ring.close()
            self.ring = None
            raise DeviceError(
                f"the output runs at {self.samplerate} Hz; give --samplerate 48000 (or 44100, "
                "96000) if the device supports it"
            )
        self.stream = Stream(
            self.model,
            self._params,
            self.stereo,
            out_rate=self.samplerate,
            channels=self.channels,
            chunk_frames=self.chunk_frames,
        )
        self._tee.stream_started(self._params.as_dict())
        self._fill(min(self._lookahead_frames(), int(0.1 * self.samplerate)))
        self.ring.header[H.PRIMED] = 1
        self.ring.header[H.GAP_RESET] = 1
        self.started_at = t0
        self._stop.clear()
        gen = threading.Thread(target=self._run, name="distill-generator", daemon=True)
        dog = threading.Thread(target=self._watchdog, name="distill-watchdog", daemon=True)
        self._threads = [gen, dog]
        for t in self._threads:
            t.start()
        # first sound: the first callback that took frames from the ring
        deadline = time.monotonic() + 5.0
        while self.ring.read_pos == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        self.first_sound_s = time.monotonic() - t0 if self.ring.read_pos else None
        return self

    def stop(self) -> None:
        """Stop playing (finishes a recording first). Safe to call twice."""
        if self.stream is None:
            return
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout=10)
        self._threads = []
        if self._tee.recorder is not None:
            try:
                self.record_stop()
            except RecordingError as exc:
                log.warning("%s", exc)
        if self.output is not None:
            self.output.stop()
        if self.ring is not None:
            self.ring.close()
            self.ring = None
        self.stream = None

    close = stop

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ control
    def set(self, name: str, value: object, source: str = "api") -> Value:
        """Request ``name = value`` (coerced and clamped to the parameter's range). Returns
        the value that will be applied, at the next chunk boundary the stream can reach."""
        p = get_param(name)
        if source not in SOURCES:
            raise ControlError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        v, clamped = p.coerce(value)
        if clamped:
            log.info("%s %r clamped to %r (range %s)", name, value, v, p.range_text)
        with self._lock:
            self._params = self._params.replace(**{name: v})
        self._queue.put(Change(name, v, source, time.monotonic_ns()))
        self._wake.set()
        return v

    def note(self, note: object, velocity: object = 100, source: str = "api") -> tuple[int, int]:
        """Press (velocity 1..127) or release (velocity 0) a key: MIDI note 0..127. The
        model plays the sounding note (last-note priority, see
        :mod:`distill_live.engine.keyboard`) from the next chunk boundary the stream can
        reach. Thread-safe and cheap like :meth:`set`; returns the (note, velocity) queued.
        A model without a pitch codebook takes only the velocity and the gate."""
        n, v = coerce_note(note, velocity)
        if source not in SOURCES:
            raise ControlError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        self._queue.put(Change("note", n, source, time.monotonic_ns(), velocity=v))
        self._wake.set()
        return n, v

    def all_notes_off(self, source: str = "api") -> None:
        """Release every key (and what the sustain pedal holds; the pedal stays as it is)."""
        if source not in SOURCES:
            raise ControlError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")
        self._queue.put(Change("notes_off", 0, source, time.monotonic_ns()))
        self._wake.set()

    def get(self, name: str) -> Value:
        get_param(name)
        return self._params[name]

    @property
    def params(self) -> ParamValues:
        """The current values (as last set; each takes effect at the next boundary)."""
        return self._params

    def add_listener(self, fn: Callable[[AppliedChange], None]) -> None:
        """Call ``fn(change)`` from the generator thread whenever a change takes effect."""
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[AppliedChange], None]) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def switch_model(self, model: Any, fade_s: float = 0.5) -> None:
        """Crossfade (equal power) to another model; loads it in the calling thread."""
        new = resolve_model(model)
        rate = int(getattr(self.model, "sample_rate", 48000))
        if int(new.sample_rate) != rate:
            raise ValueError(f"the new model runs at {new.sample_rate} Hz, this one at {rate} Hz")
        if not 0 < float(fade_s) <= 30:
            raise ValueError(f"fade must be in (0, 30] s, got {fade_s}")
        self.model = new
        self._tee.not_replayable()
        self._queue.put(("switch", (new, float(fade_s))))
        self._wake.set()

    # ------------------------------------------------------------------ recording
    def record_start(
        self,
        path: str | os.PathLike[str] | None = None,
        subtype: str | None = None,
        container: str | None = None,
        split_bytes: int | None = None,
    ) -> Path:
        """Record what is played from now on (post-processed, output rate and channels) to
        ``path``: a file, or a folder for a new session file. What is not given (None) comes
        from :attr:`record_defaults` (``play`` fills it from its options; otherwise a new file
        in ./recordings/, PCM_24 WAV). Crashed sessions left in that folder are recovered
        first. A recording that failed (disk full) is closed and replaced."""
        if self.stream is None or self.ring is None:
            raise RecordingError("start the engine before recording")
        return self._tee.start(
            self.ring,
            path,
            subtype,
            container,
            split_bytes,
            defaults=self.record_defaults,
            samplerate=self.samplerate,
            channels=self.channels,
            seed=int(self._params["seed"]),
            metadata=lambda: session_metadata(
                model=self.model,
                params=self._params,
                stereo=self.stereo,
                engine={
                    "lookahead_ms": self.lookahead_ms,
                    "chunk_frames": self.chunk_frames,
                    "device": self.output.info.get("device") if self.output else None,
                },
            ),
        )

    def record_stop(self) -> Path | None:
        """Finish the recording (frames played so far) and return its path."""
        return self._tee.stop(self.ring)

    @property
    def recorder(self) -> Recorder | None:
        """The recording being made (or one that failed, until the next start), or None."""
        return self._tee.recorder

    @property
    def record_origin(self) -> int:
        """Output frame (since start) of the current or last recording's first frame."""
        return self._tee.origin

    # ------------------------------------------------------------------ stats
    def stats(self) -> dict[str, Any]:
        ring, out = self.ring, self.output
        hdr = ring.header if ring is not None else np.zeros(16, dtype=np.int64)
        rate = self.samplerate or 48000
        fill = int(hdr[H.WRITE] - hdr[H.READ])
        rtf = self._rtf_now()
        rec = self._tee.recorder
        return {
            "running": self.stream is not None,
            "underruns": int(hdr[H.EMPTY]),
            "empty_callbacks": int(hdr[H.EMPTY]),
            "underflows": int(hdr[H.UNDERFLOW]),
            "preroll_underflows": int(hdr[H.PREROLL_UNDERFLOW]),
            "callbacks": int(hdr[H.CALLBACKS]),
            "max_callback_gap_ms": int(hdr[H.MAX_GAP_NS]) / 1e6,
            "max_callback_ms": int(hdr[H.MAX_CB_NS]) / 1e6,
            "buffer_fill": fill,
            "buffer_ms": 1000 * fill / rate,
            "lookahead_ms": self.lookahead_ms,
            "rtf": rtf,
            "level_db": 20 * np.log10(max(self._level, 1e-6)),
            "frames_played": int(hdr[H.READ]),
            "frames_generated": int(hdr[H.WRITE]),
            "samplerate": self.samplerate,
            "device": out.info.get("device") if out is not None else None,
            "audio_status": out.status if out is not None else "stopped",
            "audio_restarts": out.restarts if out is not None else 0,
            "audio_pid": out.pid if out is not None else None,
            "audio_events": list(out.events) if out is not None else [],
            "rollbacks": self._rollbacks,
            "late_rollbacks": self._late_rollbacks,
            "changes_applied": self._changes_applied,
            "safety_ms": 1000 * self._safety_frames() / rate if self.samplerate else None,
            "regen_ms": [round(1000 * x, 1) for x in self._regen_s],
            # the path only while it records; a failed one shows status "failed" and why
            "recording": None if rec is None or rec.status != "recording" else str(rec.path),
            "recording_path": None if rec is None else str(rec.path),
            "recording_status": None if rec is None else rec.status,
            "recording_error": None if rec is None else rec.reason,
            "recording_frames": None if rec is None else rec.frames_written,
            "params": self._params.as_dict(),
            "first_sound_s": self.first_sound_s,
            "error": None if self._error is None else repr(self._error),
        }

    # ------------------------------------------------------------------ generator thread
    def _lookahead_frames(self) -> int:
        return int(self.lookahead_ms * self.samplerate / 1000)

    def _rtf_now(self) -> float | None:
        """The generator's real-time factor over the last chunks (time to make / duration)."""
        frames = sum(n for _, n in self._rtf)
        return sum(dt for dt, _ in self._rtf) * self.samplerate / frames if frames else None

    def _safety_frames(self) -> int:
        if self.safety_ms is not None:
            ms = float(self.safety_ms)
        else:
            # a rare slower regeneration lands a little late and fades in (Ring.rewrite)
            regen = _percentile(self._regen_s, 90) if self._regen_s else 0.03
            ms = max(MIN_SAFETY_MS, GUARD_MS + 1200 * regen + 3)
        return int(ms * self.samplerate / 1000)

    def _fill(self, target: int) -> None:
        assert self.ring is not None and self.stream is not None
        while self.ring.fill() < target:
            self._produce()

    def _produce(self) -> None:
        ring, stream = self.ring, self.stream
        assert ring is not None and stream is not None
        t = time.perf_counter()
        pos = stream.out_pos
        data = stream.produce()
        dt = time.perf_counter() - t
        if data.shape[0]:
            self._rtf.append((dt, int(data.shape[0])))
            self._level = max(float(np.max(np.abs(data))), self._level * 0.7)
        if pos != ring.write_pos:  # replaces look-ahead dropped by a change
            guard = int(GUARD_MS * self.samplerate / 1000)
            start = ring.rewrite(pos, data, guard, SPLICE_FRAMES, stream.changed_at)
            if start > max(pos, stream.changed_at):  # frames that should have changed played
                self._late_rollbacks += 1
                # what was played differs from the stream (and a replay) up to the fade's end
                self._tee.late(max(pos, stream.changed_at), start + SPLICE_FRAMES)
            data = data[start - pos :]
            pos = start
            if not data.shape[0]:
                return  # the play position passed all of it: the old frames stay
        else:
            while data.shape[0] > ring.space() and not self._stop.is_set():
                time.sleep(0.002)
            ring.write(data)
        self._tee.queued(pos, data)  # replaces what was queued from `pos` on

    def _apply_pending(self, pending: list[Change]) -> list[Change]:
        ring, stream = self.ring, self.stream
        assert ring is not None and stream is not None
        t = time.perf_counter()
        not_before = min(ring.read_pos + self._safety_frames(), stream.out_pos)
        res = stream.apply(pending, not_before)
        if res is None:
            return pending
        frame, applied = res
        if not applied:
            return []
        self._changes_applied += len(applied)
        if frame < ring.write_pos:
            self._rollbacks += 1
            # the regenerated chunks up to the end of the splice, written over the old ones
            while stream.out_pos < stream.changed_at + SPLICE_FRAMES:
                self._produce()
            self._regen_s.append(time.perf_counter() - t)
        with self._lock:
            listeners = list(self._listeners)
        self._tee.applied(applied)
        for ch in applied:
            for fn in listeners:
                try:
                    fn(ch)
                except Exception:  # a listener must not stop the music
                    log.exception("listener %r failed", fn)
        return []

    def _run(self) -> None:
        setup_torch()
        if self.generator_nice is not None:
            # Best effort (needs CAP_SYS_NICE for a negative value): a live instrument's
            # generator should win the CPU over batch jobs. Linux: per thread.
            with contextlib.suppress(OSError, AttributeError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.generator_nice)
        ring, stream = self.ring, self.stream
        assert ring is not None and stream is not None
        pending: list[Change] = []
        try:
            while not self._stop.is_set():
                self._wake.clear()
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if isinstance(item, Change):
                        pending.append(item)
                    else:
                        stream.switch_model(*item[1])
                if pending:
                    pending = self._apply_pending(pending)
                lookahead = self._lookahead_frames()
                # after a change, make sure the margin is refilled before looking again
                self._tee.commit(ring)
                if ring.fill() < lookahead or stream.out_pos != ring.write_pos:
                    self._produce()
                else:
                    stream.prune(ring.read_pos)
                    self._wake.wait(0.005)
        except BaseException as exc:  # surfaced by stats() and play's status line
            self._error = exc
            log.exception("generator thread failed")

    def _watchdog(self) -> None:
        empty = 0
        while not self._stop.wait(0.1):
            try:
                if self.output is not None:
                    self.output.check()
                if self.ring is not None and int(self.ring.header[H.EMPTY]) != empty:
                    now = int(self.ring.header[H.EMPTY])
                    if self.output is not None:
                        rtf = self._rtf_now() or 0.0
                        self.output.report(
                            f"the generator fell behind: {now - empty} empty callbacks at "
                            f"{self.ring.read_pos / self.samplerate:.2f} s (buffer now "
                            f"{1000 * self.ring.fill() / self.samplerate:.0f} ms, RTF {rtf:.2f}, "
                            f"rollbacks {self._rollbacks}, late {self._late_rollbacks})"
                        )
                    empty = now
            except Exception as exc:  # keep watching whatever happens
                log.warning("watchdog: %s", exc)
