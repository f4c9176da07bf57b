"""Coalescing parameter changes: at most one ``Engine.set`` per parameter per block.

Each applied change costs the engine a regeneration of its look-ahead, and TouchDesigner
sends every channel every frame; so the first change after a quiet spell goes to the engine
at once (no added latency), and changes arriving within ``interval`` of the last one are
held, the latest value replacing older ones, and applied when the interval has passed.

Threading model: ``submit`` may be called from any thread (the OSC receiving thread, mido's
callback thread); a small thread applies held values when they fall due.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import DistillLiveError
from .engine_api import EngineLike

__all__ = ["Coalescer", "block_seconds"]

log = logging.getLogger(__name__)

#: Used when the engine does not say how long its blocks are.
DEFAULT_INTERVAL_S = 0.02


def block_seconds(engine: Any) -> float:
    """The engine's control granularity in seconds (chunk frames x hop / sample rate)."""
    try:
        s = float(engine.chunk_frames) * float(engine.model.hop) / float(engine.model.sample_rate)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError):
        return DEFAULT_INTERVAL_S
    return s if 0.0 < s < 1.0 else DEFAULT_INTERVAL_S


class Coalescer:
    """Hands parameter changes to ``engine.set(name, value, source=source)``, rate-limited
    per parameter to one per ``interval`` seconds, the latest value winning.

    ``on_applied(name, value, meta)`` runs after each set; ``on_error(name, error, meta)``
    when the engine rejects a value (``meta`` is whatever ``submit`` was given).
    """

    def __init__(
        self,
        engine: EngineLike,
        source: str,
        interval: float | None = None,
        *,
        on_applied: Callable[[str, object, Any], None] | None = None,
        on_error: Callable[[str, DistillLiveError, Any], None] | None = None,
    ) -> None:
        self.engine = engine
        self.source = source
        self.interval = block_seconds(engine) if interval is None else float(interval)
        self.on_applied = on_applied
        self.on_error = on_error
        self._cond = threading.Condition()
        self._last: dict[str, float] = {}  # name -> monotonic time of the last set
        self._held: dict[str, tuple[object, Any]] = {}  # name -> (value, meta)
        self._closed = False
        self.sets = 0  # engine.set calls made
        self.submitted = 0
        self._thread = threading.Thread(target=self._run, name=f"coalesce-{source}", daemon=True)
        self._thread.start()

    def submit(self, name: str, value: object, meta: Any = None) -> None:
        """Set ``name`` now if its interval has passed, else hold ``value`` until it has."""
        now = time.monotonic()
        with self._cond:
            self.submitted += 1
            if name not in self._held and now - self._last.get(name, -1e9) >= self.interval:
                self._last[name] = now
                due = True
            else:
                self._held[name] = (value, meta)
                self._cond.notify()
                due = False
        if due:
            self._apply(name, value, meta)

    def get(self, name: str) -> int | float:
        """The value ``name`` will have once held changes are applied."""
        with self._cond:
            if name in self._held:
                value = self._held[name][0]
                if isinstance(value, (int, float)):
                    return value
        return self.engine.get(name)

    def flush(self) -> None:
        """Apply every held change now (before a command, to keep message order)."""
        with self._cond:
            held, self._held = self._held, {}
            now = time.monotonic()
            for name in held:
                self._last[name] = now
        for name, (value, meta) in held.items():
            self._apply(name, value, meta)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=2)

    def _apply(self, name: str, value: object, meta: Any) -> None:
        try:
            applied = self.engine.set(name, value, source=self.source)
        except DistillLiveError as e:
            if self.on_error is not None:
                self.on_error(name, e, meta)
            return
        except Exception:  # an engine bug must not kill the caller's thread
            log.exception("engine.set(%r, %r) failed", name, value)
            return
        self.sets += 1
        if self.on_applied is not None:
            self.on_applied(name, applied, meta)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    now = time.monotonic()
                    due = [n for n in self._held if now - self._last[n] >= self.interval]
                    if due:
                        break
                    if self._held:
                        wait = min(self._last[n] + self.interval for n in self._held) - now
                        self._cond.wait(max(wait, 0.0005))
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                batch = [(n, *self._held.pop(n)) for n in due]
                for n in due:
                    self._last[n] = now
            for name, value, meta in batch:
                self._apply(name, value, meta)
