"""What control needs from the engine: a :class:`typing.Protocol` of the methods it calls.

The real implementation is :class:`distill_live.engine.Engine` (docs/ARCHITECTURE.md). Control
code is typed against this protocol so that it never reaches past those methods (handlers
validate and call ``set`` or ``note``; they never touch the model).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..params import Value

__all__ = ["AppliedChangeLike", "EngineLike"]


class AppliedChangeLike(Protocol):
    """A change that took effect at output frame ``frame`` (engine's ``AppliedChange``)."""

    @property
    def frame(self) -> int: ...

    @property
    def param(self) -> str: ...

    @property
    def value(self) -> Value: ...

    @property
    def source(self) -> str: ...

    @property
    def velocity(self) -> int | None: ...  # a note's (param "note"); None otherwise


@runtime_checkable
class EngineLike(Protocol):
    """The engine methods that OSC, OSCQuery and MIDI call. All are thread-safe; ``set``,
    ``note`` and ``all_notes_off`` are cheap (they enqueue for the generator thread)."""

    def set(self, name: str, value: object, source: str = ...) -> Value: ...

    def get(self, name: str) -> Value: ...

    def note(self, note: object, velocity: object = ..., source: str = ...) -> tuple[int, int]:
        """A key: note 0..127, velocity 0..127 (0 = note-off); ControlError otherwise. The
        engine plays the last held note (last-note priority)."""
        ...

    def all_notes_off(self, source: str = ...) -> None:
        """Release every key (MIDI CC 123, a panic button)."""
        ...

    @property
    def params(self) -> Mapping[str, Value]: ...

    def stats(self) -> Mapping[str, Any]: ...

    def record_start(self, path: Any = None) -> Path: ...

    def record_stop(self) -> Any: ...

    def switch_model(self, model: Any) -> Any: ...

    def add_listener(self, fn: Callable[[Any], None]) -> Any: ...
