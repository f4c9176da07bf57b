"""What a simple transform codec scores on the low-pass check: the bits the check asks for.

    .venv/bin/python benchmarks/bench_logmel_bound.py [--data DIR] [--dims 64]
        [--mel-frames 2] [--codebooks 8] [--codebook-size 256] [--seed 0]
        [--cutoffs 4000 8000]

Issue 5 asks the default codec to beat a 4 kHz low-pass of the held-out audio on 80 dB
log-mel L1 (``distill-live eval``'s ``mel_l1_80db``). This script measures, on the same
held-out split of the same data, a codec that works on that log-mel directly: the log-mel
frames of the training audio (FFT 2048, hop 512, 128 bands: the metric's own), ``--mel-frames``
of them stacked per vector (2 = one vector per 1024 samples, the default model's code frame),
projected on their first ``--dims`` principal components, and coded by a residual vector
quantiser of ``--codebooks`` k-means codebooks of ``--codebook-size`` entries fit to the
training vectors. It prints the held-out log-mel L1 of the unquantised projection and of each
codebook prefix, with the bits per second that prefix costs, beside low-passes of the same
audio (``--cutoffs``, default 4 and 8 kHz).

It is an estimate, not a proof: its decoder gets the metric's own spectrogram for free (no
phase, no waveform), which makes it optimistic, while a trained non-linear codec could code
some sounds more cheaply. The codec of the shipped default model (3 codebooks of 256 per 1024
samples) scores 0.327 in ``eval`` where this estimate gives about 0.32 at the same bits.
"""

from __future__ import annotations

import argparse
import time

import torch

torch.set_num_threads(2)

from distill_live.model.data import load_dataset  # noqa: E402
from distill_live.model.metrics import log_mel_80db, lowpass  # noqa: E402

SAMPLES = "/usr/share/sonic-pi/samples"


def _vectors(lm: torch.Tensor, per: int) -> torch.Tensor:  # (M, S) → (S // per, M * per)
    frames = lm.T
    n = frames.shape[0] // per
    return frames[: n * per].reshape(n, per * frames.shape[1])


def _kmeans(x: torch.Tensor, k: int, gen: torch.Generator, iters: int = 20) -> torch.Tensor:
    centres = x[torch.randperm(len(x), generator=gen)[:k]].clone()
    for _ in range(iters):
        idx = torch.cdist(x, centres).argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, idx, x)
        counts = torch.bincount(idx, minlength=k).to(x.dtype)
        dead = counts == 0
        centres = sums / counts.clamp(min=1)[:, None]
        if dead.any():  # restart an empty cluster on a random vector
            pick = torch.randint(len(x), (int(dead.sum()),), generator=gen)
            centres[dead] = x[pick]
    return centres


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--data", default=SAMPLES, help=f"a folder of audio (default {SAMPLES})")
    ap.add_argument("--dims", type=int, default=64, help="principal components kept")
    ap.add_argument("--mel-frames", type=int, default=2, help="log-mel frames (hop 512) a vector")
    ap.add_argument("--codebooks", type=int, default=8)
    ap.add_argument("--codebook-size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--cutoffs",
        type=float,
        nargs="+",
        default=[4000.0, 8000.0],
        metavar="HZ",
        help="low-passes to print beside it (default 4000 8000)",
    )
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(a.seed)
    data = load_dataset(a.data)
    sr = 48000
    train = torch.cat(
        [_vectors(log_mel_80db(torch.from_numpy(c.audio), sr), a.mel_frames) for c in data.train]
    )
    held_all = torch.cat(
        [_vectors(log_mel_80db(torch.from_numpy(c.audio), sr), a.mel_frames) for c in data.heldout]
    )
    rate = sr / 512 / a.mel_frames  # vectors a second
    print(
        f"{len(data.train)} training files ({data.seconds('train'):.1f} s, {len(train)} vectors), "
        f"{len(data.heldout)} held-out files ({data.seconds('heldout'):.1f} s); "
        f"{a.mel_frames} log-mel frames a vector ({rate:.2f} a second), {a.dims} dims"
    )
    for cutoff in a.cutoffs:
        ref = torch.cat(
            [
                _vectors(
                    log_mel_80db(torch.from_numpy(lowpass(c.audio, sr, cutoff)), sr), a.mel_frames
                )
                for c in data.heldout
            ]
        )
        print(
            f"  {cutoff / 1000:g} kHz low-pass:".ljust(31)
            + f"log-mel L1 {float((ref - held_all).abs().mean()):.3f}"
        )

    mean = train.mean(0)
    _, _, vh = torch.linalg.svd(train - mean, full_matrices=False)
    basis = vh[: a.dims]  # (dims, M * per)
    z_train = (train - mean) @ basis.T
    z_held = (held_all - mean) @ basis.T
    unq = z_held @ basis + mean
    print(f"  {'projection, unquantised:':29}log-mel L1 {float((unq - held_all).abs().mean()):.3f}")
    bits = torch.log2(torch.tensor(float(a.codebook_size))).item()
    res_train, q_held = z_train.clone(), torch.zeros_like(z_held)
    for k in range(a.codebooks):
        centres = _kmeans(res_train, a.codebook_size, gen)
        res_train -= centres[torch.cdist(res_train, centres).argmin(1)]
        q_held += centres[torch.cdist(z_held - q_held, centres).argmin(1)]
        mel = q_held @ basis + mean
        print(
            f"  {k + 1} codebook{'s' if k else ''} ({(k + 1) * bits * rate:.0f} bit/s):".ljust(31)
            + f"log-mel L1 {float((mel - held_all).abs().mean()):.3f}",
            flush=True,
        )
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
