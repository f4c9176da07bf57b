"""Getting a model ready to run: resolving what the caller named, and setting torch up.

This room holds what every consumer of a trained model does before producing sound, live
(:class:`~distill_live.engine.engine.Engine`) or offline
(:func:`~distill_live.engine.render.render`), and what the command line calls before either:

* :func:`setup_torch`: one torch thread for the process;
* :func:`resolve_model`: a ``DistillModel`` from a model object, a path or ``"default"``.

It may import torch and the rest of :mod:`distill_live.model`; nothing from the engine,
recording, control or command-line rooms.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

__all__ = ["setup_torch", "resolve_model"]


def setup_torch() -> None:
    """One torch thread for everything in this process (FACTS: default threads spin)."""
    import torch

    torch.set_num_threads(1)
    with contextlib.suppress(RuntimeError):  # already set, or inter-op work already ran
        torch.set_num_interop_threads(1)


def resolve_model(model: Any) -> Any:
    """A DistillModel from a model, a path, or ``"default"``/None (the shipped model)."""
    if model is None or isinstance(model, (str, os.PathLike)):
        from .files import load_model

        return load_model(model)
    for attr in ("prior", "codec", "hop", "sample_rate", "decoder_context"):
        if not hasattr(model, attr):
            raise TypeError(f"model must be a DistillModel or a path, got {type(model).__name__}")
    return model
