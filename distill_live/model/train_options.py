"""Training's options: :class:`TrainOptions`, their checks, and the config overrides.

Every check here runs before any audio is read, so a mistake costs nothing: a bad option or
an unknown ``--codec``/``--prior`` key raises :class:`TrainingOptionError` naming the flag.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import TrainingOptionError
from .codec import CodecConfig
from .prior import PriorConfig

__all__ = ["TrainOptions", "check_options", "keep_final_prior", "with_overrides"]


@dataclass
class TrainOptions:
    """Every knob of :func:`distill_live.model.train.train`; the CLI flags map onto these one
    to one."""

    minutes: float | None = None  # total wall-clock budget of all stages
    steps: int | None = None  # step budget of each stage (codec, refine, prior)
    codec_steps: int | None = None
    refine_steps: int | None = None
    prior_steps: int | None = None
    codec_share: float = 0.7  # share of --minutes for the codec (refine included)
    refine: bool = False
    refine_share: float = 0.3  # share of the codec's time given to the refine stage
    device: str = "auto"
    resume: bool = False
    # with resume: keep the checkpoint's trained codec and train the prior afresh (its
    # settings may change: --prior, --prior-codebooks while the codec is not yet cut)
    restart_prior: bool = False
    checkpoint: Path | None = None
    checkpoint_minutes: float = 3.0
    seed: int = 0
    tiny: bool = False
    heldout: float = 0.1
    min_seconds: float = 10.0
    # codec
    batch_size: int = 16
    crop_frames: int = 32  # codec training crops: 32 x 1024 samples = 0.68 s
    codec_lr: float = 5e-4
    codec_overrides: dict[str, Any] = field(default_factory=dict)
    codec_loss: dict[str, float] = field(default_factory=dict)  # ReconstructionLoss weights
    pitch_shift: float = 0.0  # augmentation: crops played +- this many semitones (0 = off)
    mix: float = 0.0  # augmentation: probability of adding a second crop (0 = off)
    # prior
    prior_batch_size: int = 16
    prior_frames: int = 256
    prior_lr: float = 6e-4
    prior_overrides: dict[str, Any] = field(default_factory=dict)
    max_silence_frames: int = 2  # 2 x 1024 samples = 43 ms
    prior_codebooks: int | None = None  # keep only the first N codebooks for the prior
    # regulariser: each code of the prior's context (not of its targets) is replaced by a
    # uniformly random code with this probability (0 = off)
    prior_input_noise: float = 0.0
    # augmentation: the prior also trains on the codes of the clips played this many
    # semitones faster and slower (tape style), each value giving two more views
    prior_varispeed: tuple[float, ...] = ()
    # augmentation: the prior also trains on the codes with their pitch codes moved this many
    # semitones up and down (the sounds in other keys), each value giving two more views
    prior_transpose: tuple[float, ...] = ()
    # with varispeed or transposed views: the share of the prior's crops drawn at the clips'
    # own speed and key
    prior_own_share: float = 0.5
    # which prior weights are saved: "final" (the end of the schedule) or "lowest" (the
    # validated state with the lowest held-out bits/code; see keep_final_prior)
    prior_keep: str = "final"
    # reporting
    progress: bool = True
    validate_every_s: float = 300.0
    threads: int | None = None
    half: bool = False  # store the model file's tensors as float16


def check_options(opts: TrainOptions) -> None:
    """Refuse options that cannot work, before any work (:class:`TrainingOptionError`)."""
    if opts.minutes is None and opts.steps is None and None in (opts.codec_steps, opts.prior_steps):
        raise TrainingOptionError("give a budget: --minutes and/or --steps")
    if not 0.0 <= opts.pitch_shift <= 12.0:
        raise TrainingOptionError(f"--pitch-shift {opts.pitch_shift}: expected 0 to 12 semitones")
    if not 0.0 <= opts.mix <= 1.0:
        raise TrainingOptionError(f"--mix {opts.mix}: expected a probability from 0 to 1")
    keep_final_prior(opts.prior_keep, 0.0, None)  # refuses an unknown choice
    if not 0.0 <= opts.prior_input_noise < 1.0:
        raise TrainingOptionError(
            f"--prior-input-noise {opts.prior_input_noise}: expected a probability from 0 to "
            "below 1"
        )
    for semis in opts.prior_varispeed:
        if not 0.0 < semis <= 12.0:
            raise TrainingOptionError(
                f"--prior-varispeed {semis}: expected semitones above 0, at most 12"
            )
    for semis in opts.prior_transpose:
        if not 0.0 < semis <= 24.0:
            raise TrainingOptionError(
                f"--prior-transpose {semis}: expected semitones above 0, at most 24"
            )
    if not 0.0 <= opts.prior_own_share <= 1.0:
        raise TrainingOptionError(
            f"--prior-own-share {opts.prior_own_share}: expected a share from 0 to 1"
        )
    if opts.restart_prior and not opts.resume:
        raise TrainingOptionError("--restart-prior needs --resume (and the checkpoint to use)")


def keep_final_prior(keep: str, final_bits: float, lowest_bits: float | None) -> bool:
    """Whether training saves the prior's final weights (True) or the earlier ones that
    scored ``lowest_bits`` held-out bits/code (False), for ``--prior-keep`` ``keep``.

    ``"final"`` is the default because early stopping on held-out bits kept priors that
    loop on one sound (the measurements: docs/experiments.md, "Which prior weights to
    save"). The training split is what the instrument plays; a few held-out files score how
    well the prior guesses sounds it never heard, and a small split's minimum comes early
    and by chance. ``"lowest"`` keeps that minimum.
    """
    if keep not in ("final", "lowest"):
        raise TrainingOptionError(f"--prior-keep {keep!r}: expected 'final' or 'lowest'")
    return keep == "final" or lowest_bits is None or final_bits <= lowest_bits


_Config = TypeVar("_Config", CodecConfig, PriorConfig)

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _coerce(flag: str, key: str, value: Any, kind: type) -> Any:
    """``value`` as the type of the setting it overrides (``depth=false`` must be False, not
    the truthy text "false"), or a :class:`TrainingOptionError` naming what was expected."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        raise TrainingOptionError(f"{flag} {key}={value}: expected true or false")
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise TrainingOptionError(f"{flag} {key}={value}: expected a whole number")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TrainingOptionError(f"{flag} {key}={value}: expected a number")
        return float(value)
    if kind is str and not isinstance(value, str):
        return str(value)
    return value


def _coerce_setting(flag: str, base: Any, key: str, value: Any) -> Any:
    """:func:`_coerce` for setting ``key`` of ``base``; a setting that may be None (a
    ``float | None``, such as ``pitch_gate_db``) also takes ``none`` or ``off``."""
    kinds = typing.get_args(typing.get_type_hints(type(base))[key])  # () unless a union
    if type(None) in kinds:
        if str(value).strip().lower() in ("none", "off"):
            return None
        return _coerce(flag, key, value, next(k for k in kinds if k is not type(None)))
    return _coerce(flag, key, value, type(getattr(base, key)))


def with_overrides(base: _Config, overrides: dict[str, Any], flag: str) -> _Config:
    """``base`` with ``overrides`` applied and checked: an unknown key or a bad value is a
    :class:`TrainingOptionError` that names the flag (a typo must not be ignored)."""
    known = [f.name for f in dataclasses.fields(base)]
    for key in overrides:
        if key not in known:
            raise TrainingOptionError(
                f"{flag} {key}=...: unknown setting; expected one of {', '.join(known)}"
            )
    overrides = {k: _coerce_setting(flag, base, k, v) for k, v in overrides.items()}
    try:
        cfg = dataclasses.replace(base, **overrides)
        if isinstance(cfg, CodecConfig):
            cfg.validate()
    except (TypeError, ValueError) as exc:
        shown = " ".join(f"{k}={v}" for k, v in overrides.items())
        raise TrainingOptionError(f"{flag} {shown}: {exc}") from exc
    return cfg
