"""What control needs from the engine: a :class:`typing.Protocol` of the methods it calls.

The real implementation is :class:`distill_live.engine.Engine` (docs/ARCHITECTURE.md). Control
code is typed against this protocol so that it never reaches past those methods (handlers
validate and call ``set``; they never touch the model).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["AppliedChangeLike", "EngineLike"]


class AppliedChangeLike(Protocol):
    """A change that took effect at output frame ``frame`` (engine's ``AppliedChange``)."""

    @property
    def frame(self) -> int: ...

    @property
    def param(self) -> str: ...

    @property
    def value(self) -> int | float: ...

    @property
    def source(self) -> str: ...


@runtime_checkable
class EngineLike(Protocol):
    """The engine methods that OSC, OSCQuery and MIDI call. All are thread-safe."""

    def set(self, name: str, value: object, source: str = ...) -> int | float: ...

    def get(self, name: str) -> int | float: ...

    @property
    def params(self) -> Mapping[str, int | float]: ...

    def stats(self) -> Mapping[str, Any]: ...

    def record_start(self, path: Any = None) -> Path: ...

    def record_stop(self) -> Any: ...

    def switch_model(self, model: Any) -> Any: ...

    def add_listener(self, fn: Callable[[Any], None]) -> Any: ...
