"""A JACK server with the dummy driver: a real audio clock on machines without a sound card.

Used by the test rig and the benchmarks, and handy on a headless box::

    with DummyJackServer() as jack:        # jackd -R -P 70 -n <unique> -d dummy ...
        ...                                # JACK clients started now (and children) find it

The server runs realtime (SCHED_FIFO) where this process may use realtime scheduling (root,
or an rtprio limit), as a JACK server on a music machine does; libjack then runs every
client's process thread -- our audio callback included -- at realtime priority too, so a
busy machine cannot delay it. Elsewhere it falls back to ``--no-realtime``.

Entering sets ``JACK_DEFAULT_SERVER`` (so libjack, PortAudio's JACK host API and rtmidi's
JACK API all connect to this server) and ``JACK_NO_START_SERVER=1`` (so nothing starts a
second server by accident). Import sounddevice only after the server is up: its device list
is frozen at import.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from types import TracebackType
from typing import IO

from .errors import DeviceError

__all__ = ["DummyJackServer", "realtime_allowed"]


def realtime_allowed(priority: int) -> bool:
    """Whether this process may switch a thread to SCHED_FIFO at ``priority`` (tried on a
    short-lived child, so nothing here changes)."""
    chrt = shutil.which("chrt")
    if chrt is None:
        return False
    try:
        return (
            subprocess.run(
                [chrt, "-f", str(priority), "true"], capture_output=True, timeout=5
            ).returncode
            == 0
        )
    except (OSError, subprocess.SubprocessError):
        return False


class DummyJackServer:
    """Start ``jackd`` with the dummy driver under a unique server name; stop it by its pid."""

    def __init__(
        self,
        samplerate: int = 48000,
        period: int = 256,
        name: str | None = None,
        ready_timeout: float = 15.0,
        set_env: bool = True,
        realtime_priority: int | None = 70,
    ) -> None:
        self.samplerate = samplerate
        self.period = period
        # Short: jack_lsp crashes (glibc malloc assertion) on server names of ~24 characters.
        self.name = name or f"dl{uuid.uuid4().hex[:8]}"
        self.ready_timeout = ready_timeout
        self.set_env = set_env
        self.realtime_priority = realtime_priority
        self.proc: subprocess.Popen[bytes] | None = None
        self.realtime = False  # whether the running server was started with -R
        self._log: IO[bytes] | None = None  # jackd's stderr
        self._saved_env: dict[str, str | None] = {}

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that make JACK clients use this server."""
        return {"JACK_DEFAULT_SERVER": self.name, "JACK_NO_START_SERVER": "1"}

    def start(self) -> DummyJackServer:
        jackd = shutil.which("jackd")
        if jackd is None:
            raise DeviceError(
                "jackd not found; install it with `apt-get install jackd2` (Debian/Ubuntu)"
            )
        if self.realtime_priority is not None and realtime_allowed(self.realtime_priority):
            try:
                return self._start(jackd, ["-R", "-P", str(self.realtime_priority)])
            except DeviceError:
                pass  # e.g. a container without CAP_SYS_NICE despite the limit: no realtime
        return self._start(jackd, ["--no-realtime"])

    def _start(self, jackd: str, mode: list[str]) -> DummyJackServer:
        self.realtime = mode[0] == "-R"
        if self._log is not None:
            self._log.close()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
        cmd = [
            jackd,
            *mode,
            "-n",
            self.name,
            "-d",
            "dummy",
            "-r",
            str(self.samplerate),
            "-p",
            str(self.period),
        ]
        env = {**os.environ, **self.env}
        self.proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.DEVNULL,
            # a file, not a pipe: nobody drains a pipe while it runs, and once a pipe is
            # full (a few hundred "XRun" lines) jackd's realtime thread blocks writing to it
            stderr=self._log,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.log_text()
                raise DeviceError(f"jackd exited with code {self.proc.returncode}: {err.strip()}")
            probe = subprocess.run(
                ["jack_lsp", "-s", self.name], env=env, capture_output=True, timeout=10
            )
            if probe.returncode == 0 and b"system:playback_1" in probe.stdout:
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise DeviceError(f"jackd server {self.name!r} was not ready in {self.ready_timeout} s")
        self._raise_priority()
        if self.set_env:
            for key, value in self.env.items():
                self._saved_env[key] = os.environ.get(key)
                os.environ[key] = value
        return self

    def _raise_priority(self) -> None:
        """Give every thread of the server SCHED_FIFO priority, as a JACK server on a music
        machine has, where allowed (root, or an rtprio limit). A non-realtime dummy server
        misses its own deadlines on a loaded machine, and PortAudio reports each miss as an
        output underflow to every client. Silently stays non-realtime where not allowed."""
        chrt = shutil.which("chrt")
        if self.realtime_priority is None or chrt is None or self.proc is None:
            return
        subprocess.run(
            [chrt, "-a", "-f", "-p", str(self.realtime_priority), str(self.proc.pid)],
            capture_output=True,
            check=False,
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        for key, old in self._saved_env.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        self._saved_env.clear()

    def log_text(self) -> str:
        """What jackd has written to stderr so far."""
        if self._log is None:
            return ""
        fd = self._log.fileno()  # shared with jackd: pread leaves its write offset alone
        return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace").strip()

    def xruns(self) -> int:
        """How many xruns jackd itself has reported (its driver woke too late)."""
        return self.log_text().count("XRun")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self) -> DummyJackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
