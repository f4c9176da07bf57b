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
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from .. import __version__
from ..errors import RecordingError
from .naming import part_path, reserve_path, sidecar_path
from .sidecar import (
    FORMAT_NAME,
    FORMAT_VERSION,
    SOURCES,
    _jsonable,
    process_identity,
    utc_now,
    write_sidecar,
)
from .wavheader import repair_header

__all__ = [
    "Recorder",
    "SUBTYPES",
    "CONTAINERS",
    "WAV_SPLIT_BYTES",
    "active_sidecars",
]

#: Sample formats: name → bytes per sample.
SUBTYPES = {"PCM_16": 2, "PCM_24": 3, "FLOAT": 4}
#: Containers: name → libsndfile major format.
CONTAINERS = {"wav": "WAV", "rf64": "RF64", "w64": "W64"}
#: Default part size limit for plain WAV: just under the 4 GiB a WAV header can describe.
WAV_SPLIT_BYTES = 2**32 - 2**20
#: Bytes kept free for the header when computing how many frames fit in a part.
_HEADER_RESERVE = 4096
#: Spare bytes held in a hidden file and freed to write the final sidecar on a full disk.
_RESERVE_BYTES = 256 * 1024

_SFC_UPDATE_HEADER_NOW = 0x1060
_SFC_SET_UPDATE_HEADER_AUTO = 0x1061

#: Sidecars of recordings running in this process (recovery must leave them alone).
_ACTIVE: set[Path] = set()
_EVENTS_MARK = "\u0000events\u0000"
_ACTIVE_LOCK = threading.Lock()


def active_sidecars() -> frozenset[Path]:
    """Sidecar paths of the recordings this process is writing right now."""
    with _ACTIVE_LOCK:
        return frozenset(_ACTIVE)


class _WriterFailed(Exception):
    """Internal: the writer thread hit an error it cannot go on from."""


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
            if split_bytes < _HEADER_RESERVE + 64 * 1024:
                raise RecordingError(
                    f"split size must be at least {(_HEADER_RESERVE + 64 * 1024) // 1024} KiB, "
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
        self._part_limit = (
            None if split_bytes is None else (split_bytes - _HEADER_RESERVE) // frame_bytes
        )
        self._metadata = {str(k): _jsonable(v) for k, v in (metadata or {}).items()}
        self._blocking = bool(blocking)
        self._origin = int(origin_frame)
        self._sync_interval = float(sync_interval)
        self._on_failed = on_failed
        self._recover = bool(recover)
        self.recovered: list[Any] = []  # RecoveredSession found on start
        self._sidecar = sidecar_path(self._path)
        self._reserve = reserve_path(self._path)

        cap = max(4096, int(round(queue_seconds * self._samplerate)))
        self._ring = np.zeros((cap, self._channels), dtype=np.float32)
        self._cap = cap
        # Producer side (generator thread) publishes _w_real after copying; consumer side
        # (writer thread) publishes _r_real after writing. Plain ints: atomic under the GIL.
        self._w_real = 0
        self._r_real = 0
        self._gap_total = 0
        self._gaps: deque[tuple[int, int]] = deque()  # (stream frame, frames) to fill
        self._gap_log: list[list[int]] = []  # for the sidecar, adjacent gaps merged
        self._dropped_blocks = 0
        self._events: list[dict[str, Any]] = []
        self._underruns = 0

        self._status = "new"
        self._reason: str | None = None
        self._accepting = False
        self._stop_req = threading.Event()
        self._space = threading.Event()
        self._thread: threading.Thread | None = None
        self._sf: sf.SoundFile | None = None
        self._parts: list[dict[str, Any]] = []
        self._part_frames = 0
        self._frames_written = 0
        self._stream_pos = 0  # writer: frames of the timeline written (audio + gap silence)
        self._gap_done = 0  # writer: frames of the current gap already filled
        self._start_utc: str | None = None
        self._end_utc: str | None = None
        self._final_doc: dict[str, Any] | None = None
        self._next_sidecar = 0.0
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
        return [self._path.with_name(p["file"]) for p in list(self._parts)]

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
        return self._frames_written

    @property
    def position(self) -> int:
        """Frames given to :meth:`write` so far, dropped ones included (the recording's
        timeline; add ``origin_frame`` for the caller's count)."""
        return self._w_real + self._gap_total

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
        return self._dropped_blocks

    @property
    def dropped_frames(self) -> int:
        return self._gap_total

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
            f"Recorder({str(self._path)!r}, status={self._status!r}, frames={self._frames_written})"
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
            from .recovery import recover_sessions

            try:
                self.recovered = recover_sessions(folder)
            except Exception as e:  # never let an old session stop a new one
                print(f"distill_live: recovering old sessions in {folder}: {e}", file=sys.stderr)
            for r in self.recovered:
                print(
                    f"distill_live: recovered an unfinished recording: {r.sidecar} "
                    f"({r.frames} frames)",
                    file=sys.stderr,
                )
        self._start_utc = utc_now()
        self._parts = [{"file": self._path.name, "frames": 0}]
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
            self._sf = self._open_part(self._path)
        except BaseException as e:
            self._status = "new"
            _unlink(self._sidecar)
            if isinstance(e, RecordingError):
                raise
            raise RecordingError(f"cannot create {self._path}: {e}") from None
        self._make_reserve()
        with _ACTIVE_LOCK:
            _ACTIVE.add(self._sidecar)
        self._accepting = True
        self._thread = threading.Thread(
            target=self._run, name=f"recorder:{self._path.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> dict[str, Any]:
        """Finish: drain the queue, close the file, mark the sidecar ``complete`` (unless the
        recording failed). Returns the final sidecar document. Safe to call twice."""
        if self._status == "new":
            raise RecordingError(f"recording {self._path} was never started")
        self._accepting = False
        self._stop_req.set()
        thread = self._thread
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
        if n > self._cap - (self._w_real - self._r_real):
            self._drop(n)
            return False
        self._put(a)
        return True

    def _put(self, a: np.ndarray) -> None:
        n = a.shape[0]
        i = self._w_real % self._cap
        k = min(n, self._cap - i)
        self._ring[i : i + k] = a[:k]
        if k < n:
            self._ring[: n - k] = a[k:]
        self._w_real += n  # publish after the copy

    def _drop(self, n: int) -> None:
        pos = self._w_real + self._gap_total
        self._gaps.append((pos, n))
        log = self._gap_log
        if log and log[-1][0] + log[-1][1] == pos:
            log[-1][1] += n
        else:
            log.append([pos, n])
        self._gap_total += n
        self._dropped_blocks += 1

    def _write_blocking(self, a: np.ndarray) -> bool:
        start = 0
        n = a.shape[0]
        while start < n:
            if not self._accepting or self._status != "recording":
                return False
            free = self._cap - (self._w_real - self._r_real)
            if free <= 0:
                self._space.clear()
                if self._cap - (self._w_real - self._r_real) <= 0:
                    self._space.wait(0.05)
                continue
            k = min(free, n - start)
            self._put(a[start : start + k])
            start += k
        return True

    def event(self, frame: int | None, param: str, value: Any, source: str) -> None:
        """Log a control change that took effect at output frame ``frame`` (in the caller's
        count, see ``origin_frame``; None = the next frame to be written)."""
        if source not in SOURCES:
            raise RecordingError(
                f"event source must be one of {', '.join(SOURCES)}, got {source!r}"
            )
        rel = self.position if frame is None else max(0, int(frame) - self._origin)
        self._events.append(
            {"frame": rel, "param": str(param), "value": _jsonable(value), "source": source}
        )

    def set_underruns(self, count: int) -> None:
        """Report the audio underruns that happened since the recording started."""
        self._underruns = int(count)

    # ---------------------------------------------------------------- writer thread
    def _open_part(self, path: Path) -> sf.SoundFile:
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o644)
        except FileExistsError:
            raise RecordingError(
                f"cannot record to {path}: the file already exists and recordings never "
                "overwrite a file; choose another name"
            ) from None
        except OSError as e:
            raise RecordingError(f"cannot create {path}: {e.strerror or e}") from None
        try:
            f = sf.SoundFile(
                fd,
                "w",
                samplerate=self._samplerate,
                channels=self._channels,
                format=CONTAINERS[self._container],
                subtype=self._subtype,
                closefd=True,
            )
        except BaseException as e:
            os.close(fd)
            _unlink(path)
            raise RecordingError(f"cannot create {path}: {e}") from None
        # Rewrite the header sizes after every write: the file is valid at every moment.
        sf._snd.sf_command(f._file, _SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, sf._snd.SF_TRUE)
        # A valid (empty) file from the first moment, before any frame arrives.
        sf._snd.sf_command(f._file, _SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
        self._part_frames = 0
        return f

    def _make_reserve(self) -> None:
        try:
            with open(self._reserve, "wb") as f:
                f.write(b"\0" * _RESERVE_BYTES)
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            _unlink(self._reserve)

    def _pending(self) -> int:
        return (self._w_real - self._r_real) + len(self._gaps)

    def _run(self) -> None:
        last_sync = time.monotonic()
        try:
            while True:
                progressed = self._drain(max(4096, self._samplerate // 4))
                now = time.monotonic()
                if now - last_sync >= self._sync_interval:
                    self._sync()
                    last_sync = now
                if self._stop_req.is_set() and self._pending() == 0:
                    break
                if not progressed:
                    self._stop_req.wait(0.02)
            self._finish("complete", None)
        except Exception as e:  # disk full, file system gone, anything: stop, keep the music
            self._finish("failed", _describe(e, self._sf))

    def _drain(self, budget: int) -> bool:
        w = self._w_real  # read before the gaps: every frame below w precedes later gaps
        progressed = False
        while budget > 0:
            gap = self._gaps[0] if self._gaps else None
            if gap is not None and gap[0] <= self._stream_pos:
                k = min(gap[1] - self._gap_done, budget)
                self._write_frames(np.zeros((k, self._channels), dtype=np.float32))
                self._gap_done += k
                self._stream_pos += k
                budget -= k
                if self._gap_done >= gap[1]:
                    self._gaps.popleft()
                    self._gap_done = 0
                progressed = True
                continue
            limit = w - self._r_real
            if gap is not None:
                limit = min(limit, gap[0] - self._stream_pos)
            if limit <= 0:
                break
            k = min(limit, budget)
            i = self._r_real % self._cap
            k = min(k, self._cap - i)
            self._write_frames(self._ring[i : i + k])
            self._r_real += k
            self._stream_pos += k
            budget -= k
            progressed = True
            self._space.set()
        return progressed

    def _write_frames(self, a: np.ndarray) -> None:
        while a.shape[0]:
            assert self._sf is not None
            if self._part_limit is not None and self._part_frames >= self._part_limit:
                self._next_part()
                continue
            k = a.shape[0]
            if self._part_limit is not None:
                k = min(k, self._part_limit - self._part_frames)
            self._sf.write(a[:k])
            self._part_frames += k
            self._frames_written += k
            self._parts[-1]["frames"] = self._part_frames
            a = a[k:]

    def _next_part(self) -> None:
        assert self._sf is not None
        self._sf.close()  # flushes, fsyncs and writes the final header of the full part
        self._sf = None
        nxt = part_path(self._path, len(self._parts) + 1)
        self._parts.append({"file": nxt.name, "frames": 0})
        write_sidecar(self._sidecar, self._sidecar_text())  # list the part before it exists
        self._sf = self._open_part(nxt)

    def _sync(self) -> None:
        if self._sf is not None:
            self._sf.flush()  # fsync; the header is already current
        # The sidecar is informational while recording (recovery counts frames from the
        # files), and serialising a long event list holds the GIL the generator thread needs:
        # rewrite it at most every 50x the time the last rewrite took.
        now = time.monotonic()
        if now < self._next_sidecar:
            return
        write_sidecar(self._sidecar, self._sidecar_text())
        took = time.monotonic() - now
        self._next_sidecar = now + max(self._sync_interval, self._cost_factor * took) - 0.001

    def _finish(self, status: str, reason: str | None) -> None:
        self._accepting = False
        f, self._sf = self._sf, None
        if f is not None:
            try:
                f.close()
            except Exception as e:
                if status != "failed":
                    status, reason = "failed", _describe(e, None)
        if status == "failed":
            # What was written stays readable: make the last part's header match its length;
            # a part that failed before its header was written is removed.
            for p in self.parts:
                try:
                    if p.exists() and p.stat().st_size > 0:
                        repair_header(p)
                        self._parts_frames_from_file(p)
                    elif len(self._parts) > 1 and p.name == self._parts[-1]["file"]:
                        _unlink(p)
                        self._parts.pop()
                except Exception:
                    pass
            self._frames_written = sum(int(p["frames"]) for p in self._parts)
        _unlink(self._reserve)  # frees room for the sidecar on a full disk
        self._end_utc = utc_now()
        doc = self._document(status, reason)
        try:
            write_sidecar(self._sidecar, self._sidecar_text(status, reason))
        except OSError as e:
            msg = f"could not write the final sidecar {self._sidecar}: {e}"
            status, reason = "failed", (f"{reason}; {msg}" if reason else msg)
            doc = self._document(status, reason)
        self._final_doc = doc
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self._sidecar)
        if status == "failed":
            print(f"distill_live: recording {self._path} failed: {reason}", file=sys.stderr)
            if self._on_failed is not None:
                with contextlib.suppress(Exception):
                    self._on_failed(reason or "unknown error")
        # Published last: whoever sees the final status also finds the final sidecar.
        self._reason = reason
        self._status = status

    def _parts_frames_from_file(self, p: Path) -> None:
        frames = sf.info(str(p)).frames
        for entry in self._parts:
            if entry["file"] == p.name:
                entry["frames"] = int(frames)

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
        frames = self._frames_written
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
            "parts": [dict(p) for p in self._parts],
            **self._metadata,
            "start_utc": self._start_utc,
            "end_utc": self._end_utc,
            "frames_written": frames,
            "duration_s": round(frames / self._samplerate, 6),
            "underruns": self._underruns,
            "dropped_blocks": self._dropped_blocks,
            "dropped_frames": self._gap_total,
            "gaps": [{"frame": g[0], "frames": g[1]} for g in list(self._gap_log)],
            "events": evs,
            "writer": self._identity,
        }


def _describe(e: BaseException, f: sf.SoundFile | None) -> str:
    """A one-line reason for a writer failure, with the system's message where there is one."""
    if isinstance(e, OSError) and e.strerror:
        text = e.strerror
        name = getattr(e, "filename", None)
        return f"{text} ({name})" if name else text
    detail = ""
    if f is not None and not f.closed:
        try:
            detail = sf._ffi.string(sf._snd.sf_strerror(f._file)).decode("utf-8", "replace")
        except Exception:
            detail = ""
    detail = detail.replace("System error :", "").strip().rstrip(".")
    return detail or f"{type(e).__name__}: {e}"


def _unlink(p: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(p)
