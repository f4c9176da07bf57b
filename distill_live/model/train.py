"""Training: the codec first, then (optionally) an adversarial refine of its decoder, then the
prior over the codec's codes.

``distill-live train DATA_DIR --out MODEL.distill`` calls :func:`cmd_train`, which calls
:func:`train`. The budget is ``--minutes`` (split between the stages by ``--codec-share`` and
``--refine-share``) and/or ``--steps``; whichever runs out first ends a stage. A checkpoint is
written every ``--checkpoint-minutes`` and at the end of each stage; ``--resume`` continues
from it (steps, elapsed time, models and optimisers restored), and with ``--restart-prior``
keeps its trained codec and trains a new prior (whose settings may differ). Under
``torchrun`` the stages run with DistributedDataParallel (gloo on the CPU, nccl on CUDA);
rank 0 decides when a stage ends and writes checkpoints and the model file.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import TrainingDataError, TrainingOptionError
from .codec import Codec, CodecConfig
from .data import AudioData, Clip, crop_to_frames, frame_rms, load_dataset, random_crops
from .losses import (
    ReconstructionLoss,
    SpectrogramDiscriminator,
    feature_matching_loss,
    hinge_d_loss,
    hinge_g_loss,
)
from .prior import PriorConfig

__all__ = [
    "TrainOptions",
    "add_train_arguments",
    "cmd_train",
    "train",
    "prior_sequences",
    "keep_final_prior",
    "noisy_context",
    "codec_validation",
]

CHECKPOINT_FORMAT = "distill_live-checkpoint"
CHECKPOINT_VERSION = 1


@dataclass
class TrainOptions:
    """Every knob of :func:`train`; the CLI flags map onto these one to one."""

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
    # which prior weights are saved: "final" (the end of the schedule) or "lowest" (the
    # validated state with the lowest held-out bits/code; see keep_final_prior)
    prior_keep: str = "final"
    # reporting
    progress: bool = True
    validate_every_s: float = 300.0
    threads: int | None = None
    half: bool = False  # store the model file's tensors as float16


# ---------------------------------------------------------------------------- distributed
@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def _init_distributed(device: torch.device) -> _Dist:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist()
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return _Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def _agree(d: _Dist, stop: bool, fraction: float, device: torch.device) -> tuple[bool, float]:
    """Rank 0's decision (stop?, budget fraction used) for every rank."""
    if not d.active:
        return stop, fraction
    t = torch.tensor([float(stop), fraction], dtype=torch.float64, device=device)
    dist.broadcast(t, src=0)
    return bool(t[0] > 0.5), float(t[1])


def _unwrap(m: nn.Module) -> nn.Module:
    return m.module if isinstance(m, nn.parallel.DistributedDataParallel) else m


def _wrap(m: nn.Module, d: _Dist, device: torch.device) -> nn.Module:
    if not d.active:
        return m
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(m, device_ids=ids)


# ---------------------------------------------------------------------------- budget
class _Budget:
    """Ends a stage at its step budget or its share of the wall-clock budget."""

    def __init__(self, steps: int | None, seconds: float | None, done_steps: int, spent_s: float):
        if steps is None and seconds is None:
            raise TrainingOptionError("a stage needs a step or a time budget")
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
    warm = min(1.0, (step + 1) / warmup)
    return warm * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(fraction, 1.0))))


# ---------------------------------------------------------------------------- progress
class _Progress:
    """A rich progress bar with the latest losses (rank 0 only; silent elsewhere)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[float, dict[str, float]], None]]:
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


def _log(d: _Dist, message: str) -> None:
    if d.main:
        print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- checkpoints
def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _load_checkpoint(path: Path) -> dict[str, Any]:
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


# ---------------------------------------------------------------------------- validation
def _validation_crops(clips: list[Clip], hop: int, frames: int, limit: int = 48) -> Tensor:
    """Held-out audio cut into (N, frames * hop) segments, silent ones dropped."""
    n = frames * hop
    segs = []
    for clip in clips:
        a = clip.audio
        for start in range(0, max(len(a) - n // 4, 1), n):
            seg = np.zeros(n, dtype=np.float32)
            part = a[start : start + n]
            seg[: len(part)] = part
            if np.sqrt(np.mean(seg**2)) > 1e-3:
                segs.append(seg)
    if not segs:
        segs = [np.zeros(n, dtype=np.float32)]
    if len(segs) > limit:
        idx = np.linspace(0, len(segs) - 1, limit).round().astype(int)
        segs = [segs[i] for i in idx]
    return torch.from_numpy(np.stack(segs))


@torch.no_grad()
def codec_validation(
    codec: Codec, clips: list[Clip], device: torch.device, keep: int | None = None
) -> dict[str, Any]:
    """Held-out reconstruction metrics (sc, logmag, mel) and codebook usage per codebook.

    With ``keep`` (fewer than the codec's codebooks: the ones the prior will model) the
    reconstruction metrics are also given from those codebooks alone as ``kept_sc`` etc.:
    the decoder the shipped model plays through, and what ``eval`` measures.
    """
    was_training = codec.training
    codec.eval()
    hop = codec.hop
    crops = _validation_crops(clips, hop, 48, limit=24)
    loss = ReconstructionLoss(codec.sample_rate).to(device)
    n_cb = codec.config.n_codebooks
    variants = {"": n_cb}
    if keep is not None and keep < n_cb:
        variants["kept_"] = keep
    sums: dict[str, float] = {}
    for i in range(0, len(crops), 8):
        x = crops[i : i + 8].to(device)
        codes = codec.encode(x)  # (B, K * pack, F), codebook-major
        for prefix, k_use in variants.items():
            emb = codec.codes_to_embeddings(codes[:, : k_use * codec.pack])
            y = codec.decode(emb)
            _, parts = loss(y[:, hop:-hop], x[:, hop:-hop], torch.zeros((), device=device))
            for k, v in parts.items():
                if k != "commit" and (not prefix or k in ("sc", "logmag", "mel")):
                    sums[prefix + k] = sums.get(prefix + k, 0.0) + v * len(x)
    metrics: dict[str, Any] = {k: v / len(crops) for k, v in sums.items()}
    used = torch.zeros(codec.n_codebooks, codec.codebook_size, dtype=torch.bool)
    for clip in clips:
        a = torch.from_numpy(crop_to_frames(clip.audio, hop))[None].to(device)
        codes = codec.encode(a)[0].cpu()  # (K, F)
        for k in range(codec.n_codebooks):
            used[k, codes[k]] = True
    metrics["usage"] = [round(float(u), 4) for u in used.float().mean(1)]
    codec.train(was_training)
    return metrics


def reference_metrics(clips: list[Clip], sample_rate: int, hop: int) -> dict[str, float]:
    """The same metrics for a 4 kHz low-pass and a random-phase copy of the held-out audio."""
    from scipy.signal import butter, sosfiltfilt

    crops = _validation_crops(clips, hop, 48)
    loss = ReconstructionLoss(sample_rate)
    sos = butter(8, 4000, btype="low", fs=sample_rate, output="sos")
    low = torch.from_numpy(sosfiltfilt(sos, crops.numpy(), axis=1).astype(np.float32))
    n_fft = 2048
    win = torch.hann_window(n_fft)
    spec = torch.stft(crops, n_fft, n_fft // 4, window=win, return_complex=True)
    g = torch.Generator().manual_seed(0)
    phase = torch.rand(spec.shape, generator=g) * 2 * math.pi
    rand = torch.istft(
        torch.polar(spec.abs(), phase), n_fft, n_fft // 4, window=win, length=crops.shape[1]
    )
    out: dict[str, float] = {}
    zero = torch.zeros(())
    for name, y in (("lowpass4k", low), ("random_phase", rand)):
        _, parts = loss(y[:, hop:-hop], crops[:, hop:-hop], zero)
        out.update(
            {f"{name}_{k}": round(v, 4) for k, v in parts.items() if k in ("sc", "logmag", "mel")}
        )
    return out


# ---------------------------------------------------------------------------- prior data
def _limit_silence(codes: np.ndarray, rms: np.ndarray, max_silence: int) -> np.ndarray:
    """Drop silent frames (RMS < -60 dBFS) beyond ``max_silence`` in a row: (K, F) → (K, F').

    Datasets of one-shots hold gaps between sounds; left in, long runs of silence codes make
    "stay silent" the prior's most likely continuation, and low temperatures fall silent.
    ``distill-live eval`` shortens silences the same way before measuring bits per code.
    """
    silent = rms < 10 ** (-60 / 20)
    keep = np.ones(len(silent), dtype=bool)
    run = 0
    for i, s in enumerate(silent):
        run = run + 1 if s else 0
        if run > max_silence:
            keep[i] = False
    return codes[:, keep]


def _prior_variants(cfg: CodecConfig) -> tuple[tuple[float, int], ...]:
    """(gain dB, sample shift) views of the training audio for the prior.

    The shifts are fractions of the networks' hop (``hop // pack``), so each view codes
    different waveform phases; with ``pack`` > 1 they also move by whole sub-frames, so each
    view packs the sub-frames into code frames differently. The earlier views (shifts of
    hop/4, hop/2, 3 hop/4, the same for pack 1) are whole sub-frames at pack 4: the same codes
    regrouped. With these, a pack-4 prior on the sonic-pi samples (same codec, 12 min) went
    from 5.65 to 5.60 held-out bits/code; the Fréchet MFCC distance of its generated audio
    (median over seeds 0-5) went from 360 to 125, but that figure spreads from 34 to 680
    across seeds and between runs (125-386), so read it as noise-limited.
    """
    inner = cfg.hop // cfg.pack
    views = ((0.0, 0.0, 0), (-6.0, 0.5, 2), (-3.0, 0.25, 1), (0.0, 0.75, 3))
    return tuple((g, int(f * inner) + (m % cfg.pack) * inner) for g, f, m in views)


@torch.no_grad()
def prior_sequences(
    codec: Codec,
    clips: list[Clip],
    device: torch.device,
    max_silence: int,
    variants: tuple[tuple[float, int], ...] = ((0.0, 0),),
) -> list[list[np.ndarray]]:
    """Codes of every clip under each (gain dB, sample shift) variant, long silences cut.

    Returns, per clip, a list of (K, F) int64 arrays (one per variant).
    """
    codec.eval()
    hop = codec.hop
    out: list[list[np.ndarray]] = []
    for clip in clips:
        per: list[np.ndarray] = []
        for gain_db, shift in variants:
            a = np.concatenate([np.zeros(shift, np.float32), clip.audio]) * 10 ** (gain_db / 20)
            a = crop_to_frames(a.astype(np.float32), hop)
            codes = codec.encode(torch.from_numpy(a)[None].to(device))[0].cpu().numpy()
            per.append(_limit_silence(codes, frame_rms(a, hop), max_silence))
        out.append(per)
    return out


def _stream(seqs: list[list[np.ndarray]], rng: np.random.Generator, min_len: int) -> np.ndarray:
    """All clips once, in random order, each in a random variant, concatenated: (K, N)."""
    order = rng.permutation(len(seqs))
    parts = [seqs[i][int(rng.integers(len(seqs[i])))] for i in order]
    stream = np.concatenate(parts, axis=1)
    while stream.shape[1] < min_len:
        stream = np.concatenate([stream, stream], axis=1)
    return stream


def noisy_context(
    codes: Tensor, p: float, codebook_size: int, generator: torch.Generator | None = None
) -> Tensor:
    """``codes`` (any shape, long) with each code replaced, with probability ``p``, by a
    uniformly random one (which may be the same code). The prior reads this as its context
    and still predicts the clean codes: it learns to continue from contexts with mistakes in
    them, as its own samples will have, and cannot simply recall a memorised sequence.
    """
    if p <= 0.0:
        return codes
    hit = torch.rand(codes.shape, generator=generator, device=codes.device) < p
    other = torch.randint(
        codebook_size, codes.shape, generator=generator, device=codes.device, dtype=codes.dtype
    )
    return torch.where(hit, other, codes)


def keep_final_prior(keep: str, final_bits: float, lowest_bits: float | None) -> bool:
    """Whether training saves the prior's final weights (True) or the earlier ones that
    scored ``lowest_bits`` held-out bits/code (False), for ``--prior-keep`` ``keep``.

    ``"final"`` is the default because early stopping on held-out bits kept priors that
    loop on one sound. Measured on the sonic-pi samples (first_smooth=13 codecs, Fréchet
    MFCC median of 36 seeds of 30 s, ``eval --repeats 36 --seed 100``; real 30 s excerpts
    score 67.8): parallel heads, lowest held-out bits at step 383 of 1275, 191.6 from step
    383 and 128.7 from the final weights; a depth prior, 790 steps, 121.0 from step 775 and
    98.9 from the final ones. (Medians of only 12 seeds moved by 2x between those two
    nearly equal depth priors: too noisy to rank priors.) The training split is what the
    instrument plays; a few held-out files score how well the prior guesses sounds it
    never heard, and a small split's minimum comes early and by chance. ``"lowest"``
    keeps that minimum.
    """
    if keep not in ("final", "lowest"):
        raise TrainingOptionError(f"--prior-keep {keep!r}: expected 'final' or 'lowest'")
    return keep == "final" or lowest_bits is None or final_bits <= lowest_bits


def _unigram_bits(train: np.ndarray, held: np.ndarray, v: int) -> float:
    """Bits per code of held-out codes (K, N) under the per-codebook training histogram."""
    bits = 0.0
    for k in range(train.shape[0]):
        counts = np.bincount(train[k], minlength=v).astype(np.float64) + 0.5
        p = counts / counts.sum()
        bits += float(-np.log2(p[held[k]]).mean())
    return bits / train.shape[0]


# ---------------------------------------------------------------------------- stages
def _codec_batch(
    data: AudioData,
    opts: TrainOptions,
    length: int,
    rng: np.random.Generator,
    device: torch.device,
) -> Tensor:
    """A (batch, length) batch of augmented training crops on ``device``."""
    crops = random_crops(
        data.train, opts.batch_size, length, rng, pitch_semitones=opts.pitch_shift, mix=opts.mix
    )
    return torch.from_numpy(crops).to(device)


def _codec_stage(
    codec: Codec,
    data: AudioData,
    opts: TrainOptions,
    budget: _Budget,
    d: _Dist,
    device: torch.device,
    opt_state: dict[str, Any] | None,
    progress: _Progress,
    checkpoint: Callable[[], None],
    set_opt: Callable[[torch.optim.Optimizer], None],
) -> dict[str, Any]:
    hop = codec.hop
    model = _wrap(codec, d, device)
    model.train()
    opt = torch.optim.AdamW(
        codec.parameters(), lr=opts.codec_lr, betas=(0.8, 0.99), weight_decay=0.0
    )
    if opt_state:
        opt.load_state_dict(opt_state)
    set_opt(opt)
    loss_kw: dict[str, Any] = dict(opts.codec_loss)
    loss_fn = ReconstructionLoss(codec.sample_rate, **loss_kw).to(device)
    rng = np.random.default_rng(opts.seed * 1000 + d.rank + 7919 * budget.step)
    length = opts.crop_frames * hop
    warmup = min(200, max(1, (budget.steps or 10**9) // 10))
    last_ckpt = time.monotonic()
    last_val = time.monotonic()
    history: list[dict[str, Any]] = []
    ema: dict[str, float] = {}
    first_loss: float | None = None
    with progress.stage("codec") as update:
        while True:
            stop, fraction = _agree(d, budget.done(), budget.fraction(), device)
            if stop:
                break
            for g in opt.param_groups:
                g["lr"] = opts.codec_lr * _lr_factor(budget.step, fraction, warmup)
            x = _codec_batch(data, opts, length, rng, device)
            out = model(x)
            loss, parts = loss_fn(out.audio[:, hop:-hop], x[:, hop:-hop], out.commit_loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(codec.parameters(), 1.0)
            opt.step()
            budget.step += 1
            if first_loss is None:
                first_loss = parts["loss"]
            ema = {k: 0.9 * ema.get(k, v) + 0.1 * v for k, v in parts.items()}
            update(budget.fraction(), {k: ema[k] for k in ("loss", "sc", "logmag", "mel")})
            now = time.monotonic()
            if d.main and now - last_val > opts.validate_every_s:
                last_val = now
                val = codec_validation(codec, data.heldout, device, opts.prior_codebooks)
                val["step"] = budget.step
                history.append(val)
                _log(
                    d,
                    f"codec step {budget.step} ({budget.elapsed / 60:.1f} min): held-out "
                    + ", ".join(f"{k} {v:.3f}" for k, v in val.items() if isinstance(v, float))
                    + f", usage {min(val['usage']):.0%}-{max(val['usage']):.0%}",
                )
            if now - last_ckpt > opts.checkpoint_minutes * 60:
                last_ckpt = now
                checkpoint()
    return {
        "first_loss": first_loss,
        "last_loss": ema.get("loss"),
        "train": ema,
        "history": history,
    }


def _refine_stage(
    codec: Codec,
    data: AudioData,
    opts: TrainOptions,
    budget: _Budget,
    d: _Dist,
    device: torch.device,
    disc: SpectrogramDiscriminator,
    opt_states: tuple[dict[str, Any] | None, dict[str, Any] | None],
    progress: _Progress,
    checkpoint: Callable[[], None],
    set_opts: Callable[[torch.optim.Optimizer, torch.optim.Optimizer], None],
) -> dict[str, Any]:
    """Adversarial fine-tuning of the decoder; encoder and codebooks frozen."""
    hop = codec.hop
    codec.encoder.requires_grad_(False)
    codec.quantizer.eval()  # no EMA updates: the codes stay what the prior will see
    dec = _wrap(codec.decoder, d, device)
    dmodel = _wrap(disc, d, device)
    opt_g = torch.optim.AdamW(codec.decoder.parameters(), lr=opts.codec_lr * 0.5, betas=(0.8, 0.99))
    opt_d = torch.optim.AdamW(disc.parameters(), lr=opts.codec_lr * 0.5, betas=(0.8, 0.99))
    if opt_states[0]:
        opt_g.load_state_dict(opt_states[0])
    if opt_states[1]:
        opt_d.load_state_dict(opt_states[1])
    set_opts(opt_g, opt_d)
    loss_fn = ReconstructionLoss(codec.sample_rate).to(device)
    rng = np.random.default_rng(opts.seed * 1000 + d.rank + 104729 + 7919 * budget.step)
    length = opts.crop_frames * hop
    last_ckpt = time.monotonic()
    ema: dict[str, float] = {}
    with progress.stage("refine") as update:
        while True:
            stop, _ = _agree(d, budget.done(), budget.fraction(), device)
            if stop:
                break
            x = _codec_batch(data, opts, length, rng, device)
            with torch.no_grad():
                zq = codec.codes_to_embeddings(codec.encode(x))
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
            if time.monotonic() - last_ckpt > opts.checkpoint_minutes * 60:
                last_ckpt = time.monotonic()
                checkpoint()
    codec.encoder.requires_grad_(True)
    return {"train": ema}


def _prior_stage(
    prior: nn.Module,
    codec: Codec,
    data: AudioData,
    opts: TrainOptions,
    budget: _Budget,
    d: _Dist,
    device: torch.device,
    opt_state: dict[str, Any] | None,
    best: dict[str, Any],
    progress: _Progress,
    checkpoint: Callable[[], None],
    set_opt: Callable[[torch.optim.Optimizer], None],
) -> dict[str, Any]:
    v = codec.codebook_size
    variants = _prior_variants(codec.config)
    train_seqs = prior_sequences(codec, data.train, device, opts.max_silence_frames, variants)
    held_seqs = prior_sequences(codec, data.heldout, device, opts.max_silence_frames)
    train_all = np.concatenate([s for per in train_seqs for s in per], axis=1)
    held_all = np.concatenate([per[0] for per in held_seqs], axis=1)
    unigram = _unigram_bits(train_all, held_all, v)
    t = opts.prior_frames
    held_t = torch.from_numpy(held_all).long()
    n_val = max(1, held_t.shape[1] // t)
    if held_t.shape[1] >= t:
        val_batch = torch.stack([held_t[:, i * t : (i + 1) * t] for i in range(n_val)]).to(device)
    else:
        val_batch = held_t[None].to(device)

    def val_bits() -> float:
        prior.eval()
        with torch.no_grad():
            logits = _unwrap(prior)(val_batch)
            nll = F.cross_entropy(logits.reshape(-1, v), val_batch.reshape(-1))
        prior.train()
        return float(nll) / math.log(2)

    model = _wrap(prior, d, device)
    model.train()
    opt = torch.optim.AdamW(
        prior.parameters(), lr=opts.prior_lr, betas=(0.9, 0.95), weight_decay=0.05
    )
    if opt_state:
        opt.load_state_dict(opt_state)
    set_opt(opt)
    rng = np.random.default_rng(opts.seed * 1000 + d.rank + 31 + 7919 * budget.step)
    stream = _stream(train_seqs, rng, t + 1)
    warmup = min(100, max(1, (budget.steps or 10**9) // 10))
    last_ckpt = time.monotonic()
    last_val = 0.0
    ema: dict[str, float] = {}
    first_loss: float | None = None
    history: list[dict[str, float]] = []
    with progress.stage("prior") as update:
        while True:
            stop, fraction = _agree(d, budget.done(), budget.fraction(), device)
            if stop:
                break
            for g in opt.param_groups:
                g["lr"] = opts.prior_lr * _lr_factor(budget.step, fraction, warmup)
            if budget.step % 50 == 0:
                stream = _stream(train_seqs, rng, t + 1)
            starts = rng.integers(0, stream.shape[1] - t + 1, opts.prior_batch_size)
            batch = (
                torch.from_numpy(np.stack([stream[:, s : s + t] for s in starts])).long().to(device)
            )
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
            now = time.monotonic()
            if d.main and (now - last_val > min(opts.validate_every_s, 30.0) or budget.done()):
                last_val = now
                vb = val_bits()
                ema["val_bits"] = vb
                history.append(
                    {
                        "step": budget.step,
                        "val_bits": round(vb, 4),
                        "train_bits": round(ema["bits"], 4),
                    }
                )
                _log(
                    d,
                    f"prior step {budget.step} ({budget.elapsed / 60:.1f} min): train {ema['bits']:.3f} bits/code, held-out {vb:.3f} (unigram {unigram:.3f})",
                )
                if vb < best.get("val_bits", float("inf")):
                    best["val_bits"] = vb
                    best["step"] = budget.step
                    best["state"] = copy.deepcopy(_unwrap(prior).state_dict())
            update(
                budget.fraction(),
                {"bits": ema["bits"], "val": ema.get("val_bits", float("nan")), "unigram": unigram},
            )
            if now - last_ckpt > opts.checkpoint_minutes * 60:
                last_ckpt = now
                checkpoint()
    final_val = val_bits() if d.main else float("nan")
    if d.main and final_val < best.get("val_bits", float("inf")):
        best.update(
            val_bits=final_val, step=budget.step, state=copy.deepcopy(_unwrap(prior).state_dict())
        )
    return {
        "first_bits": first_loss,
        "last_bits": ema.get("bits"),
        "final_val_bits": final_val,
        "unigram_bits": unigram,
        "train_frames": int(train_all.shape[1]),
        "heldout_frames": int(held_all.shape[1]),
        "history": history,
    }


# ---------------------------------------------------------------------------- main entry
def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingOptionError("--device cuda: no CUDA device is available; use --device cpu")
    if name not in ("cpu", "cuda"):
        raise TrainingOptionError(f"--device must be cpu, cuda or auto, got {name!r}")
    return torch.device(name)


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


def _with_overrides(base: _Config, overrides: dict[str, Any], flag: str) -> _Config:
    """``base`` with ``overrides`` applied and checked: an unknown key or a bad value is a
    :class:`TrainingOptionError` that names the flag (a typo must not be ignored)."""
    known = [f.name for f in dataclasses.fields(base)]
    for key in overrides:
        if key not in known:
            raise TrainingOptionError(
                f"{flag} {key}=...: unknown setting; expected one of {', '.join(known)}"
            )
    overrides = {k: _coerce(flag, k, v, type(getattr(base, k))) for k, v in overrides.items()}
    try:
        cfg = dataclasses.replace(base, **overrides)
        if isinstance(cfg, CodecConfig):
            cfg.validate()
    except (TypeError, ValueError) as exc:
        shown = " ".join(f"{k}={v}" for k, v in overrides.items())
        raise TrainingOptionError(f"{flag} {shown}: {exc}") from exc
    return cfg


def _restart_prior(ck: dict[str, Any], path: Path, prior_cfg: PriorConfig) -> None:
    """Turn a checkpoint whose codec is trained into one whose prior has not started (its
    prior weights, optimiser and best state are then left unread: see ``same_prior``)."""
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


def train(
    data_dir: Path | str, out: Path | str, options: TrainOptions | None = None, **kw: Any
) -> dict[str, Any]:
    """Train a codec and a prior on the audio under ``data_dir``; save the model to ``out``.

    Options come from ``options`` and/or keyword arguments named like :class:`TrainOptions`'
    fields. Returns the training summary (also stored in the model file's header).
    """
    opts = copy.deepcopy(options) if options is not None else TrainOptions()
    for k, val in kw.items():
        if not hasattr(opts, k):
            raise TypeError(f"train() got an unknown option {k!r}")
        setattr(opts, k, val)
    if opts.minutes is None and opts.steps is None and None in (opts.codec_steps, opts.prior_steps):
        raise TrainingOptionError("give a budget: --minutes and/or --steps")
    if not 0.0 <= opts.pitch_shift <= 12.0:
        raise TrainingOptionError(f"--pitch-shift {opts.pitch_shift}: expected 0 to 12 semitones")
    if not 0.0 <= opts.mix <= 1.0:
        raise TrainingOptionError(f"--mix {opts.mix}: expected a probability from 0 to 1")
    keep_final_prior(opts.prior_keep, 0.0, None)  # refuses an unknown choice before any work
    if not 0.0 <= opts.prior_input_noise < 1.0:
        raise TrainingOptionError(
            f"--prior-input-noise {opts.prior_input_noise}: expected a probability from 0 to "
            "below 1"
        )
    from . import DistillModel, save_model
    from .prior import Prior

    device = _resolve_device(opts.device)
    d = _init_distributed(device)
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
    out = Path(out)
    ckpt_path = Path(opts.checkpoint) if opts.checkpoint else out.with_name(out.name + ".ckpt")
    t_start = time.monotonic()

    if opts.restart_prior and not opts.resume:
        raise TrainingOptionError("--restart-prior needs --resume (and the checkpoint to use)")
    codec_cfg = _with_overrides(
        CodecConfig.tiny() if opts.tiny else CodecConfig(), opts.codec_overrides, "--codec"
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
    prior_cfg = _with_overrides(
        PriorConfig.tiny(**prior_kw) if opts.tiny else PriorConfig(**prior_kw),
        opts.prior_overrides,
        "--prior",
    )
    # options are all checked: now the audio
    data = load_dataset(data_dir, codec_cfg.sample_rate, opts.heldout, opts.min_seconds)
    crop_len = opts.crop_frames * codec_cfg.hop
    if data.seconds("train") * codec_cfg.sample_rate < crop_len:
        raise TrainingDataError(
            f"too little training audio in {str(data_dir)!r}: {data.seconds('train'):.1f} s "
            f"after holding out validation audio; add audio"
        )

    codec = Codec(codec_cfg).to(device)
    prior = Prior(prior_cfg).to(device)
    disc = SpectrogramDiscriminator().to(device) if opts.refine else None
    budgets = _stage_budgets(opts)
    progress = _Progress(opts.progress and d.main)

    # state that checkpoints carry
    st: dict[str, Any] = {
        "stage": "codec",
        "steps": {"codec": 0, "refine": 0, "prior": 0},
        "spent": {"codec": 0.0, "refine": 0.0, "prior": 0.0},
        "results": {},
        "codec_truncated": False,
    }
    opt_states: dict[str, Any] = {}
    best: dict[str, Any] = {}
    live_opts: dict[str, torch.optim.Optimizer] = {}
    budget_ref: dict[str, _Budget] = {}

    if opts.resume:
        ck = _load_checkpoint(ckpt_path)
        if opts.restart_prior:
            _restart_prior(ck, ckpt_path, prior_cfg)
        # the prior's settings may change as long as its training has not started
        prior_started = ck["progress"]["stage"] == "done" or ck["progress"]["steps"]["prior"] > 0
        same_prior = not opts.restart_prior and ck["prior_config"] == dict(prior_cfg.__dict__)
        if ck["codec_config"] != codec_cfg.to_dict() or (prior_started and not same_prior):
            raise TrainingOptionError(
                f"checkpoint {str(ckpt_path)!r} was made with other model settings; "
                "resume with the same options or train without --resume"
            )
        if ck["progress"].get("codec_truncated"):
            codec = codec.truncated(k_prior).to(device)
        codec.load_state_dict(ck["codec"])
        if same_prior:
            prior.load_state_dict(ck["prior"])
        if disc is not None and ck.get("disc"):
            disc.load_state_dict(ck["disc"])
        st = ck["progress"]
        st.setdefault("codec_truncated", False)
        opt_states = ck.get("optimizers", {})
        if not same_prior:
            opt_states.pop("prior", None)
        if ck.get("best_prior") and same_prior:
            best = {"state": ck["best_prior"], **ck.get("best_meta", {})}
        _log(d, f"resuming at stage {st['stage']}, steps {st['steps']}")

    def checkpoint() -> None:
        if not d.main:
            return
        for name, b in budget_ref.items():
            st["steps"][name] = b.step
            st["spent"][name] = b.elapsed
        state = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "codec_config": codec_cfg.to_dict(),
            "prior_config": dict(prior_cfg.__dict__),
            "codec": codec.state_dict(),
            "prior": prior.state_dict(),
            "disc": disc.state_dict() if disc is not None else {},
            "optimizers": {k: o.state_dict() for k, o in live_opts.items()}
            | {k: v for k, v in opt_states.items() if k not in live_opts},
            "progress": st,
            "best_prior": best.get("state", {}),
            "best_meta": {k: v for k, v in best.items() if k != "state"},
        }
        ckpt_path.parent.mkdir(parents=True, exist_ok=True)
        _save_checkpoint(ckpt_path, state)

    def _run_stage(stage: str, b: _Budget) -> dict[str, Any]:
        if stage == "codec":
            return _codec_stage(
                codec,
                data,
                opts,
                b,
                d,
                device,
                opt_states.get("codec"),
                progress,
                checkpoint,
                lambda o: live_opts.update(codec=o),
            )
        elif stage == "refine":
            assert disc is not None
            return _refine_stage(
                codec,
                data,
                opts,
                b,
                d,
                device,
                disc,
                (opt_states.get("refine_g"), opt_states.get("refine_d")),
                progress,
                checkpoint,
                lambda g, dd: live_opts.update(refine_g=g, refine_d=dd),
            )
        else:
            return _prior_stage(
                prior,
                codec,
                data,
                opts,
                b,
                d,
                device,
                opt_states.get("prior"),
                best,
                progress,
                checkpoint,
                lambda o: live_opts.update(prior=o),
            )

    order = ["codec", "refine", "prior"]
    refs = reference_metrics(data.heldout, codec_cfg.sample_rate, codec_cfg.hop) if d.main else {}
    _log(
        d,
        f"training on {data.seconds('train'):.1f} s ({len(data.train)} files), "
        f"held out {data.seconds('heldout'):.1f} s ({len(data.heldout)} files); "
        f"{d.world} process(es) on {device}",
    )
    start = order.index(st["stage"]) if st["stage"] in order else len(order)
    if start == len(order):
        _log(d, "the checkpoint's training was complete: writing the model again")
    for stage in order[start:]:
        steps, seconds = budgets[stage]
        if stage == "refine" and not opts.refine:
            continue
        if stage == "prior" and codec.config.n_codebooks > k_prior:
            # quantiser dropout trained every prefix of the codebooks to decode on its own:
            # keep the first k_prior, the ones that carry structure the prior can learn
            codec = codec.truncated(k_prior).to(device)
            st["codec_truncated"] = True
            _log(d, f"keeping the first {k_prior} of {codec_cfg.n_codebooks} codebooks")
        st["stage"] = stage
        b = _Budget(steps, seconds, st["steps"][stage], st["spent"][stage])
        budget_ref.clear()
        budget_ref[stage] = b
        try:
            res = _run_stage(stage, b)
        except KeyboardInterrupt:
            checkpoint()
            _log(d, f"interrupted: checkpoint written to {ckpt_path}; continue with --resume")
            raise
        res["steps"] = b.step
        res["seconds"] = round(b.elapsed, 1)
        st["results"][stage] = res
        if d.main:
            _log(d, f"{stage}: {b.step} steps in {b.elapsed / 60:.1f} min")
        # stage finished: the next stage starts from its own fresh budget
        nxt = order.index(stage) + 1
        st["stage"] = order[nxt] if nxt < len(order) else "done"
        checkpoint()
        live_opts.clear()
        opt_states.pop(stage, None)

    summary: dict[str, Any] = {}
    if d.main:
        # the prior holds its final weights (also after --resume of a complete run, so the
        # choice can be made again); best holds the lowest-held-out ones
        final_bits = st["results"].get("prior", {}).get("final_val_bits")
        keep_final = final_bits is None or keep_final_prior(
            opts.prior_keep, final_bits, best.get("val_bits")
        )
        if not keep_final and best.get("state"):
            prior.load_state_dict(best["state"])
        codec_metrics = codec_validation(codec, data.heldout, device)
        results = st["results"]
        summary = {
            "data_dir": str(Path(data_dir).resolve()),
            "data_files": len(data.train) + len(data.heldout),
            "data_seconds": round(data.seconds("train") + data.seconds("heldout"), 2),
            "train_seconds": round(data.seconds("train"), 2),
            "heldout_seconds": round(data.seconds("heldout"), 2),
            "heldout_files": [c.name for c in data.heldout],
            "skipped_files": len(data.skipped),
            "codec_steps": st["steps"]["codec"]
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
            "wall_seconds": round(time.monotonic() - t_start, 1),
            "codec_first_loss": results.get("codec", {}).get("first_loss"),
            "codec_last_loss": results.get("codec", {}).get("last_loss"),
            "prior_first_bits": results.get("prior", {}).get("first_bits"),
            "prior_last_bits": results.get("prior", {}).get("last_bits"),
            "heldout_codec": codec_metrics,
            "heldout_references": refs,
            "heldout_prior_bits": final_bits if keep_final else best.get("val_bits"),
            "heldout_unigram_bits": results.get("prior", {}).get("unigram_bits"),
            "max_silence_frames": opts.max_silence_frames,
            "codec_codebooks_trained": codec_cfg.n_codebooks,
            "codebooks_kept": codec.config.n_codebooks,
            "world_size": d.world,
            "device": str(device),
            "torch": torch.__version__,
            "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
            "options": {
                k: (str(v) if isinstance(v, Path) else v)
                for k, v in opts.__dict__.items()
                if k not in ("progress",)
            },
        }
        model = DistillModel(codec.cpu().eval(), prior.cpu().eval())
        out.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, out, summary, half=opts.half)
        _log(d, f"saved {out}")
    if d.active:
        dist.barrier()
        dist.destroy_process_group()
    return summary


# ---------------------------------------------------------------------------- CLI
def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live train``."""
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", help="folder of audio files (any format soundfile reads)"
    )
    parser.add_argument(
        "--out", "-o", required=True, metavar="MODEL.distill", help="where to write the model"
    )
    b = parser.add_argument_group("budget")
    b.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="wall-clock budget of the whole training (default 30 if no --steps)",
    )
    b.add_argument("--steps", type=int, default=None, help="step budget of each stage")
    b.add_argument("--codec-steps", type=int, default=None)
    b.add_argument("--prior-steps", type=int, default=None)
    b.add_argument("--refine-steps", type=int, default=None)
    b.add_argument(
        "--codec-share",
        type=float,
        default=0.7,
        help="share of --minutes for the codec (default 0.7)",
    )
    b.add_argument(
        "--refine", action="store_true", help="adversarial refine of the decoder (encoder frozen)"
    )
    b.add_argument(
        "--refine-share", type=float, default=0.3, help="share of the codec's time for --refine"
    )
    r = parser.add_argument_group("running")
    r.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    r.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    r.add_argument(
        "--restart-prior",
        action="store_true",
        help="with --resume: keep the checkpoint's trained codec, train the prior afresh "
        "(--prior settings may change)",
    )
    r.add_argument(
        "--checkpoint", default=None, help="checkpoint path (default MODEL.distill.ckpt)"
    )
    r.add_argument("--checkpoint-minutes", type=float, default=3.0)
    r.add_argument("--threads", type=int, default=None, help="torch threads per process")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--half", action="store_true", help="store the model as float16 (half the size)")
    m = parser.add_argument_group("model and data")
    m.add_argument("--tiny", action="store_true", help="a tiny model (tests, smoke runs)")
    m.add_argument(
        "--heldout", type=float, default=0.1, help="share of the audio held out (default 0.1)"
    )
    m.add_argument("--batch-size", type=int, default=16)
    m.add_argument("--crop-frames", type=int, default=TrainOptions.crop_frames)
    m.add_argument("--codec-lr", type=float, default=5e-4)
    m.add_argument(
        "--pitch-shift",
        type=float,
        default=0.0,
        metavar="SEMITONES",
        help="augmentation: play codec crops up to this many semitones faster or slower, "
        "tape style (e.g. 2; default 0 = off)",
    )
    m.add_argument(
        "--mix",
        type=float,
        default=0.0,
        metavar="P",
        help="augmentation: probability of adding a second crop to a codec crop (e.g. 0.5; "
        "default 0 = off)",
    )
    m.add_argument("--prior-batch-size", type=int, default=16)
    m.add_argument("--prior-frames", type=int, default=TrainOptions.prior_frames)
    m.add_argument("--prior-lr", type=float, default=6e-4)
    m.add_argument(
        "--prior-codebooks",
        type=int,
        default=None,
        metavar="N",
        help="after the codec stages keep only its first N codebooks (all by default); the "
        "prior and the saved model use N",
    )
    m.add_argument(
        "--prior-input-noise",
        type=float,
        default=TrainOptions.prior_input_noise,
        metavar="P",
        help="regulariser: replace each context code of the prior by a random one with "
        "probability P while training (e.g. 0.1; default 0 = off)",
    )
    m.add_argument(
        "--prior-keep",
        choices=("final", "lowest"),
        default=TrainOptions.prior_keep,
        help="which prior weights are saved: the final ones (default) or those with the "
        "lowest held-out bits/code seen while training (early stopping)",
    )
    m.add_argument(
        "--max-silence-frames",
        type=int,
        default=TrainOptions.max_silence_frames,
        help="longest silence kept in the prior's data",
    )
    m.add_argument(
        "--codec", action="append", default=[], metavar="KEY=VALUE", help="codec config override"
    )
    m.add_argument(
        "--prior", action="append", default=[], metavar="KEY=VALUE", help="prior config override"
    )
    m.add_argument(
        "--codec-loss",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="codec loss override: sc_weight, logmag_weight, mel_weight, commit_weight, "
        "complex_weight, mel_floor",
    )


def _value(text: str) -> int | float | str:
    """A config value from the command line: an int, a float or else the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _overrides(items: list[str], flag: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise TrainingOptionError(f"{flag} {item!r}: expected KEY=VALUE")
        out[key.replace("-", "_")] = _value(value)
    return out


def cmd_train(args: argparse.Namespace) -> int:
    """``distill-live train``: returns the exit status."""
    minutes = args.minutes
    if minutes is None and args.steps is None and None in (args.codec_steps, args.prior_steps):
        minutes = 30.0
    opts = TrainOptions(
        minutes=minutes,
        steps=args.steps,
        codec_steps=args.codec_steps,
        prior_steps=args.prior_steps,
        refine_steps=args.refine_steps,
        codec_share=args.codec_share,
        refine=args.refine,
        refine_share=args.refine_share,
        device=args.device,
        resume=args.resume,
        restart_prior=args.restart_prior,
        checkpoint=Path(args.checkpoint) if args.checkpoint else None,
        checkpoint_minutes=args.checkpoint_minutes,
        seed=args.seed,
        tiny=args.tiny,
        heldout=args.heldout,
        batch_size=args.batch_size,
        crop_frames=args.crop_frames,
        codec_lr=args.codec_lr,
        pitch_shift=args.pitch_shift,
        mix=args.mix,
        prior_batch_size=args.prior_batch_size,
        prior_frames=args.prior_frames,
        prior_lr=args.prior_lr,
        max_silence_frames=args.max_silence_frames,
        prior_codebooks=args.prior_codebooks,
        prior_input_noise=args.prior_input_noise,
        prior_keep=args.prior_keep,
        codec_overrides=_overrides(args.codec, "--codec"),
        prior_overrides=_overrides(args.prior, "--prior"),
        codec_loss={k: float(v) for k, v in _overrides(args.codec_loss, "--codec-loss").items()},
        progress=not args.no_progress,
        threads=args.threads,
        half=args.half,
    )
    summary = train(args.data_dir, args.out, opts)
    if summary:
        _print_summary(summary)
    return 0


def _print_summary(s: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="training summary", show_header=False)
    c = s["heldout_codec"]
    refs = s.get("heldout_references", {})
    rows = [
        (
            "data",
            f"{s['data_seconds']:.0f} s in {s['data_files']} files ({s['heldout_seconds']:.0f} s held out)",
        ),
        (
            "steps",
            f"codec {s['codec_steps']}, refine {s['refine_steps']}, prior {s['prior_steps']}",
        ),
        (
            "time",
            f"{sum(v or 0.0 for v in s['stage_seconds'].values()) / 60:.1f} min of training "
            f"({s['wall_seconds'] / 60:.1f} min this run)",
        ),
        (
            "codec (held out)",
            f"mel L1 {c.get('mel', float('nan')):.3f} (4 kHz low-pass {refs.get('lowpass4k_mel', float('nan')):.3f}), "
            f"SC {c.get('sc', float('nan')):.3f} (random phase {refs.get('random_phase_sc', float('nan')):.3f})",
        ),
        ("codebook usage", " ".join(f"{u:.0%}" for u in c.get("usage", []))),
        (
            "prior (held out)",
            f"{s['heldout_prior_bits']:.2f} bits/code (unigram {s['heldout_unigram_bits']:.2f})"
            if s.get("heldout_prior_bits") is not None and s.get("heldout_unigram_bits") is not None
            else "-",
        ),
    ]
    for k, v in rows:
        table.add_row(k, v)
    Console(stderr=True).print(table)
