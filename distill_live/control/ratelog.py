"""A logger wrapper that writes at most a few lines a second and counts the rest.

Bad input can arrive thousands of times a second (a fuzzer, a patch gone wrong); each bad
message deserves a log line, but not at a rate that costs the generator its CPU.
"""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["RateLimitedLog"]


class RateLimitedLog:
    """``warning()`` lines through ``logger``, at most ``per_second`` a second; the lines
    dropped in a second are summed up in one line when logging resumes."""

    def __init__(self, logger: logging.Logger, per_second: int = 10) -> None:
        self._logger = logger
        self._per_second = per_second
        self._lock = threading.Lock()
        self._window = 0.0
        self._count = 0
        self._suppressed = 0

    def warning(self, msg: str, *args: object) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._window >= 1.0:
                if self._suppressed:
                    self._logger.warning("... %d more like this suppressed", self._suppressed)
                self._window, self._count, self._suppressed = now, 0, 0
            if self._count >= self._per_second:
                self._suppressed += 1
                return
            self._count += 1
        self._logger.warning(msg, *args)
