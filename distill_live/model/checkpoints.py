"""Training checkpoints: what a run holds, written to disk and read back to resume.

A checkpoint (``MODEL.distill.ckpt`` by default) is a ``torch.save`` of tensors and plain
types only, read with ``weights_only=True``: the codec and prior configs, the codec, prior and
discriminator weights, the optimisers' states, the progress (stage, steps and seconds spent
per stage, finished stages' results, whether the codec was cut to the prior's codebooks) and
the prior with the lowest held-out bits so far. It is written atomically (a temporary file,
then a rename). :func:`resume` checks that a checkpoint fits the options and loads it into a
:class:`TrainingRun`; :func:`restart_prior` turns one whose codec is trained into one whose
prior has not started.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import TrainingOptionError
from .codec import Codec, CodecConfig
from .losses import SpectrogramDiscriminator
from .pitched import PitchedCodec
from .prior import Prior, PriorConfig

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "CODING_SETTINGS",
    "DECODING_SETTINGS",
    "TrainingRun",
    "new_progress",
    "save_checkpoint",
    "load_checkpoint",
    "restart_prior",
    "resume",
]

CHECKPOINT_FORMAT = "distill_live-checkpoint"
CHECKPOINT_VERSION = 1

#: codec settings that change how audio becomes codes but no weight: ``--restart-prior`` may
#: change them, and the new prior learns the codes they give
CODING_SETTINGS = ("pitch_gate_db",)
#: codec settings that change no weight and no code (the residual's dither: a resumed
#: codec stage trains with the new amount): any resume may change them
DECODING_SETTINGS = ("residual_dither",)

STAGES = ("codec", "refine", "prior")


def new_progress() -> dict[str, Any]:
    """The progress of a run that has not started (a checkpoint's ``progress``)."""
    return {
        "stage": "codec",  # the stage running or next; "done" when every stage ran
        "steps": {s: 0 for s in STAGES},
        "spent": {s: 0.0 for s in STAGES},  # seconds, over every run that made the model
        "results": {},  # stage → what it returned (losses, history, ...)
        "codec_truncated": False,  # the codec was cut to the prior's codebooks
    }


@dataclass
class TrainingRun:
    """Everything a checkpoint holds, live, while training runs."""

    codec_config: CodecConfig  # as trained (before any cut to the prior's codebooks)
    prior_config: PriorConfig
    codec: Codec | PitchedCodec
    prior: Prior
    disc: SpectrogramDiscriminator | None  # the refine stage's discriminator
    progress: dict[str, Any] = field(default_factory=new_progress)
    # the lowest held-out prior so far: "state" (weights), "val_bits", "step"
    best: dict[str, Any] = field(default_factory=dict)
    # the running stage's optimisers (name → optimiser), saved with their current state
    optimizers: dict[str, torch.optim.Optimizer] = field(default_factory=dict)
    # optimiser states read from a checkpoint that no stage has taken up yet
    saved_optimizers: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        """The checkpoint's contents."""
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "codec_config": self.codec_config.to_dict(),
            "prior_config": dict(self.prior_config.__dict__),
            "codec": self.codec.state_dict(),
            "prior": self.prior.state_dict(),
            "disc": self.disc.state_dict() if self.disc is not None else {},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()}
            | {k: v for k, v in self.saved_optimizers.items() if k not in self.optimizers},
            "progress": self.progress,
            "best_prior": self.best.get("state", {}),
            "best_meta": {k: v for k, v in self.best.items() if k != "state"},
        }


def save_checkpoint(path: Path, run: TrainingRun) -> None:
    """Write ``run``'s checkpoint to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(run.state(), tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's contents, its format and version checked."""
    if not path.exists():
        raise FileNotFoundError(
            f"--resume: no checkpoint at {str(path)!r}; train without --resume to start afresh"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise TrainingOptionError(f"{str(path)!r} is not a distill_live training checkpoint")
    if state.get("version") != CHECKPOINT_VERSION:
        raise TrainingOptionError(
            f"checkpoint {str(path)!r} has version {state.get('version')}, this distill_live "
            f"reads version {CHECKPOINT_VERSION}; train without --resume"
        )
    return state


def restart_prior(ck: dict[str, Any], path: Path, prior_cfg: PriorConfig) -> None:
    """Turn a checkpoint whose codec is trained into one whose prior has not started (its
    prior weights, optimiser and best state are then left unread: see :func:`resume`)."""
    progress = ck["progress"]
    if progress["stage"] not in ("prior", "done"):
        raise TrainingOptionError(
            f"--restart-prior: the codec in {str(path)!r} is still training (stage "
            f"{progress['stage']!r}); resume without --restart-prior until it is done"
        )
    kept = ck["prior_config"]["n_codebooks"]
    if progress.get("codec_truncated") and prior_cfg.n_codebooks != kept:
        raise TrainingOptionError(
            f"--restart-prior: the codec in {str(path)!r} was already cut to the codes of "
            f"{kept} per frame; the prior must predict the same number, not "
            f"{prior_cfg.n_codebooks} (give the same --prior-codebooks)"
        )
    progress["stage"] = "prior"
    progress["steps"]["prior"] = 0
    progress["spent"]["prior"] = 0.0
    progress["results"].pop("prior", None)


def resume(run: TrainingRun, path: Path, *, restart: bool, k_prior: int) -> None:
    """Load the checkpoint at ``path`` into ``run`` (``restart``: train the prior afresh).

    The codec's settings must be the checkpoint's, but those of :data:`DECODING_SETTINGS`
    may change, and with ``restart`` those of :data:`CODING_SETTINGS`; the prior's may
    change as long as its training has not started (or with ``restart``). A codec already
    cut to the prior's ``k_prior`` codebooks is cut in ``run`` too before its weights load.
    """
    ck = load_checkpoint(path)
    if restart:
        restart_prior(ck, path, run.prior_config)
    prior_started = ck["progress"]["stage"] == "done" or ck["progress"]["steps"]["prior"] > 0
    same_prior = not restart and ck["prior_config"] == dict(run.prior_config.__dict__)
    # through from_dict: a setting added since the checkpoint was written takes its default
    was = CodecConfig.from_dict(ck["codec_config"]).to_dict()
    now = run.codec_config.to_dict()
    changed = sorted(k for k in now if was[k] != now[k])
    refused = [
        k for k in changed if k not in DECODING_SETTINGS and not (restart and k in CODING_SETTINGS)
    ]
    if refused:
        diff = ", ".join(f"{k} {was[k]!r} there, {now[k]!r} here" for k in refused)
        hint = "" if restart else f" (--restart-prior may change {', '.join(CODING_SETTINGS)})"
        raise TrainingOptionError(
            f"checkpoint {str(path)!r} was made with other codec settings ({diff}); resume "
            f"with the same --codec options{hint} or train without --resume"
        )
    if prior_started and not same_prior:
        raise TrainingOptionError(
            f"checkpoint {str(path)!r} was made with other prior settings and its prior has "
            "started; resume with the same --prior options, add --restart-prior to train a "
            "new prior on its codec, or train without --resume"
        )
    if ck["progress"].get("codec_truncated"):
        run.codec = run.codec.truncated(k_prior)
    run.codec.load_state_dict(ck["codec"])
    if same_prior:
        run.prior.load_state_dict(ck["prior"])
    if run.disc is not None and ck.get("disc"):
        run.disc.load_state_dict(ck["disc"])
    run.progress = ck["progress"]
    run.progress.setdefault("codec_truncated", False)
    run.saved_optimizers = ck.get("optimizers", {})
    if not same_prior:
        run.saved_optimizers.pop("prior", None)
    if ck.get("best_prior") and same_prior:
        run.best = {"state": ck["best_prior"], **ck.get("best_meta", {})}
