"""The session recorder: a writer thread fed by a bounded queue writes WAV parts and a sidecar.

Threading model
---------------
- ``write()`` and ``event()`` are called from the generator thread (the one thread that
  produces audio). ``write()`` copies the block into a preallocated ring buffer and returns at
  once; it takes no lock and never touches the disk. If the ring is full (the disk stalled),
  the block is dropped, counted and logged as a gap; the writer later fills the gap with
  silence so the file keeps the timeline of the performance (event frames stay aligned).
  With ``blocking=True`` (offline render) ``write()`` waits for room instead.
- A writer thread owns every file: it drains the ring into the WAV (header sizes updated after
  each write, so the file is valid at every moment), fsyncs and rewrites the sidecar every
  ``sync_interval`` seconds, switches to a new numbered part before a part would pass
  ``split_bytes``, and on any I/O error (disk full, file system gone) stops, repairs what was
  written and marks the sidecar ``failed`` with the reason. Errors never reach ``write()``.
- ``start()``/``stop()`` are called from a control thread (the engine's, the CLI's).

The queue, the part files and the writer thread are in :mod:`~distill_live.record.writer`;
this module holds the public :class:`Recorder`: its checks, its producer side, its state and
the sidecar document. It may import the standard library, numpy, :mod:`distill_live.errors`,
:mod:`distill_live._version` and the other modules of this package; nothing else.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..errors import RecordingError
from .naming import reserve_path, sidecar_path
from .recovery import RecoveredSession, recover_sessions
from .sidecar import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SOURCES,
    _jsonable,
    mark_active,
    mark_inactive,
    process_identity,
    utc_now,
    write_sidecar,
)
from .writer import (
    CONTAINERS,
    HEADER_RESERVE,
    SUBTYPES,
    WAV_SPLIT_BYTES,
    PartFiles,
    RecordQueue,
    Writer,
    unlink,
)

__all__ = ["Recorder", "SUBTYPES", "CONTAINERS", "WAV_SPLIT_BYTES"]

log = logging.getLogger(__name__)

_EVENTS_MARK = "\u0000events\u0000"


class Recorder:
    """Record a session to ``path`` (WAV, RF64 or Wave64) plus the sidecar ``path.json``.

    Parameters
    ----------
    path
        The (first) audio file. Never overwritten: :meth:`start` raises
        :class:`RecordingError` if it or its sidecar exists. Use
        :func:`~distill_live.record.resolve_record_path` to turn a folder into a new name.
    samplerate, channels
        Of the blocks given to :meth:`write` (the output's rate and channel count).
    subtype
        ``PCM_16``, ``PCM_24`` or ``FLOAT``.
    metadata
        Stored in the sidecar: usually :func:`~distill_live.record.session_metadata`
        (model, seed, stereo, parameters at the start) plus anything JSON-serialisable.
    split_bytes
        Largest size of one part file; past it the recording continues in
        ``{stem}_part002{suffix}`` and so on, with nothing lost at the switch. ``None``: just
        under 4 GiB for ``wav``, no splitting for ``rf64`` and ``w64``.
    container
        ``wav`` (split at 4 GiB), ``rf64`` or ``w64`` (no size limit).
    queue_seconds
        Capacity of the queue between :meth:`write` and the writer thread.
    blocking
        ``True`` for offline render: :meth:`write` waits for room instead of dropping.
    origin_frame
        The caller's output frame count at the recording's first frame. Frames given to
        :meth:`event` are in the caller's count; the sidecar stores them relative to the
        recording (frame 0 = the first frame given to :meth:`write`).
    sync_interval
        Seconds between fsyncs and sidecar updates (what a SIGKILL can lose at most, plus
        what is still queued).
    on_failed
        Called once from the writer thread with the reason if the recording fails.
    recover
        On :meth:`start`, first recover the sessions a crash left in the same folder
        (:func:`~distill_live.record.recover_sessions`; see :attr:`recovered`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        samplerate: int,
        channels: int,
        subtype: str = "PCM_24",
        metadata: Mapping[str, Any] | None = None,
        split_bytes: int | None = None,
        container: str = "wav",
        queue_seconds: float = 10.0,
        blocking: bool = False,
        origin_frame: int = 0,
        sync_interval: float = 1.0,
        on_failed: Callable[[str], None] | None = None,
        recover: bool = True,
    ) -> None:
        self._path = Path(os.fspath(path)).absolute()
        if isinstance(samplerate, bool) or not isinstance(samplerate, (int, np.integer)):
            raise RecordingError(f"samplerate must be an integer in Hz, got {samplerate!r}")
        if not 1000 <= int(samplerate) <= 768000:
            raise RecordingError(f"samplerate must be 1000..768000 Hz, got {samplerate}")
        if isinstance(channels, bool) or not isinstance(channels, (int, np.integer)):
            raise RecordingError(f"channels must be an integer, got {channels!r}")
        if not 1 <= int(channels) <= 64:
            raise RecordingError(f"channels must be 1..64, got {channels}")
        subtype = str(subtype).upper()
        if subtype not in SUBTYPES:
            raise RecordingError(f"subtype must be one of {', '.join(SUBTYPES)}, got {subtype!r}")
        container = str(container).lower()
        if container not in CONTAINERS:
            raise RecordingError(
                f"container must be one of {', '.join(CONTAINERS)}, got {container!r}"
            )
        if split_bytes is None and container == "wav":
            split_bytes = WAV_SPLIT_BYTES
        frame_bytes = int(channels) * SUBTYPES[subtype]
        if split_bytes is not None:
            split_bytes = int(split_bytes)
            if split_bytes < HEADER_RESERVE + 64 * 1024:
                raise RecordingError(
                    f"split size must be at least {(HEADER_RESERVE + 64 * 1024) // 1024} KiB, "
                    f"got {split_bytes} bytes"
                )
            if container == "wav" and split_bytes > WAV_SPLIT_BYTES:
                raise RecordingError(
                    f"a WAV part cannot pass 4 GiB; split size {split_bytes} bytes is too large "
                    f"(at most {WAV_SPLIT_BYTES}); use container rf64 or w64 for one big file"
                )
        if not queue_seconds > 0:
            raise RecordingError(f"queue_seconds must be > 0, got {queue_seconds!r}")
        reserved = {"format", "status", "audio", "parts", "events", "frames_written"}
        clash = reserved & set(metadata or {})
        if clash:
            raise RecordingError(f"metadata may not set {', '.join(sorted(clash))}")

        self._samplerate = int(samplerate)
        self._channels = int(channels)
        self._subtype = subtype
        self._container = container
        self._split_bytes = split_bytes
        self._metadata = {str(k): _jsonable(v) for k, v in (metadata or {}).items()}
        self._blocking = bool(blocking)
        self._origin = int(origin_frame)
        self._sync_interval = float(sync_interval)
        self._on_failed = on_failed
        self._recover = bool(recover)
        self.recovered: list[RecoveredSession] = []  # found on start
        self._sidecar = sidecar_path(self._path)

        cap = max(4096, int(round(queue_seconds * self._samplerate)))
        self._queue = RecordQueue(cap, self._channels)
        self._files = PartFiles(
            self._path,
            samplerate=self._samplerate,
            channels=self._channels,
            subtype=subtype,
            container=container,
            part_limit=(
                None if split_bytes is None else (split_bytes - HEADER_RESERVE) // frame_bytes
            ),
            reserve=reserve_path(self._path),
            on_new_part=lambda: write_sidecar(self._sidecar, self._sidecar_text()),
        )
        self._events: list[dict[str, Any]] = []
        self._underruns = 0

        self._status = "new"
        self._reason: str | None = None
        self._accepting = False
        self._stop_req = threading.Event()
        self._writer: Writer | None = None
        self._start_utc: str | None = None
        self._end_utc: str | None = None
        self._final_doc: dict[str, Any] | None = None
        self._cost_factor = 50.0  # sidecar rewrites at most every 50x their cost
        self._ev_rendered: list[tuple[int, int, str]] = []  # (frame, arrival, JSON)
        self._ev_n = 0
        self._ev_unsorted = False
        self._identity = process_identity()

    # ---------------------------------------------------------------- properties
    @property
    def path(self) -> Path:
        """The first (or only) audio file."""
        return self._path

    @property
    def sidecar_path(self) -> Path:
        return self._sidecar

    @property
    def parts(self) -> list[Path]:
        """Every audio file of this recording so far, in order."""
        return self._files.paths()

    @property
    def status(self) -> str:
        """``new``, ``recording``, ``complete`` or ``failed``."""
        return self._status

    @property
    def reason(self) -> str | None:
        """Why the recording failed (None unless status is ``failed``)."""
        return self._reason

    @property
    def frames_written(self) -> int:
        """Frames in the audio files (gap silence included)."""
        return self._files.frames_written

    @property
    def position(self) -> int:
        """Frames given to :meth:`write` so far, dropped ones included (the recording's
        timeline; add ``origin_frame`` for the caller's count)."""
        return self._queue.position

    @property
    def origin_frame(self) -> int:
        """The caller's output frame count at the recording's first frame (see ``__init__``).
        May be set after :meth:`start` and before the first :meth:`write`, so a caller can
        start the recorder (disk I/O) outside its own lock and fix the origin inside it."""
        return self._origin

    @origin_frame.setter
    def origin_frame(self, frame: int) -> None:
        self._origin = int(frame)

    @property
    def dropped_blocks(self) -> int:
        return self._queue.dropped_blocks

    @property
    def dropped_frames(self) -> int:
        return self._queue.gap_total

    @property
    def samplerate(self) -> int:
        return self._samplerate

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def subtype(self) -> str:
        return self._subtype

    @property
    def container(self) -> str:
        return self._container

    def __repr__(self) -> str:
        return (
            f"Recorder({str(self._path)!r}, status={self._status!r}, frames={self.frames_written})"
        )

    # ---------------------------------------------------------------- control thread
    def start(self) -> Recorder:
        """Write the sidecar (status ``recording``), then create the audio file (exclusive
        create: never overwrites) and start the writer thread. Returns ``self``.

        Raises :class:`RecordingError` naming the file if it exists, the folder is missing or
        not writable.
        """
        if self._status != "new":
            raise RecordingError(f"recording {self._path} was already started")
        folder = self._path.parent
        if not folder.is_dir():
            raise RecordingError(
                f"cannot record to {self._path}: folder {folder} does not exist; create it "
                "or pass an existing folder"
            )
        for existing in (self._path, self._sidecar):
            if os.path.lexists(existing):
                raise RecordingError(
                    f"cannot record to {self._path}: {existing} already exists and recordings "
                    "never overwrite a file; choose another name, or pass a folder to get a new "
                    "session_*.wav name"
                )
        if self._recover:
            try:
                self.recovered = recover_sessions(folder)
            except Exception as e:  # never let an old session stop a new one
                log.warning("recovering old sessions in %s: %s", folder, e)
            for r in self.recovered:
                log.warning(
                    "recovered an unfinished recording: %s (%d frames)", r.sidecar, r.frames
                )
        self._start_utc = utc_now()
        self._files.list_first()
        self._status = "recording"
        try:
            write_sidecar(self._sidecar, self._document(), exclusive=True)
        except FileExistsError:
            self._status = "new"
            raise RecordingError(
                f"cannot record to {self._path}: {self._sidecar} already exists and recordings "
                "never overwrite a file; choose another name"
            ) from None
        except OSError as e:
            self._status = "new"
            raise RecordingError(
                f"cannot write the sidecar {self._sidecar}: {e.strerror or e}; check that the "
                "folder is writable and has space"
            ) from None
        try:
            self._files.open_first()
        except BaseException as e:
            self._status = "new"
            unlink(self._sidecar)
            if isinstance(e, RecordingError):
                raise
            raise RecordingError(f"cannot create {self._path}: {e}") from None
        self._files.make_reserve()
        mark_active(self._sidecar)
        self._accepting = True
        self._writer = Writer(
            self._queue,
            self._files,
            sidecar=self._sidecar,
            sidecar_text=self._sidecar_text,
            on_finish=self._finish,
            stop=self._stop_req,
            sync_interval=self._sync_interval,
            cost_factor=self._cost_factor,
            name=f"recorder:{self._path.name}",
        )
        self._writer.start()
        return self

    def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        """Finish: drain the queue, close the file, mark the sidecar ``complete`` (unless the
        recording failed). Returns the final sidecar document. Safe to call twice."""
        if self._status == "new":
            raise RecordingError(f"recording {self._path} was never started")
        self._accepting = False
        self._stop_req.set()
        thread = None if self._writer is None else self._writer.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                # The disk stalls: give up waiting; the thread finishes on its own if it can.
                self._status = "failed"
                self._reason = f"the writer did not finish within {timeout:g} s (disk stalled?)"
                return self._document()
        return self._final_doc if self._final_doc is not None else self._document()

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._status != "new":
            self.stop()

    # ---------------------------------------------------------------- generator thread
    def write(self, block: np.ndarray) -> bool:
        """Queue ``block`` ((n, channels) float; (n,) for mono). Returns False if it was not
        queued: the recording is not running, or the queue is full (then it is counted as a
        dropped block and becomes a gap of silence in the file, listed in the sidecar).
        Never blocks, except with ``blocking=True``. Never raises for disk trouble."""
        if not self._accepting:
            return False
        a = block if isinstance(block, np.ndarray) else np.asarray(block)
        if a.ndim == 1 and self._channels == 1:
            a = a[:, None]
        if a.ndim != 2 or a.shape[1] != self._channels:
            raise RecordingError(
                f"block must have shape (n, {self._channels}), got {tuple(a.shape)}"
            )
        n = a.shape[0]
        if n == 0:
            return True
        if self._blocking:
            return self._write_blocking(a)
        q = self._queue
        if n > q.free():
            q.drop(n)
            return False
        q.put(a)
        return True

    def _write_blocking(self, a: np.ndarray) -> bool:
        q = self._queue
        start = 0
        n = a.shape[0]
        while start < n:
            if not self._accepting or self._status != "recording":
                return False
            free = q.free()
            if free <= 0:
                q.space.clear()
                if q.free() <= 0:
                    q.space.wait(0.05)
                continue
            k = min(free, n - start)
            q.put(a[start : start + k])
            start += k
        return True

    def event(
        self,
        frame: int | None,
        param: str,
        value: Any,
        source: str,
        velocity: int | None = None,
    ) -> None:
        """Log a control change that took effect at output frame ``frame`` (in the caller's
        count, see ``origin_frame``; None = the next frame to be written). A key (``param``
        "note") carries its ``velocity`` (0 = released)."""
        if source not in SOURCES:
            raise RecordingError(
                f"event source must be one of {', '.join(SOURCES)}, got {source!r}"
            )
        rel = self.position if frame is None else max(0, int(frame) - self._origin)
        ev = {"frame": rel, "param": str(param), "value": _jsonable(value), "source": source}
        if velocity is not None:
            ev["velocity"] = int(velocity)
        self._events.append(ev)

    def set_metadata(self, key: str, value: Any) -> None:
        """Add ``key`` to the sidecar's session metadata (JSON-serialisable values only)."""
        self._metadata[str(key)] = _jsonable(value)

    def set_underruns(self, count: int) -> None:
        """Report the audio underruns that happened since the recording started."""
        self._underruns = int(count)

    # ---------------------------------------------------------------- writer thread
    def _finish(self, status: str, reason: str | None) -> None:
        """The writer's last step (on its thread): close the files, write the final sidecar,
        publish the outcome."""
        self._accepting = False
        status, reason = self._files.close(status, reason)
        self._end_utc = utc_now()
        doc = self._document(status, reason)
        try:
            write_sidecar(self._sidecar, self._sidecar_text(status, reason))
        except OSError as e:
            msg = f"could not write the final sidecar {self._sidecar}: {e}"
            status, reason = "failed", (f"{reason}; {msg}" if reason else msg)
            doc = self._document(status, reason)
        self._final_doc = doc
        mark_inactive(self._sidecar)
        if status == "failed":
            log.error("recording %s failed: %s", self._path, reason)
            if self._on_failed is not None:
                with contextlib.suppress(Exception):
                    self._on_failed(reason or "unknown error")
        # Published last: whoever sees the final status also finds the final sidecar.
        self._reason = reason
        self._status = status

    # ---------------------------------------------------------------- sidecar
    def _events_text(self) -> str:
        """The events as JSON, sorted by frame (stable). Each event is rendered once, so a
        rewrite costs a join, not a serialisation of the whole list (GIL time)."""
        new = self._events[self._ev_n :]
        if new:
            last = self._ev_rendered[-1][0] if self._ev_rendered else -1
            for e in new:
                self._ev_rendered.append((e["frame"], self._ev_n, json.dumps(e)))
                self._ev_n += 1
                if e["frame"] < last:
                    self._ev_unsorted = True
                last = max(last, e["frame"])
            if self._ev_unsorted:
                self._ev_rendered.sort(key=lambda t: (t[0], t[1]))
                self._ev_unsorted = False
        if not self._ev_rendered:
            return "[]"
        return "[\n  " + ",\n  ".join(t[2] for t in self._ev_rendered) + "\n ]"

    def _sidecar_text(self, status: str | None = None, reason: str | None = None) -> str:
        doc = self._document(status, reason, events=False)
        doc["events"] = _EVENTS_MARK
        text = json.dumps(doc, indent=1, allow_nan=False)
        return text.replace(json.dumps(_EVENTS_MARK), self._events_text(), 1) + "\n"

    def _document(
        self, status: str | None = None, reason: str | None = None, events: bool = True
    ) -> dict[str, Any]:
        evs = sorted(list(self._events), key=lambda e: e["frame"]) if events else []
        frames = self._files.frames_written
        q = self._queue
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "software": {"name": "distill_live", "version": __version__},
            "status": status or (self._status if self._status != "new" else "recording"),
            "reason": reason if status else self._reason,
            "audio": {
                "file": self._path.name,
                "container": self._container,
                "samplerate": self._samplerate,
                "channels": self._channels,
                "subtype": self._subtype,
                "split_bytes": self._split_bytes,
            },
            "parts": [dict(p) for p in self._files.parts],
            **self._metadata,
            "start_utc": self._start_utc,
            "end_utc": self._end_utc,
            "frames_written": frames,
            "duration_s": round(frames / self._samplerate, 6),
            "underruns": self._underruns,
            "dropped_blocks": q.dropped_blocks,
            "dropped_frames": q.gap_total,
            "gaps": [{"frame": g[0], "frames": g[1]} for g in list(q.gap_log)],
            "events": evs,
            "writer": self._identity,
        }
