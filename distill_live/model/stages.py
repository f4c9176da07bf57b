"""The training stages: the codec, an optional adversarial refine of its decoder, the prior.

Each stage is one function of a :class:`RunContext` (options, device, processes, data,
progress bar, the :class:`~distill_live.model.checkpoints.TrainingRun` and where its
checkpoint goes) and the stage's :class:`Budget`; it trains until the budget runs out (rank
0 decides, every rank follows), writes a checkpoint every ``--checkpoint-minutes``, and
returns its results for the summary. Its optimisers are registered in the run so that a
checkpoint saves them, and start from the states a resumed checkpoint holds.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import TrainingOptionError
from .checkpoints import TrainingRun, save_checkpoint
from .data import AudioData
from .dataprep import (
    code_stream,
    codec_batch,
    is_tonal,
    noisy_context,
    pitch_tracks,
    pitched_codec_batch,
    prior_sequences,
    prior_variants,
    transposed,
)
from .distributed import Dist, agree, log, unwrap, wrap
from .losses import ReconstructionLoss, feature_matching_loss, hinge_d_loss, hinge_g_loss
from .metrics import codec_validation, unigram_bits_per_code
from .pitch import PitchTrack
from .pitched import PitchedCodec
from .train_options import TrainOptions

__all__ = [
    "Budget",
    "ProgressBar",
    "RunContext",
    "codec_stage",
    "refine_stage",
    "prior_stage",
    "STAGE_FUNCTIONS",
]


class Budget:
    """Ends a stage at its step budget or its share of the wall-clock budget; counts from
    the steps and seconds a resumed checkpoint had already spent."""

    def __init__(
        self,
        stage: str,
        steps: int | None,
        seconds: float | None,
        done_steps: int = 0,
        spent_s: float = 0.0,
    ) -> None:
        if steps is None and seconds is None:
            raise TrainingOptionError("a stage needs a step or a time budget")
        self.stage = stage
        self.steps = steps
        self.seconds = seconds
        self.step = done_steps
        self.spent_before = spent_s
        self.t0 = time.monotonic()

    @property
    def elapsed(self) -> float:
        return self.spent_before + time.monotonic() - self.t0

    def fraction(self) -> float:
        f = 0.0
        if self.steps is not None:
            f = max(f, self.step / max(self.steps, 1))
        if self.seconds is not None:
            f = max(f, self.elapsed / max(self.seconds, 1e-9))
        return min(f, 1.0)

    def done(self) -> bool:
        if self.steps is not None and self.step >= self.steps:
            return True
        return self.seconds is not None and self.elapsed >= self.seconds


def _lr_factor(step: int, fraction: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then a cosine from 1 to 0.1 over the budget."""
    warm = min(1.0, (step + 1) / warmup)
    return warm * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(fraction, 1.0))))


class ProgressBar:
    """A rich progress bar with the latest losses (rank 0 only; silent elsewhere)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[float, dict[str, float]], None]]:
        """A bar for stage ``name``; yields ``update(fraction, losses)``."""
        if not self.enabled:
            yield lambda fraction, losses: None
            return
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        progress = Progress(
            TextColumn("[bold]{task.description:<7}"),
            BarColumn(bar_width=30),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[losses]}"),
            transient=False,
        )
        task = progress.add_task(name, total=1000, losses="")

        def update(fraction: float, losses: dict[str, float]) -> None:
            text = " ".join(f"{k} {v:.3f}" for k, v in losses.items())
            progress.update(task, completed=int(1000 * fraction), losses=text)

        with progress:
            yield update
            progress.update(task, completed=1000)


@dataclass
class RunContext:
    """What every stage works with."""

    opts: TrainOptions
    device: torch.device
    dist: Dist
    data: AudioData
    progress: ProgressBar
    run: TrainingRun
    checkpoint_path: Path
    budget: Budget | None = None  # the running stage's
    _tracks: list[PitchTrack] | None = None

    def pitch_tracks(self) -> list[PitchTrack] | None:
        """The training clips' f0 tracks for a pitched codec (made on first use, then kept:
        the codec and prior stages share them); None for a codec without pitch."""
        if self._tracks is None and isinstance(self.run.codec, PitchedCodec):
            t0 = time.monotonic()
            self._tracks = pitch_tracks(self.run.codec, self.data.train)
            log(
                self.dist,
                f"pitch tracks of {len(self.data.train)} files "
                f"({self.run.codec.config.pitch_tracker}) in {time.monotonic() - t0:.0f} s",
            )
        return self._tracks

    def checkpoint(self) -> None:
        """Write the checkpoint now, the running stage's steps and seconds included (rank 0
        only; the other ranks return)."""
        if not self.dist.main:
            return
        b = self.budget
        if b is not None:
            self.run.progress["steps"][b.stage] = b.step
            self.run.progress["spent"][b.stage] = b.elapsed
        save_checkpoint(self.checkpoint_path, self.run)

    def optimizer(self, name: str, opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Register the running stage's optimiser ``name`` (checkpoints save it), loaded
        with the state a resumed checkpoint holds for it."""
        state = self.run.saved_optimizers.get(name)
        if state:
            opt.load_state_dict(state)
        self.run.optimizers[name] = opt
        return opt

    def rng(self, offset: int, budget: Budget) -> np.random.Generator:
        """The stage's random stream: per seed, rank and stage, and new after a resume."""
        return np.random.default_rng(
            self.opts.seed * 1000 + self.dist.rank + offset + 7919 * budget.step
        )

    def due(self, last: float, every_s: float) -> bool:
        return time.monotonic() - last > every_s


# ---------------------------------------------------------------------------- the codec
def codec_stage(ctx: RunContext, budget: Budget) -> dict[str, Any]:
    """Train the codec on augmented crops against the reconstruction loss."""
    opts, d, device = ctx.opts, ctx.dist, ctx.device
    codec = ctx.run.codec
    hop = codec.hop
    model = wrap(codec, d, device)
    model.train()
    opt = ctx.optimizer(
        "codec",
        torch.optim.AdamW(
            codec.parameters(), lr=opts.codec_lr, betas=(0.8, 0.99), weight_decay=0.0
        ),
    )
    loss_kw: dict[str, Any] = dict(opts.codec_loss)  # weights and the mel floor
    loss_fn = ReconstructionLoss(codec.sample_rate, **loss_kw).to(device)
    rng = ctx.rng(0, budget)
    length = opts.crop_frames * hop
    warmup = min(200, max(1, (budget.steps or 10**9) // 10))
    last_ckpt = last_val = time.monotonic()
    history: list[dict[str, Any]] = []
    ema: dict[str, float] = {}
    first_loss: float | None = None
    # a pitched codec's pitch codes come from f0 tracks made once per clip; with pitch shift
    # or mixing the crops are new audio, tracked as they come (slow with pYIN)
    augmented = opts.pitch_shift > 0 or opts.mix > 0
    tracks = None if augmented else ctx.pitch_tracks()
    # the harmonic terms' targets, read off the audio by a pitched codec's training pass
    harmonic_terms = isinstance(codec, PitchedCodec) and bool(
        loss_fn.harmonic_weight or loss_fn.harmonic_item_weight
    )
    with ctx.progress.stage("codec") as update:
        while True:
            stop, fraction = agree(d, budget.done(), budget.fraction(), device)
            if stop:
                break
            for g in opt.param_groups:
                g["lr"] = opts.codec_lr * _lr_factor(budget.step, fraction, warmup)
            if tracks is not None and isinstance(codec, PitchedCodec):
                x, pitch = pitched_codec_batch(
                    codec, ctx.data, tracks, opts.batch_size, length, rng, device
                )
                out = model(x, pitch=pitch, targets=harmonic_terms)
            else:
                x = codec_batch(
                    ctx.data, opts.batch_size, length, rng, device, opts.pitch_shift, opts.mix
                )  # (B, T)
                out = model(x, targets=True) if harmonic_terms else model(x)
            harmonics = None
            if harmonic_terms:
                # a pitched codec's training pass returns its amplitudes and their targets
                assert out.harmonics is not None and out.targets is not None
                harmonics = (out.harmonics, *out.targets)
            loss, parts = loss_fn(
                out.audio[:, hop:-hop], x[:, hop:-hop], out.commit_loss, harmonics
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(codec.parameters(), 1.0)
            opt.step()
            budget.step += 1
            if first_loss is None:
                first_loss = parts["loss"]
            ema = {k: 0.9 * ema.get(k, v) + 0.1 * v for k, v in parts.items()}
            update(budget.fraction(), {k: ema[k] for k in ("loss", "sc", "logmag", "mel")})
            if d.main and ctx.due(last_val, opts.validate_every_s):
                last_val = time.monotonic()
                val = codec_validation(codec, ctx.data.heldout, device, opts.prior_codebooks)
                val["step"] = budget.step
                history.append(val)
                log(
                    d,
                    f"codec step {budget.step} ({budget.elapsed / 60:.1f} min): held-out "
                    + ", ".join(f"{k} {v:.3f}" for k, v in val.items() if isinstance(v, float))
                    + f", usage {min(val['usage']):.0%}-{max(val['usage']):.0%}",
                )
            if ctx.due(last_ckpt, opts.checkpoint_minutes * 60):
                last_ckpt = time.monotonic()
                ctx.checkpoint()
    return {
        "first_loss": first_loss,
        "last_loss": ema.get("loss"),
        "train": ema,
        "history": history,
    }


# ---------------------------------------------------------------------------- refine
def refine_stage(ctx: RunContext, budget: Budget) -> dict[str, Any]:
    """Adversarial fine-tuning of the decoder; encoder and codebooks frozen."""
    opts, d, device = ctx.opts, ctx.dist, ctx.device
    codec, disc = ctx.run.codec, ctx.run.disc
    assert disc is not None, "the refine stage needs the run's discriminator"
    hop = codec.hop
    codec.encoder.requires_grad_(False)
    codec.quantizer.eval()  # no EMA updates: the codes stay what the prior will see
    dec = wrap(codec.decoder, d, device)
    dmodel = wrap(disc, d, device)
    betas = (0.8, 0.99)
    opt_g = ctx.optimizer(
        "refine_g",
        torch.optim.AdamW(codec.decoder.parameters(), lr=opts.codec_lr * 0.5, betas=betas),
    )
    opt_d = ctx.optimizer(
        "refine_d", torch.optim.AdamW(disc.parameters(), lr=opts.codec_lr * 0.5, betas=betas)
    )
    loss_fn = ReconstructionLoss(codec.sample_rate).to(device)
    rng = ctx.rng(104729, budget)
    length = opts.crop_frames * hop
    last_ckpt = time.monotonic()
    ema: dict[str, float] = {}
    with ctx.progress.stage("refine") as update:
        while True:
            stop, _ = agree(d, budget.done(), budget.fraction(), device)
            if stop:
                break
            x = codec_batch(
                ctx.data, opts.batch_size, length, rng, device, opts.pitch_shift, opts.mix
            )  # (B, T)
            with torch.no_grad():
                zq = codec.codes_to_embeddings(codec.encode(x))  # (B, D, F)
            y = dec(zq)[:, hop:-hop]
            x = x[:, hop:-hop]
            # discriminator
            d_loss = hinge_d_loss(dmodel(x), dmodel(y.detach()))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            # generator
            real, fake = dmodel(x), dmodel(y)
            rec, parts = loss_fn(y, x, torch.zeros((), device=device))
            g_adv = hinge_g_loss(fake)
            fm = feature_matching_loss(real, fake)
            g_loss = rec + 0.5 * g_adv + fm
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            torch.nn.utils.clip_grad_norm_(codec.decoder.parameters(), 1.0)
            opt_g.step()
            budget.step += 1
            parts.update(d=float(d_loss.detach()), g=float(g_adv.detach()), fm=float(fm.detach()))
            ema = {k: 0.9 * ema.get(k, v) + 0.1 * v for k, v in parts.items()}
            update(budget.fraction(), {k: ema[k] for k in ("sc", "mel", "d", "g", "fm")})
            if ctx.due(last_ckpt, opts.checkpoint_minutes * 60):
                last_ckpt = time.monotonic()
                ctx.checkpoint()
    codec.encoder.requires_grad_(True)
    return {"train": ema}


# ---------------------------------------------------------------------------- the prior
def _validation_batch(held: np.ndarray, frames: int, device: torch.device) -> Tensor:
    """Held-out codes (K, N) cut into (N // frames, K, frames), or (1, K, N) when shorter."""
    held_t = torch.from_numpy(held).long()
    n_val = max(1, held_t.shape[1] // frames)
    if held_t.shape[1] >= frames:
        return torch.stack([held_t[:, i * frames : (i + 1) * frames] for i in range(n_val)]).to(
            device
        )
    return held_t[None].to(device)


def _val_bits(prior: nn.Module, batch: Tensor, v: int) -> float:
    """Held-out bits per code of ``batch`` (B, K, T) (the prior left in training mode)."""
    prior.eval()
    with torch.no_grad():
        logits = unwrap(prior)(batch)  # (B, K, T, V)
        nll = F.cross_entropy(logits.reshape(-1, v), batch.reshape(-1))
    prior.train()
    return float(nll) / math.log(2)


def prior_stage(ctx: RunContext, budget: Budget) -> dict[str, Any]:
    """Train the prior on the codec's codes of the training audio (4 views, long silences
    shortened); validate on the held-out codes and keep the lowest-scoring weights in the
    run's ``best``."""
    opts, d, device = ctx.opts, ctx.dist, ctx.device
    prior, codec, best = ctx.run.prior, ctx.run.codec, ctx.run.best
    v = codec.codebook_size
    train_seqs = prior_sequences(
        codec,
        ctx.data.train,
        device,
        opts.max_silence_frames,
        prior_variants(codec.config),
        ctx.pitch_tracks(),
        opts.prior_varispeed,
    )
    held_seqs = prior_sequences(
        codec,
        ctx.data.heldout,
        device,
        opts.max_silence_frames,
        tracks=pitch_tracks(codec, ctx.data.heldout),
    )
    # the unigram baseline is fitted on the views at the clips' own speed, as eval's is
    n_views = len(prior_variants(codec.config))
    if opts.prior_transpose:
        assert isinstance(codec, PitchedCodec), "train() checks --prior-transpose's codec"
        shifts = [x for s in opts.prior_transpose for x in (s, -s)]
        tonal = [per for per in train_seqs if is_tonal(per[0])]
        for per in tonal:
            per += [transposed(c, x, codec.grid) for x in shifts for c in per[:n_views]]
        log(d, f"prior: {len(tonal)} of {len(train_seqs)} clips transposed (mostly pitched)")
    train_all = np.concatenate([s for per in train_seqs for s in per[:n_views]], axis=1)  # (K, N)
    held_all = np.concatenate([per[0] for per in held_seqs], axis=1)  # (K, M)
    unigram = unigram_bits_per_code([torch.from_numpy(train_all)], [torch.from_numpy(held_all)], v)
    t = opts.prior_frames
    val_batch = _validation_batch(held_all, t, device)
    model = wrap(prior, d, device)
    model.train()
    opt = ctx.optimizer(
        "prior",
        torch.optim.AdamW(
            prior.parameters(), lr=opts.prior_lr, betas=(0.9, 0.95), weight_decay=0.05
        ),
    )
    rng = ctx.rng(31, budget)
    stream = code_stream(train_seqs, rng, t + 1, n_views, opts.prior_own_share)  # (K, N')
    warmup = min(100, max(1, (budget.steps or 10**9) // 10))
    last_ckpt = time.monotonic()
    last_val = 0.0
    ema: dict[str, float] = {}
    first_loss: float | None = None
    history: list[dict[str, float]] = []
    with ctx.progress.stage("prior") as update:
        while True:
            stop, fraction = agree(d, budget.done(), budget.fraction(), device)
            if stop:
                break
            for g in opt.param_groups:
                g["lr"] = opts.prior_lr * _lr_factor(budget.step, fraction, warmup)
            if budget.step % 50 == 0:
                stream = code_stream(train_seqs, rng, t + 1, n_views, opts.prior_own_share)
            starts = rng.integers(0, stream.shape[1] - t + 1, opts.prior_batch_size)
            batch = (
                torch.from_numpy(np.stack([stream[:, s : s + t] for s in starts])).long().to(device)
            )  # (B, K, T)
            inputs = noisy_context(batch, opts.prior_input_noise, v)
            logits = model(inputs)  # (B, K, T, V): frame t from the (noisy) frames before it
            loss = F.cross_entropy(logits.reshape(-1, v), batch.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(prior.parameters(), 1.0)
            opt.step()
            budget.step += 1
            bits = float(loss.detach()) / math.log(2)
            if first_loss is None:
                first_loss = bits
            ema["bits"] = 0.9 * ema.get("bits", bits) + 0.1 * bits
            if d.main and (ctx.due(last_val, min(opts.validate_every_s, 30.0)) or budget.done()):
                last_val = time.monotonic()
                vb = _val_bits(prior, val_batch, v)
                ema["val_bits"] = vb
                history.append(
                    {
                        "step": budget.step,
                        "val_bits": round(vb, 4),
                        "train_bits": round(ema["bits"], 4),
                    }
                )
                log(
                    d,
                    f"prior step {budget.step} ({budget.elapsed / 60:.1f} min): train "
                    f"{ema['bits']:.3f} bits/code, held-out {vb:.3f} (unigram {unigram:.3f})",
                )
                if vb < best.get("val_bits", float("inf")):
                    best.update(
                        val_bits=vb,
                        step=budget.step,
                        state=copy.deepcopy(unwrap(prior).state_dict()),
                    )
            update(
                budget.fraction(),
                {"bits": ema["bits"], "val": ema.get("val_bits", float("nan")), "unigram": unigram},
            )
            if ctx.due(last_ckpt, opts.checkpoint_minutes * 60):
                last_ckpt = time.monotonic()
                ctx.checkpoint()
    final_val = _val_bits(prior, val_batch, v) if d.main else float("nan")
    if d.main and final_val < best.get("val_bits", float("inf")):
        best.update(
            val_bits=final_val, step=budget.step, state=copy.deepcopy(unwrap(prior).state_dict())
        )
    return {
        "first_bits": first_loss,
        "last_bits": ema.get("bits"),
        "final_val_bits": final_val,
        "unigram_bits": unigram,
        "train_frames": sum(int(s.shape[1]) for per in train_seqs for s in per),
        "heldout_frames": int(held_all.shape[1]),
        "history": history,
    }


#: stage name → its function, in the order the stages run
STAGE_FUNCTIONS: dict[str, Callable[[RunContext, Budget], dict[str, Any]]] = {
    "codec": codec_stage,
    "refine": refine_stage,
    "prior": prior_stage,
}
