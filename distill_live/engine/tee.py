"""The recording tee of the live engine: what was played, and the changes heard, to a recorder.

The generator thread queues every block it writes to the ring (:meth:`RecordingTee.queued`,
which replaces what a rollback rewrote) and, once the audio callback has played it, hands it
on (:meth:`RecordingTee.commit`): only played frames are final, queued ones may still be
replaced by a change. A recording started mid-stream begins at the first frame not yet handed
on, so the file is the stream from its origin on, bit for bit. Applied changes become the
sidecar's events, and the ring's empty-callback count its underruns.

The tee also keeps every change applied since the stream started, so that a take started
mid-stream can be replayed: its sidecar's ``stream`` block holds the parameters the stream
started with, the take's origin in the stream, and the changes before it
(:func:`distill_live.engine.render.load_take`).

The tee shares the engine's lock (it guards the recorder handle and the queued frames); every
method takes it itself, never across disk I/O: :meth:`RecordingTee.start` picks the name,
recovers crashed sessions and creates the files before it takes the lock to attach.

This is the engine's room (it knows the ring and the stream's frame queue), built on
:mod:`distill_live.record`; it may import those and the standard library, and nothing of
control or the command line. The recording package never imports it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import RecordingError
from ..record.defaults import RecordDefaults
from ..record.naming import resolve_record_path
from ..record.recorder import Recorder
from .ring import H, Ring
from .stream import AppliedChange, FrameQueue

__all__ = ["RecordingTee", "MAX_HISTORY"]

#: Changes kept for replay (a note every 100 ms for 27 hours); past it a take is marked
#: not replayable.
MAX_HISTORY = 1_000_000


class RecordingTee:
    """Hands played frames and applied changes to the engine's recorder, if any."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock
        self._recorder: Recorder | None = None
        self._pending = FrameQueue()
        self._events: list[AppliedChange] = []
        self._committed = 0  # ring position up to which played frames were handed on
        self._origin = 0  # ring position of the recording's first frame
        self._underruns0 = 0
        self._history: list[AppliedChange] = []  # every change since the stream started
        self._params0: dict[str, Any] = {}
        self._replayable = True
        self._late: list[list[int]] = []  # the recording's late replacements [from, to)

    def stream_started(self, params: Mapping[str, Any]) -> None:
        """A new stream starts with ``params``: the history of changes starts again."""
        with self._lock:
            self._history = []
            self._params0 = dict(params)
            self._replayable = True

    def not_replayable(self) -> None:
        """Something that events cannot replay happened (a model switch)."""
        with self._lock:
            self._replayable = False

    @property
    def recorder(self) -> Recorder | None:
        """The recording being made (or one that failed and is not replaced yet), or None."""
        return self._recorder

    @property
    def origin(self) -> int:
        """Ring position (output frames since the engine started) of the recording's first
        frame."""
        return self._origin

    # ------------------------------------------------------------------ generator thread
    def queued(self, pos: int, data: np.ndarray) -> None:
        """``data`` was written to the ring at ``pos`` (replacing what was queued from
        ``pos`` on)."""
        with self._lock:
            self._pending.put(pos, data)

    def applied(self, changes: Iterable[AppliedChange]) -> None:
        """Changes that took effect: the recording's events, if recording."""
        with self._lock:
            changes = list(changes)
            if self._recorder is not None:
                self._events.extend(changes)
            if len(self._history) + len(changes) > MAX_HISTORY:
                self._replayable = False
            else:
                self._history.extend(changes)

    def late(self, start: int, end: int) -> None:
        """Frames ``start..end`` were played other than the stream made them: a change's
        replacement came too late to start at its frame and faded in later (the sidecar
        lists these, take-relative, as ``late_replacements``: a replay differs there)."""
        with self._lock:
            rec = self._recorder
            if rec is None or end <= self._origin:
                return
            self._late.append([max(start, self._origin) - self._origin, end - self._origin])
            rec.set_metadata("late_replacements", self._late)

    def commit(self, ring: Ring) -> None:
        """Hand the frames played so far to the recorder, if any."""
        with self._lock:
            self._commit(ring, self._recorder)

    def _commit(self, ring: Ring, rec: Recorder | None) -> None:
        """(With the lock held.) Only played frames are final: queued ones may still be
        replaced by a change."""
        for pos, part in self._pending.take(ring.read_pos):
            if rec is not None:
                if pos < self._origin:
                    part = part[self._origin - pos :]
                if part.shape[0]:
                    rec.write(part)
        self._committed = self._pending.final
        if rec is not None:
            for ch in self._events:
                rec.event(ch.frame, ch.param, ch.value, ch.source, ch.velocity)
            self._events.clear()
            rec.set_underruns(int(ring.header[H.EMPTY]) - self._underruns0)

    # ------------------------------------------------------------------ control threads
    def start(
        self,
        ring: Ring,
        path: str | os.PathLike[str] | None,
        subtype: str | None,
        container: str | None,
        split_bytes: int | None,
        *,
        defaults: RecordDefaults,
        samplerate: int,
        channels: int,
        seed: int,
        metadata: Callable[[], Mapping[str, Any]],
    ) -> Path:
        """Record what is played from now on; see :meth:`Engine.record_start
        <distill_live.engine.engine.Engine.record_start>`. ``metadata()`` gives the
        sidecar's session metadata once the file name is chosen."""
        subtype = defaults.subtype if subtype is None else subtype
        container = defaults.container if container is None else container
        split_bytes = defaults.split_bytes if split_bytes is None else split_bytes
        self._drop_failed_recorder()
        if self._recorder is not None:
            raise RecordingError(f"already recording to {self._recorder.path}")
        # Disk I/O (name, recovery scan, sidecar, fsync, file creation) happens here, outside
        # the lock the generator thread takes to hand played frames on. Recovery of the
        # sessions a crash left in the folder runs once, in Recorder.start.
        target = resolve_record_path(
            path if path is not None else defaults.folder, seed=seed, container=container
        )
        rec = Recorder(
            target,
            samplerate=samplerate,
            channels=channels,
            subtype=subtype,
            container=container,
            split_bytes=split_bytes,
            metadata=metadata(),
        )
        rec.start()
        with self._lock:  # attach: the first frame recorded is the first not yet handed on
            if self._recorder is not None:
                busy: Recorder | None = self._recorder
            else:
                busy = None
                self._commit(ring, None)
                rec.origin_frame = self._origin = self._committed
                rec.set_metadata("stream", self._stream_info())
                self._late = []
                rec.set_metadata("late_replacements", self._late)
                self._underruns0 = int(ring.header[H.EMPTY])
                self._events.clear()
                self._recorder = rec
        if busy is not None:  # another thread started one meanwhile
            rec.stop()
            for q in (*rec.parts, rec.sidecar_path):
                with contextlib.suppress(OSError):
                    os.remove(q)
            raise RecordingError(f"already recording to {busy.path}")
        return Path(rec.path)

    def _stream_info(self) -> dict[str, Any]:
        """(With the lock held.) What replaying this take needs from before its origin."""
        before = []
        for ch in self._history:
            if ch.frame < self._origin:
                ev: dict[str, Any] = {"frame": ch.frame, "param": ch.param, "value": ch.value}
                if ch.velocity is not None:
                    ev["velocity"] = ch.velocity
                before.append(ev)
        return {
            "origin_frame": self._origin,
            "params": self._params0,
            "events_before": before,
            "replayable": self._replayable,
        }

    def _drop_failed_recorder(self) -> None:
        """Close a recording that failed (its sidecar already says why), so a new one can
        start; the engine's stats keep reporting it until then."""
        with self._lock:
            rec = self._recorder
            if rec is None or rec.status != "failed":
                return
            self._recorder = None
        rec.stop()

    def stop(self, ring: Ring | None) -> Path | None:
        """Finish the recording (frames played so far) and return its path."""
        with self._lock:
            rec, self._recorder = self._recorder, None
            if rec is None:
                return None
            if ring is not None:
                self._commit(ring, rec)
        rec.stop()
        return Path(rec.path)
