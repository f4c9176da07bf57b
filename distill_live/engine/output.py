"""Starting, watching and restarting the audio process (engine side).

:class:`AudioOutput` spawns ``python -m distill_live.engine.audio`` on a :class:`Ring`, waits
for its one-line JSON reply (stream open, or the error and the devices it found), and offers
:meth:`AudioOutput.check` for a watchdog: it notices a process that exited or a stream whose
callbacks stopped (the JACK server went away), kills the process by its pid, and starts a
new one when the device can be opened again. The ring and its counters live in the engine,
so nothing queued or counted is lost across a restart.

:func:`check_samplerate` is the one check of a requested output rate (the engine and ``play``
use it). This module may import the ring and :mod:`distill_live.errors`; no torch, no model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Any

from ..errors import DeviceError
from .ring import H, Ring

__all__ = ["AudioOutput", "check_samplerate", "MIN_SAMPLERATE", "MAX_SAMPLERATE"]

log = logging.getLogger(__name__)

#: The output rates one may ask for, in Hz (the stream is resampled to the device's rate).
MIN_SAMPLERATE = 8000
MAX_SAMPLERATE = 192000


def check_samplerate(value: int | float | str) -> int:
    """A requested output rate as an int; :class:`DeviceError` naming the value and the range
    (8000..192000 Hz) if it is not one."""
    try:
        rate = int(value)
    except (TypeError, ValueError):
        rate = 0
    if not MIN_SAMPLERATE <= rate <= MAX_SAMPLERATE:
        raise DeviceError(f"samplerate must be {MIN_SAMPLERATE}..{MAX_SAMPLERATE} Hz, got {value}")
    return rate


class AudioOutput:
    """The audio process of one engine."""

    def __init__(
        self,
        ring: Ring,
        device: int | str | None = None,
        samplerate: int | None = None,
        blocksize: int = 0,
        stall_s: float = 1.0,
        retry_s: float = 1.0,
    ) -> None:
        self.ring = ring
        self.device = device
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.stall_s = stall_s
        self.retry_s = retry_s
        self.proc: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}
        self.status = "stopped"
        self.restarts = 0
        self.events: list[str] = []
        self._last_cb = (0, 0.0)  # (callback count, monotonic time it was seen)
        self._next_try = 0.0

    # ------------------------------------------------------------------ spawn
    def _spawn(self, timeout: float) -> dict[str, Any]:
        config = {
            "ring": self.ring.name,
            "device": self.device,
            "samplerate": self.samplerate,
            "blocksize": self.blocksize,
        }
        env = {**os.environ}
        env.setdefault("JACK_NO_START_SERVER", "1")
        proc = subprocess.Popen(
            [sys.executable, "-m", "distill_live.engine.audio", json.dumps(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        reply: list[str] = []
        reader = threading.Thread(
            target=lambda: reply.append(proc.stdout.readline() if proc.stdout else ""),
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        line = reply[0] if reply else ""
        try:
            doc = json.loads(line) if line else {}
        except json.JSONDecodeError:
            doc = {}
        if not doc.get("ok"):
            self._kill(proc)
            if not doc:
                raise DeviceError(
                    f"the audio process did not open the output within {timeout:g} s "
                    "(is the audio server hanging?)"
                )
            found = doc.get("devices") or []
            where = "; ".join(found) if found else "no audio output devices at all"
            raise DeviceError(
                f"cannot open audio output {self.device if self.device is not None else '(default)'}"
                f": {doc.get('error')}. Found: {where}. Pick one with --device NAME-OR-INDEX "
                "(see `distill-live devices`), or start a sound server (e.g. JACK)."
            )
        self.proc = proc
        self.info = doc
        self.status = "running"
        self._last_cb = (int(self.ring.header[H.CALLBACKS]), time.monotonic())
        return doc

    def start(self, timeout: float = 10.0) -> dict[str, Any]:
        """Start the process; DeviceError (with the devices found) if the output won't open.
        Restarts then ask for the same sample rate (the stream is resampled for it)."""
        doc = self._spawn(timeout)
        self.samplerate = int(round(float(doc["samplerate"])))
        return doc

    @staticmethod
    def _kill(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a zombie we cannot reap
            log.warning("audio process %d did not exit after SIGKILL", proc.pid)
        if proc.stdout:
            proc.stdout.close()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    # ------------------------------------------------------------------ watchdog
    def report(self, message: str) -> None:
        """Log a warning about the output and keep it in :attr:`events` (the last 20)."""
        log.warning("%s", message)
        self.events.append(message)
        del self.events[:-20]

    def check(self) -> None:
        """One watchdog step (call every ~100 ms from one thread)."""
        now = time.monotonic()
        if self.status == "running":
            assert self.proc is not None
            code = self.proc.poll()
            count = int(self.ring.header[H.CALLBACKS])
            if code is not None:
                self.report(f"audio process exited (status {code}); restarting it")
                self._kill(self.proc)
                self.proc = None
                self.status = "restarting"
                self._next_try = now
            elif count != self._last_cb[0]:
                self._last_cb = (count, now)
            elif now - self._last_cb[1] > self.stall_s:
                self.report(
                    f"audio callbacks stopped for {now - self._last_cb[1]:.1f} s "
                    "(audio server gone?); killing the audio process and retrying"
                )
                self._kill(self.proc)
                self.proc = None
                self.status = "restarting"
                self._next_try = now
        if self.status == "restarting" and now >= self._next_try:
            rate_before = self.info.get("samplerate")
            try:
                doc = self._spawn(timeout=5.0)
            except DeviceError as exc:
                self.status = "restarting"
                self._next_try = time.monotonic() + self.retry_s
                if not self.events or not self.events[-1].startswith("restart failed"):
                    self.report(f"restart failed, retrying every {self.retry_s:g} s: {exc}")
                return
            self.restarts += 1
            if rate_before and doc.get("samplerate") != rate_before:
                self.report(
                    f"audio output came back at {doc.get('samplerate')} Hz instead of "
                    f"{rate_before} Hz: the pitch will be off until you restart play"
                )
            self.report(f"audio output restarted on {doc.get('device')}")

    def kill(self) -> None:
        """Kill the audio process now (tests of the watchdog use this)."""
        if self.proc is not None:
            self.proc.kill()

    def stop(self, timeout: float = 2.0) -> None:
        self.status = "stopped"
        proc, self.proc = self.proc, None
        if proc is None:
            return
        self.ring.header[H.STOP] = 1
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
        self._kill(proc)
        self.ring.header[H.STOP] = 0
