"""The exceptions distill_live raises.

Every error the user can cause derives from :class:`DistillLiveError` and also from the
builtin it replaces (``ValueError``, ``OSError``, ...), so callers may catch either. Messages
name the bad value, what was expected, and what to do about it.
"""

from __future__ import annotations

__all__ = [
    "DistillLiveError",
    "ModelFileError",
    "TrainingDataError",
    "TrainingOptionError",
    "SamplingError",
    "DeviceError",
    "ControlError",
    "RecordingError",
    "UsageError",
]


class DistillLiveError(Exception):
    """Base class of every error distill_live raises on purpose."""


class ModelFileError(DistillLiveError, ValueError):
    """A model file is missing, truncated, corrupt, of an unknown version or not a model."""


class TrainingDataError(DistillLiveError, ValueError):
    """A training or evaluation folder holds no usable audio, or too little of it."""


class TrainingOptionError(DistillLiveError, ValueError):
    """A training option, a model config override or a checkpoint to resume does not fit."""


class SamplingError(DistillLiveError, ValueError):
    """A sampling parameter (temperature, top-k, top-p) given to the model is out of range."""


class DeviceError(DistillLiveError, RuntimeError):
    """An audio or MIDI device cannot be found, opened or kept running."""


class ControlError(DistillLiveError, ValueError):
    """A control message (OSC, MIDI, API, automation) names an unknown parameter or a bad value."""


class RecordingError(DistillLiveError, OSError):
    """A recording cannot be started, written or finished."""


class UsageError(DistillLiveError, ValueError):
    """A command-line mistake (a flag's value out of range, an output that exists): printed
    as one line, exit status 2."""
