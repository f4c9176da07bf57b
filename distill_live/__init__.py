"""distill_live: a live instrument for generative audio.

Train a small VQ-VAE + autoregressive prior on your own sounds, then play it live from MIDI
controllers and OSC patches (Max/MSP, Pure Data, TouchDesigner), recording as you go.
"""

from __future__ import annotations

from ._version import __version__
from .errors import (
    ControlError,
    DeviceError,
    DistillLiveError,
    ModelFileError,
    RecordingError,
    SamplingError,
    TrainingDataError,
    TrainingOptionError,
)
from .params import PARAMS, Param, ParamValues

__all__ = [
    "__version__",
    "PARAMS",
    "Param",
    "ParamValues",
    "DistillLiveError",
    "ModelFileError",
    "TrainingDataError",
    "TrainingOptionError",
    "DeviceError",
    "ControlError",
    "RecordingError",
    "SamplingError",
]
