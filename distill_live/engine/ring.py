"""A single-producer / single-consumer ring of float32 frames in shared memory.

The generator thread (producer) and the audio callback in another process (consumer) share
one block of memory: a header of int64 counters followed by ``capacity`` frames of
``channels`` float32 samples. Positions are plain, ever-increasing integers (never wrapped):
``write`` is advanced only by the producer, ``read`` only by the consumer, and the frame at
position ``p`` lives at row ``p % capacity``. An aligned int64 store is atomic on the CPUs we
run on, and the producer stores its samples before it publishes the new ``write`` position,
so no lock is needed (``multiprocessing.Value`` would take one).

The producer may *rewind* its write position to overwrite frames that are still queued but
lie safely beyond the consumer (:meth:`Ring.rewrite`): a control change then drops the
not-yet-played look-ahead and replaces it with audio made with the new value.

The header also carries the audio process's counters (empty-buffer callbacks, PortAudio
underflows, callback count, worst gap between callbacks) so that they survive a restart of
that process and can be read by the engine at any time.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import uuid
from multiprocessing import shared_memory

import numpy as np

__all__ = ["Ring", "HEADER", "H", "sweep_stale_rings"]

PREFIX = "dl_ring_"  # shared-memory names: dl_ring_{creator pid}_{random}
SHM_DIR = "/dev/shm"


class H:
    """Slots of the int64 header."""

    WRITE = 0  # producer position (frames written, ever increasing)
    READ = 1  # consumer position (frames handed to the device)
    EMPTY = 2  # callbacks that found fewer frames than asked for (silence played)
    UNDERFLOW = 3  # callbacks flagged output_underflow by PortAudio
    CALLBACKS = 4  # callbacks run
    LAST_CB_NS = 5  # time.monotonic_ns() at the start of the last callback
    MAX_GAP_NS = 6  # worst interval between two callbacks
    PRIMED = 7  # 1 once the producer has pre-filled: only then are empty callbacks counted
    STOP = 8  # 1: the audio process should stop its stream and exit
    CAPACITY = 9
    CHANNELS = 10
    SAMPLERATE = 11  # the rate the stream actually runs at (set by the audio process)
    GAP_RESET = 12  # producer sets 1 to restart the worst-gap measurement
    PROCESS_STARTS = 13  # audio processes that opened a stream on this ring
    PREROLL_UNDERFLOW = 14  # underflows before the first frames were queued (silence anyway)
    MAX_CB_NS = 15  # longest time one callback took


HEADER = 16  # int64 slots (128 bytes, keeps the frames 16-byte aligned)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_stale_rings(directory: str = SHM_DIR) -> list[str]:
    """Unlink the rings of engines that died without cleaning up (SIGKILL of the whole
    process group, power loss of a container): their creator's pid, in the name, is gone.
    Each is 0.5-1 MB of RAM under /dev/shm until reboot otherwise. A ring whose pid was
    reused by a live process is left alone. Returns the names removed (Linux; elsewhere, and
    for rings that are not ours to remove, nothing)."""
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not name.startswith(PREFIX):
            continue
        pid_text, _, rest = name.removeprefix(PREFIX).partition("_")
        if not pid_text.isdigit() or not rest:  # an older name without a pid
            continue
        if _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(directory, name))
            removed.append(name)
    return removed


class Ring:
    """The shared ring. Create it in the engine (``Ring.create``); the audio process opens it
    by name (``Ring.attach``) without registering it with a resource tracker."""

    def __init__(self, buf: memoryview | mmap.mmap, capacity: int, channels: int) -> None:
        self._buf = buf
        self.capacity = int(capacity)
        self.channels = int(channels)
        self.header = np.ndarray((HEADER,), dtype=np.int64, buffer=buf, offset=0)
        self.data = np.ndarray(
            (self.capacity, self.channels), dtype=np.float32, buffer=buf, offset=HEADER * 8
        )
        self._shm: shared_memory.SharedMemory | None = None
        self._mmap: mmap.mmap | None = None
        self.name = ""

    # ------------------------------------------------------------------ lifetime
    @staticmethod
    def nbytes(capacity: int, channels: int) -> int:
        return HEADER * 8 + capacity * channels * 4

    @classmethod
    def create(cls, capacity: int, channels: int) -> Ring:
        if capacity < 1024 or capacity & (capacity - 1):
            raise ValueError(f"ring capacity must be a power of two >= 1024, got {capacity}")
        if not 1 <= channels <= 64:
            raise ValueError(f"ring channels must be in 1..64, got {channels}")
        sweep_stale_rings()
        name = f"{PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
        shm = shared_memory.SharedMemory(
            name=name, create=True, size=cls.nbytes(capacity, channels)
        )
        assert shm.buf is not None
        ring = cls(shm.buf, capacity, channels)
        ring._shm = shm
        ring.name = name
        ring.header[:] = 0
        ring.header[H.CAPACITY] = capacity
        ring.header[H.CHANNELS] = channels
        ring.data[:] = 0.0
        return ring

    @classmethod
    def attach(cls, name: str) -> Ring:
        """Open an existing ring (in the audio process). Linux: maps /dev/shm/<name>."""
        fd = os.open(f"/dev/shm/{name}", os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        head = np.ndarray((HEADER,), dtype=np.int64, buffer=mm, offset=0)
        ring = cls(mm, int(head[H.CAPACITY]), int(head[H.CHANNELS]))
        ring._mmap = mm
        ring.name = name
        return ring

    def close(self) -> None:
        """Drop the numpy views and unmap; the creator also unlinks the memory."""
        del self.header, self.data
        if self._shm is not None:
            # another thread may still hold a view (a stats() call racing stop()): then the
            # mapping goes with the process, the name is unlinked now all the same
            with contextlib.suppress(BufferError):
                self._shm.close()
            with contextlib.suppress(FileNotFoundError):
                self._shm.unlink()
            self._shm = None
        if self._mmap is not None:
            with contextlib.suppress(BufferError):
                self._mmap.close()
            self._mmap = None

    # ------------------------------------------------------------------ producer side
    @property
    def write_pos(self) -> int:
        return int(self.header[H.WRITE])

    @property
    def read_pos(self) -> int:
        return int(self.header[H.READ])

    def fill(self) -> int:
        """Frames queued and not yet handed to the device."""
        return int(self.header[H.WRITE]) - int(self.header[H.READ])

    def space(self) -> int:
        return self.capacity - self.fill()

    def _store(self, pos: int, frames: np.ndarray) -> None:
        n = frames.shape[0]
        i = pos % self.capacity
        first = min(n, self.capacity - i)
        self.data[i : i + first] = frames[:first]
        if first < n:
            self.data[: n - first] = frames[first:]

    def _load(self, pos: int, n: int) -> np.ndarray:
        """A copy of the ``n`` frames stored from ``pos`` on."""
        i = pos % self.capacity
        first = min(n, self.capacity - i)
        out = self.data[i : i + first].copy()
        if first < n:
            out = np.concatenate([out, self.data[: n - first]])
        return out

    def write(self, frames: np.ndarray) -> None:
        """Append ``frames`` (n, channels) float32; the caller has checked :meth:`space`."""
        n = frames.shape[0]
        if n > self.space():
            raise BufferError(f"ring overflow: {n} frames, {self.space()} free")
        pos = int(self.header[H.WRITE])
        self._store(pos, frames)
        self.header[H.WRITE] = pos + n  # publish after the samples are in place

    def rewrite(
        self, pos: int, frames: np.ndarray, guard: int, fade: int = 0, same_until: int = 0
    ) -> int:
        """Replace everything queued from ``pos`` on by ``frames``; the write position becomes
        ``pos + len(frames)``. Frames closer than ``guard`` to the consumer are left alone (it
        may be copying them right now): returns the position the new frames start at, which
        is ``pos`` unless the consumer had already come within ``guard`` of it.

        When they start later than ``same_until`` (the frames before it are the same in the
        old and the new audio), the first ``fade`` new frames fade linearly from the queued
        ones, so a late replacement does not click."""
        read = int(self.header[H.READ])
        write = int(self.header[H.WRITE])
        start = max(pos, read + guard)
        if start > write:  # nothing queued there any more: plain append from write
            start = write
        skip = start - pos
        if skip >= frames.shape[0]:
            # the consumer passed the whole replacement: keep what is queued, drop nothing
            return start
        if skip > 0:
            frames = frames[skip:]
        n = frames.shape[0]
        m = min(fade, n, write - start)
        if m > 0 and start > same_until:
            w = (np.arange(1, m + 1, dtype=np.float32) / (m + 1))[:, None]
            frames = frames.copy()
            frames[:m] = self._load(start, m) * (1 - w) + frames[:m] * w
        if start + n - read > self.capacity:
            raise BufferError("ring overflow on rewrite")
        self._store(start, frames)
        self.header[H.WRITE] = start + n
        return start
