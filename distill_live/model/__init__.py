"""The model: a VQ-VAE codec, an autoregressive prior over its codes, and the model file.

>>> from distill_live.model import build_model
>>> model = build_model(tiny=True)
>>> model.sample_rate
48000
"""

from __future__ import annotations

from .codec import Codec, CodecConfig
from .distill import DistillModel, build_model
from .files import DEFAULT_MODEL_PATH, load_model, read_header, save_model
from .prior import Prior, PriorConfig, PriorState

__all__ = [
    "Codec",
    "CodecConfig",
    "Prior",
    "PriorConfig",
    "PriorState",
    "DistillModel",
    "build_model",
    "load_model",
    "save_model",
    "read_header",
    "DEFAULT_MODEL_PATH",
]
