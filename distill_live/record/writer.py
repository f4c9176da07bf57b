"""The writer side of a recording: the queue it drains, the part files, the writer thread.

* :class:`RecordQueue`: the bounded single-producer, single-consumer queue between
  :meth:`Recorder.write <distill_live.record.Recorder.write>` (the generator thread) and the
  writer thread. The producer copies into a preallocated ring and publishes its position after
  the copy; a block that does not fit becomes a *gap* (dropped, counted, later written as
  silence so the file keeps the performance's timeline). No lock: each position has one writer
  and plain ints are atomic under the GIL.
* :class:`PartFiles`: the audio files of one recording. The header sizes are rewritten after
  every write (the file is valid at every moment); before a part would pass the size limit
  the next numbered part is opened, with nothing lost at the switch; a hidden reserve file
  keeps room for the final sidecar on a full disk.
* :class:`Writer`: the thread that drains the queue into the parts, fsyncs and rewrites the
  sidecar every ``sync_interval`` seconds, and on stop, or on any I/O error, hands the
  outcome back to the recorder (``on_finish``). Errors never reach the producer.

It may import the standard library, numpy, soundfile, :mod:`distill_live.errors` and the
naming, sidecar and header modules of this package; never :mod:`~distill_live.record.recorder`
(which builds on it).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from ..errors import RecordingError
from .naming import part_path
from .sidecar import write_sidecar
from .wavheader import repair_header

__all__ = [
    "SUBTYPES",
    "CONTAINERS",
    "WAV_SPLIT_BYTES",
    "HEADER_RESERVE",
    "RecordQueue",
    "PartFiles",
    "Writer",
    "describe_error",
    "unlink",
]

#: Sample formats: name → bytes per sample.
SUBTYPES = {"PCM_16": 2, "PCM_24": 3, "FLOAT": 4}
#: Containers: name → libsndfile major format.
CONTAINERS = {"wav": "WAV", "rf64": "RF64", "w64": "W64"}
#: Default part size limit for plain WAV: just under the 4 GiB a WAV header can describe.
WAV_SPLIT_BYTES = 2**32 - 2**20
#: Bytes kept free for the header when computing how many frames fit in a part.
HEADER_RESERVE = 4096
#: Spare bytes held in a hidden file and freed to write the final sidecar on a full disk.
RESERVE_BYTES = 256 * 1024

_SFC_UPDATE_HEADER_NOW = 0x1060
_SFC_SET_UPDATE_HEADER_AUTO = 0x1061


class RecordQueue:
    """Frames on their way from the producer to the writer thread, gaps included.

    Producer side (one thread): :meth:`free`, :meth:`put`, :meth:`drop`; it publishes
    :attr:`w` after copying. Consumer side (the writer thread): :meth:`drain`; it publishes
    :attr:`r` after writing and sets :attr:`space`.
    """

    def __init__(self, capacity: int, channels: int) -> None:
        self.cap = int(capacity)
        self.ring = np.zeros((self.cap, int(channels)), dtype=np.float32)
        self.w = 0  # frames put (producer)
        self.r = 0  # frames written to the files (consumer)
        self.gap_total = 0  # frames dropped
        self.gaps: deque[tuple[int, int]] = deque()  # (stream frame, frames) still to fill
        self.gap_log: list[list[int]] = []  # for the sidecar, adjacent gaps merged
        self.dropped_blocks = 0
        self.space = threading.Event()  # set by the consumer when it frees room
        self._stream_pos = 0  # consumer: frames of the timeline written (audio + gap silence)
        self._gap_done = 0  # consumer: frames of the current gap already filled

    # ------------------------------------------------------------------ producer
    @property
    def position(self) -> int:
        """Frames given so far, dropped ones included (the recording's timeline)."""
        return self.w + self.gap_total

    def free(self) -> int:
        return self.cap - (self.w - self.r)

    def put(self, a: np.ndarray) -> None:
        """Copy ``a`` (n, channels), which must fit (:meth:`free`), and publish it."""
        n = a.shape[0]
        i = self.w % self.cap
        k = min(n, self.cap - i)
        self.ring[i : i + k] = a[:k]
        if k < n:
            self.ring[: n - k] = a[k:]
        self.w += n  # publish after the copy

    def drop(self, n: int) -> None:
        """Count ``n`` frames that did not fit as a gap at the current position."""
        pos = self.w + self.gap_total
        self.gaps.append((pos, n))
        log_ = self.gap_log
        if log_ and log_[-1][0] + log_[-1][1] == pos:
            log_[-1][1] += n
        else:
            log_.append([pos, n])
        self.gap_total += n
        self.dropped_blocks += 1

    # ------------------------------------------------------------------ consumer
    def pending(self) -> int:
        return (self.w - self.r) + len(self.gaps)

    def drain(self, budget: int, sink: Callable[[np.ndarray], None]) -> bool:
        """Hand up to ``budget`` frames, in timeline order (gap silence included), to
        ``sink``. Returns whether anything was handed on."""
        w = self.w  # read before the gaps: every frame below w precedes later gaps
        channels = self.ring.shape[1]
        progressed = False
        while budget > 0:
            gap = self.gaps[0] if self.gaps else None
            if gap is not None and gap[0] <= self._stream_pos:
                k = min(gap[1] - self._gap_done, budget)
                sink(np.zeros((k, channels), dtype=np.float32))
                self._gap_done += k
                self._stream_pos += k
                budget -= k
                if self._gap_done >= gap[1]:
                    self.gaps.popleft()
                    self._gap_done = 0
                progressed = True
                continue
            limit = w - self.r
            if gap is not None:
                limit = min(limit, gap[0] - self._stream_pos)
            if limit <= 0:
                break
            k = min(limit, budget)
            i = self.r % self.cap
            k = min(k, self.cap - i)
            sink(self.ring[i : i + k])
            self.r += k
            self._stream_pos += k
            budget -= k
            progressed = True
            self.space.set()
        return progressed


class PartFiles:
    """The audio files of one recording (owned by the writer thread once it runs).

    :attr:`parts` lists ``{"file", "frames"}`` per part, as the sidecar shows them.
    ``on_new_part`` is called after a new part is listed and before it is created, so the
    sidecar names a part before it exists.
    """

    def __init__(
        self,
        path: Path,
        *,
        samplerate: int,
        channels: int,
        subtype: str,
        container: str,
        part_limit: int | None,
        reserve: Path,
        on_new_part: Callable[[], None],
    ) -> None:
        self.path = path
        self.samplerate = samplerate
        self.channels = channels
        self.subtype = subtype
        self.container = container
        self.part_limit = part_limit  # frames per part, None: no split
        self.reserve = reserve
        self.on_new_part = on_new_part
        self.parts: list[dict[str, Any]] = []
        self.part_frames = 0
        self.frames_written = 0
        self.soundfile: sf.SoundFile | None = None

    def paths(self) -> list[Path]:
        """Every audio file of this recording so far, in order."""
        return [self.path.with_name(p["file"]) for p in list(self.parts)]

    def list_first(self) -> None:
        """List the first part (before the sidecar that names it is written)."""
        self.parts = [{"file": self.path.name, "frames": 0}]

    def open_first(self) -> None:
        """Create the first part (exclusive: never overwrites) and the reserve file."""
        self.soundfile = self._open_part(self.path)

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
                samplerate=self.samplerate,
                channels=self.channels,
                format=CONTAINERS[self.container],
                subtype=self.subtype,
                closefd=True,
            )
        except BaseException as e:
            os.close(fd)
            unlink(path)
            raise RecordingError(f"cannot create {path}: {e}") from None
        # Rewrite the header sizes after every write: the file is valid at every moment.
        sf._snd.sf_command(f._file, _SFC_SET_UPDATE_HEADER_AUTO, sf._ffi.NULL, sf._snd.SF_TRUE)
        # A valid (empty) file from the first moment, before any frame arrives.
        sf._snd.sf_command(f._file, _SFC_UPDATE_HEADER_NOW, sf._ffi.NULL, 0)
        self.part_frames = 0
        return f

    def make_reserve(self) -> None:
        try:
            with open(self.reserve, "wb") as f:
                f.write(b"\0" * RESERVE_BYTES)
                f.flush()
                os.fsync(f.fileno())
        except OSError:
            unlink(self.reserve)

    def write(self, a: np.ndarray) -> None:
        """Append frames, opening the next part where the current one is full."""
        while a.shape[0]:
            assert self.soundfile is not None
            if self.part_limit is not None and self.part_frames >= self.part_limit:
                self._next_part()
                continue
            k = a.shape[0]
            if self.part_limit is not None:
                k = min(k, self.part_limit - self.part_frames)
            self.soundfile.write(a[:k])
            self.part_frames += k
            self.frames_written += k
            self.parts[-1]["frames"] = self.part_frames
            a = a[k:]

    def _next_part(self) -> None:
        assert self.soundfile is not None
        self.soundfile.close()  # flushes, fsyncs and writes the final header of the full part
        self.soundfile = None
        nxt = part_path(self.path, len(self.parts) + 1)
        self.parts.append({"file": nxt.name, "frames": 0})
        self.on_new_part()  # list the part before it exists
        self.soundfile = self._open_part(nxt)

    def flush(self) -> None:
        if self.soundfile is not None:
            self.soundfile.flush()  # fsync; the header is already current

    def close(self, status: str, reason: str | None) -> tuple[str, str | None]:
        """Close the current part; after a failure make what was written readable (the last
        header matches its length; a part that failed before its header was written is
        removed). Frees the reserve file. Returns ``(status, reason)``, failed if closing
        failed."""
        f, self.soundfile = self.soundfile, None
        if f is not None:
            try:
                f.close()
            except Exception as e:
                if status != "failed":
                    status, reason = "failed", describe_error(e, None)
        if status == "failed":
            for p in self.paths():
                try:
                    if p.exists() and p.stat().st_size > 0:
                        repair_header(p)
                        self._frames_from_file(p)
                    elif len(self.parts) > 1 and p.name == self.parts[-1]["file"]:
                        unlink(p)
                        self.parts.pop()
                except Exception:
                    pass
            self.frames_written = sum(int(p["frames"]) for p in self.parts)
        unlink(self.reserve)  # frees room for the sidecar on a full disk
        return status, reason

    def _frames_from_file(self, p: Path) -> None:
        frames = sf.info(str(p)).frames
        for entry in self.parts:
            if entry["file"] == p.name:
                entry["frames"] = int(frames)


class Writer:
    """The writer thread of one recording.

    Drains ``queue`` into ``files``; every ``sync_interval`` seconds fsyncs and rewrites the
    sidecar (``sidecar_text()``, at most every ``cost_factor`` times the last rewrite's cost:
    serialising a long event list holds the GIL the generator thread needs). When ``stop`` is
    set and the queue is empty, or on any error, it calls ``on_finish(status, reason)`` with
    ``complete`` or ``failed`` and ends.
    """

    def __init__(
        self,
        queue: RecordQueue,
        files: PartFiles,
        *,
        sidecar: Path,
        sidecar_text: Callable[[], str],
        on_finish: Callable[[str, str | None], None],
        stop: threading.Event,
        sync_interval: float,
        cost_factor: float,
        name: str,
    ) -> None:
        self.queue = queue
        self.files = files
        self.sidecar = sidecar
        self.sidecar_text = sidecar_text
        self.on_finish = on_finish
        self.stop = stop
        self.sync_interval = float(sync_interval)
        self.cost_factor = float(cost_factor)
        self._next_sidecar = 0.0
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        budget = max(4096, self.files.samplerate // 4)
        last_sync = time.monotonic()
        try:
            while True:
                progressed = self.queue.drain(budget, self.files.write)
                now = time.monotonic()
                if now - last_sync >= self.sync_interval:
                    self._sync()
                    last_sync = now
                if self.stop.is_set() and self.queue.pending() == 0:
                    break
                if not progressed:
                    self.stop.wait(0.02)
            self.on_finish("complete", None)
        except Exception as e:  # disk full, file system gone, anything: stop, keep the music
            self.on_finish("failed", describe_error(e, self.files.soundfile))

    def _sync(self) -> None:
        self.files.flush()
        # The sidecar is informational while recording (recovery counts frames from the
        # files): rewrite it at most every cost_factor x the time the last rewrite took.
        now = time.monotonic()
        if now < self._next_sidecar:
            return
        write_sidecar(self.sidecar, self.sidecar_text())
        took = time.monotonic() - now
        self._next_sidecar = now + max(self.sync_interval, self.cost_factor * took) - 0.001


def describe_error(e: BaseException, f: sf.SoundFile | None) -> str:
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


def unlink(p: Path) -> None:
    """Remove ``p`` if it is there; never raises."""
    with contextlib.suppress(OSError):
        os.unlink(p)
