"""Training: the codec first, then (optionally) an adversarial refine of its decoder, then the
prior over the codec's codes.

:func:`train` orchestrates: it checks the options (:mod:`.train_options`), sets up the
device and processes (:mod:`.distributed`), loads the audio, builds or resumes the run
(:mod:`.checkpoints`), runs the stages (:mod:`.stages`, on data from :mod:`.dataprep`) and
saves the model with its training summary. The budget is ``minutes`` (split between the
stages by ``codec_share`` and ``refine_share``) and/or ``steps``; whichever runs out first
ends a stage. A checkpoint is written every ``checkpoint_minutes`` and at the end of each
stage; ``resume`` continues from it (steps, elapsed time, models and optimisers restored),
and with ``restart_prior`` keeps its trained codec and trains a new prior (whose settings
may differ). Under ``torchrun`` rank 0 decides when a stage ends and writes checkpoints and
the model file. The command line is :mod:`distill_live.commands.train`.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from ..errors import TrainingDataError, TrainingOptionError
from .checkpoints import STAGES, TrainingRun, resume
from .codec import CodecConfig
from .data import AudioData, load_dataset
from .distill import DistillModel
from .distributed import Dist, init_distributed, log, resolve_device
from .files import load_model, save_model
from .keymap import KEY_GOOD, key_quality
from .losses import SpectrogramDiscriminator
from .metrics import heldout_codec_figures
from .pitched import build_codec
from .prior import Prior, PriorConfig
from .stages import STAGE_FUNCTIONS, Budget, ProgressBar, RunContext
from .steering import has_pitch
from .train_options import TrainOptions, check_options, keep_final_prior, with_overrides

__all__ = ["TrainOptions", "train", "keep_final_prior"]


def train(
    data_dir: Path | str, out: Path | str, options: TrainOptions | None = None, **kw: Any
) -> dict[str, Any]:
    """Train a codec and a prior on the audio under ``data_dir``; save the model to ``out``.

    Options come from ``options`` and/or keyword arguments named like :class:`TrainOptions`'
    fields. Returns the training summary (also stored in the model file's header; empty on
    ranks other than 0).
    """
    opts = copy.deepcopy(options) if options is not None else TrainOptions()
    for k, val in kw.items():
        if not hasattr(opts, k):
            raise TypeError(f"train() got an unknown option {k!r}")
        setattr(opts, k, val)
    check_options(opts)
    device, d = _set_up(opts)
    out = Path(out)
    ckpt_path = Path(opts.checkpoint) if opts.checkpoint else out.with_name(out.name + ".ckpt")
    t_start = time.monotonic()
    codec_cfg, prior_cfg, k_prior = _configs(opts)
    if opts.prior_transpose and not codec_cfg.pitch:
        raise TrainingOptionError(
            "--prior-transpose moves pitch codes: it needs a pitched codec (train's default; "
            "not --tiny or --codec pitch=false)"
        )
    # options are all checked: now the audio
    data = load_dataset(data_dir, codec_cfg.sample_rate, opts.heldout, opts.min_seconds)
    if data.seconds("train") * codec_cfg.sample_rate < opts.crop_frames * codec_cfg.hop:
        raise TrainingDataError(
            f"too little training audio in {str(data_dir)!r}: {data.seconds('train'):.1f} s "
            f"after holding out validation audio; add audio"
        )
    run = TrainingRun(
        codec_config=codec_cfg,
        prior_config=prior_cfg,
        codec=build_codec(codec_cfg).to(device),
        prior=Prior(prior_cfg).to(device),
        disc=SpectrogramDiscriminator().to(device) if opts.refine else None,
    )
    if opts.resume:
        resume(run, ckpt_path, restart=opts.restart_prior, k_prior=k_prior)
        log(d, f"resuming at stage {run.progress['stage']}, steps {run.progress['steps']}")
    ctx = RunContext(
        opts=opts,
        device=device,
        dist=d,
        data=data,
        progress=ProgressBar(opts.progress and d.main),
        run=run,
        checkpoint_path=ckpt_path,
    )
    log(
        d,
        f"training on {data.seconds('train'):.1f} s ({len(data.train)} files), "
        f"held out {data.seconds('heldout'):.1f} s ({len(data.heldout)} files); "
        f"{d.world} process(es) on {device}",
    )
    _run_stages(ctx, k_prior)
    summary: dict[str, Any] = {}
    if d.main:
        summary = _finish(ctx, data_dir, time.monotonic() - t_start)
        model = DistillModel(run.codec.cpu().eval(), run.prior.cpu().eval())
        out.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, out, summary, half=opts.half)
        if has_pitch(model.codec):
            # the keyboard's key table (model/keymap.py), measured on the model as it was
            # saved (half precision rounds the weights), then saved with it
            t_keys = time.monotonic()
            saved = load_model(out)
            summary["key_quality"] = table = key_quality(saved)
            save_model(saved, out, summary, half=opts.half)
            good = sum(q >= KEY_GOOD for q in table["quality"])
            log(
                d,
                f"key table: {good} of {len(table['quality'])} keys held at {KEY_GOOD} or better "
                f"({time.monotonic() - t_keys:.0f} s)",
            )
        log(d, f"saved {out}")
    if d.active:
        dist.barrier()
        dist.destroy_process_group()
    return summary


def _set_up(opts: TrainOptions) -> tuple[torch.device, Dist]:
    """The device, this process's rank, torch's threads and seed."""
    device = resolve_device(opts.device)
    d = init_distributed(device)
    if device.type == "cuda" and d.active:
        device = torch.device("cuda", d.local_rank)
        torch.cuda.set_device(device)
    if opts.threads:
        torch.set_num_threads(opts.threads)
    elif device.type == "cpu":
        torch.set_num_threads(
            max(1, min(torch.get_num_threads(), (os.cpu_count() or 1) // d.world))
        )
    torch.manual_seed(opts.seed + d.rank)
    return device, d


def _configs(opts: TrainOptions) -> tuple[CodecConfig, PriorConfig, int]:
    """The codec's and the prior's configs with the overrides, and the codebooks kept."""
    codec_cfg = with_overrides(
        CodecConfig.tiny() if opts.tiny else CodecConfig.pitched(), opts.codec_overrides, "--codec"
    )
    k_prior = opts.prior_codebooks or codec_cfg.n_codebooks
    if not 1 <= k_prior <= codec_cfg.n_codebooks:
        raise TrainingOptionError(
            f"--prior-codebooks must be between 1 and the codec's {codec_cfg.n_codebooks} "
            f"codebooks, got {opts.prior_codebooks}"
        )
    # with pack P the prior predicts the P sub-frames' codes of each kept codebook
    prior_kw: dict[str, Any] = dict(
        n_codebooks=k_prior * codec_cfg.pack, codebook_size=codec_cfg.codebook_size
    )
    if codec_cfg.pitch and k_prior < 2:
        raise TrainingOptionError(
            f"--prior-codebooks must keep the pitch and at least one residual codebook "
            f"(>= 2) for a pitched codec, got {opts.prior_codebooks}"
        )
    base = PriorConfig.tiny(**prior_kw) if opts.tiny else PriorConfig(**prior_kw)
    if codec_cfg.pitch:
        # a frame's pitch and timbre must agree: draw the pitch code first and the others
        # conditioned on it (the depth stage), not from independent heads
        base = dataclasses.replace(base, depth=True)
    prior_cfg = with_overrides(base, opts.prior_overrides, "--prior")
    return codec_cfg, prior_cfg, k_prior


def _stage_budgets(opts: TrainOptions) -> dict[str, tuple[int | None, float | None]]:
    """(steps, seconds) for each stage; seconds is the stage's share of --minutes."""
    total_s = None if opts.minutes is None else opts.minutes * 60
    codec_s = refine_s = prior_s = None
    if total_s is not None:
        codec_all = total_s * opts.codec_share
        refine_s = codec_all * opts.refine_share if opts.refine else 0.0
        codec_s = codec_all - (refine_s or 0.0)
        prior_s = total_s - codec_all

    def pick(specific: int | None) -> int | None:
        return specific if specific is not None else opts.steps

    return {
        "codec": (pick(opts.codec_steps), codec_s),
        "refine": (pick(opts.refine_steps), refine_s) if opts.refine else (0, None),
        "prior": (pick(opts.prior_steps), prior_s),
    }


def _run_stages(ctx: RunContext, k_prior: int) -> None:
    """Run the stages from the one the run's progress names; checkpoint after each."""
    run, d, st = ctx.run, ctx.dist, ctx.run.progress
    budgets = _stage_budgets(ctx.opts)
    start = STAGES.index(st["stage"]) if st["stage"] in STAGES else len(STAGES)
    if start == len(STAGES):
        log(d, "the checkpoint's training was complete: writing the model again")
    for stage in STAGES[start:]:
        steps, seconds = budgets[stage]
        if stage == "refine" and not ctx.opts.refine:
            continue
        if stage == "prior" and run.codec.config.n_codebooks > k_prior:
            # quantiser dropout trained every prefix of the codebooks to decode on its own:
            # keep the first k_prior, the ones that carry structure the prior can learn
            run.codec = run.codec.truncated(k_prior).to(ctx.device)
            st["codec_truncated"] = True
            log(d, f"keeping the first {k_prior} of {run.codec_config.n_codebooks} codebooks")
        st["stage"] = stage
        b = Budget(stage, steps, seconds, st["steps"][stage], st["spent"][stage])
        ctx.budget = b
        try:
            res = STAGE_FUNCTIONS[stage](ctx, b)
        except KeyboardInterrupt:
            ctx.checkpoint()
            log(
                d,
                f"interrupted: checkpoint written to {ctx.checkpoint_path}; continue with --resume",
            )
            raise
        res["steps"] = b.step
        res["seconds"] = round(b.elapsed, 1)
        st["results"][stage] = res
        log(d, f"{stage}: {b.step} steps in {b.elapsed / 60:.1f} min")
        # stage finished: the next stage starts from its own fresh budget
        nxt = STAGES.index(stage) + 1
        st["stage"] = STAGES[nxt] if nxt < len(STAGES) else "done"
        ctx.checkpoint()
        run.optimizers.clear()
        run.saved_optimizers.pop(stage, None)


def _finish(ctx: RunContext, data_dir: Path | str, wall_s: float) -> dict[str, Any]:
    """Choose the prior weights to save, measure the held-out audio, and the summary."""
    run, opts, data = ctx.run, ctx.opts, ctx.data
    results = run.progress["results"]
    best = run.best
    # the prior holds its final weights (also after --resume of a complete run, so the
    # choice can be made again); best holds the lowest-held-out ones
    final_bits = results.get("prior", {}).get("final_val_bits")
    keep_final = final_bits is None or keep_final_prior(
        opts.prior_keep, final_bits, best.get("val_bits")
    )
    if not keep_final and best.get("state"):
        run.prior.load_state_dict(best["state"])
    # the figures eval reports for the same audio (distill_live.model.metrics)
    heldout_codec, heldout_refs = heldout_codec_figures(run.codec, data.heldout)
    return {
        **_data_summary(data, data_dir),
        "codec_steps": run.progress["steps"]["codec"]
        if "codec" not in results
        else results["codec"]["steps"],
        "refine_steps": results.get("refine", {}).get("steps", 0),
        "prior_steps": results.get("prior", {}).get("steps", 0),
        # the step whose weights were saved
        "prior_best_step": results.get("prior", {}).get("steps", 0)
        if keep_final
        else best.get("step"),
        "prior_lowest_heldout_step": best.get("step"),
        "prior_lowest_heldout_bits": best.get("val_bits"),
        "stage_seconds": {k: r.get("seconds") for k, r in results.items()},
        # this command's time; stage_seconds count every run that made the model (with
        # --resume they differ: a resumed run's wall time counts only its own minutes)
        "wall_seconds": round(wall_s, 1),
        "codec_first_loss": results.get("codec", {}).get("first_loss"),
        "codec_last_loss": results.get("codec", {}).get("last_loss"),
        "prior_first_bits": results.get("prior", {}).get("first_bits"),
        "prior_last_bits": results.get("prior", {}).get("last_bits"),
        "heldout_codec": heldout_codec,
        "heldout_references": heldout_refs,
        "heldout_prior_bits": final_bits if keep_final else best.get("val_bits"),
        "heldout_unigram_bits": results.get("prior", {}).get("unigram_bits"),
        "max_silence_frames": opts.max_silence_frames,
        "codec_codebooks_trained": run.codec_config.n_codebooks,
        "codebooks_kept": run.codec.config.n_codebooks,
        "world_size": ctx.dist.world,
        "device": str(ctx.device),
        "torch": torch.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "options": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in opts.__dict__.items()
            if k not in ("progress",)
        },
    }


def _data_summary(data: AudioData, data_dir: Path | str) -> dict[str, Any]:
    return {
        "data_dir": str(Path(data_dir).resolve()),
        "data_files": len(data.train) + len(data.heldout),
        "data_seconds": round(data.seconds("train") + data.seconds("heldout"), 2),
        "train_seconds": round(data.seconds("train"), 2),
        "heldout_seconds": round(data.seconds("heldout"), 2),
        "heldout_files": [c.name for c in data.heldout],
        "skipped_files": len(data.skipped),
    }
