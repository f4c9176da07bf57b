"""Coalescing parameter changes: at most one batch of ``Engine.set`` calls per block.

Each batch of changes costs the engine a regeneration of its look-ahead, and TouchDesigner
sends every channel every frame; so the first change after a quiet spell goes to the engine
at once (no added latency), and changes arriving within ``interval`` of the last batch are
held, the latest value per parameter replacing older ones, and applied together when the
interval has passed.

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
from ..params import Value
from .engine_api import EngineLike

__all__ = ["Coalescer", "block_seconds"]

log = logging.getLogger(__name__)

#: Used when the engine does not say how long its blocks are.
DEFAULT_INTERVAL_S = 0.02
#: Batches never come closer than this, even for a model with very short blocks: each batch
#: makes the engine regenerate its look-ahead.
MIN_INTERVAL_S = 0.04


def block_seconds(engine: Any) -> float:
    """The engine's control granularity in seconds (chunk frames x hop / sample rate)."""
    try:
        s = float(engine.chunk_frames) * float(engine.model.hop) / float(engine.model.sample_rate)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError):
        return DEFAULT_INTERVAL_S
    return max(s, MIN_INTERVAL_S) if 0.0 < s < 1.0 else DEFAULT_INTERVAL_S


class Coalescer:
    """Hands parameter changes to ``engine.set(name, value, source=source)`` in batches, at
    most one batch per ``interval`` seconds, the latest value per parameter winning.

    A change arriving after a quiet spell (nothing applied for ``interval``) is applied at
    once, in the caller's thread; changes arriving sooner are held and applied together when
    the interval has passed, so the engine regenerates once for all of them.

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
        self._last = -1e9  # monotonic time of the last batch
        self._held: dict[str, tuple[object, Any]] = {}  # name -> (value, meta), in order
        self._closed = False
        self.sets = 0  # engine.set calls made
        self.batches = 0
        self.submitted = 0
        self._thread = threading.Thread(target=self._run, name=f"coalesce-{source}", daemon=True)
        self._thread.start()

    def submit(self, name: str, value: object, meta: Any = None) -> None:
        """Set ``name`` now after a quiet spell, else hold ``value`` for the next batch."""
        now = time.monotonic()
        with self._cond:
            self.submitted += 1
            if not self._held and now - self._last >= self.interval:
                self._last = now
                self.batches += 1
                due = True
            else:
                self._held.pop(name, None)  # keep arrival order of the latest values
                self._held[name] = (value, meta)
                self._cond.notify()
                due = False
        if due:
            self._apply(name, value, meta)

    def get(self, name: str) -> Value:
        """The value ``name`` will have once held changes are applied."""
        with self._cond:
            if name in self._held:
                value = self._held[name][0]
                if isinstance(value, (int, float, str)):
                    return value
        return self.engine.get(name)

    def flush(self) -> None:
        """Apply every held change now (before a command, to keep message order)."""
        with self._cond:
            held, self._held = self._held, {}
            if held:
                self._last = time.monotonic()
                self.batches += 1
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
                    if self._held:
                        wait = self._last + self.interval - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(max(wait, 0.0005))
                    else:
                        self._cond.wait()
                if self._closed:
                    return
                batch, self._held = self._held, {}
                self._last = time.monotonic()
                self.batches += 1
            for name, (value, meta) in batch.items():
                self._apply(name, value, meta)
