"""The streaming engine: generator thread, shared ring, audio process, post-processing.

``Engine`` and ``render`` are imported lazily so that the audio process (which imports
``distill_live.engine.audio``) never pays for torch.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Engine", "AppliedChange", "render"]


def __getattr__(name: str) -> Any:
    if name in ("Engine", "AppliedChange"):
        from . import engine

        return getattr(engine, name)
    if name == "render":
        from .render import render

        return render
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
