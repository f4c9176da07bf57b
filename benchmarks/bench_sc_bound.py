"""Where the codec's spectral convergence stands: the design's ceiling and the model's fit.

    .venv/bin/python benchmarks/bench_sc_bound.py [--data DIR] [--model M]
        [--tracker pyin] [--harmonics 48] [--bands 64 16] [--train-files 40] [--seed 0]

Issue 19 asks the default codec's spectral convergence on held-out audio (``distill-live
eval``'s ``sc``: the mean over FFT sizes 512, 1024, 2048 of ||S - S'|| / ||S||, per 64-frame
segment, length-weighted) to be below that of the random-phase copy (the original's exact
STFT magnitudes, hop 512, random phases). This script scores, with eval's segments and
:func:`distill_live.model.metrics.spectral_metrics`, on the same held-out split:

* the random-phase copy;
* the codec's design with its parameters read off the original instead of learnt: per code
  frame (1024 samples) the f0 from the codec's tracker on its 25-cent grid, the amplitude of
  each of ``--harmonics`` harmonics (:func:`~distill_live.model.harmonic.harmonic_targets`:
  a 4096-point STFT at the frame's end, where the oscillator bank's ramp reaches it)
  rendered by the project's oscillator bank
  (:func:`distill_live.model.harmonic.harmonic_bank`), plus the residual (the original's
  2048-point STFT magnitudes less the oscillators', floored at 0) as random-phase noise with
  its envelope in each of ``--bands`` mel bands; then the oscillators alone and the noise
  alone (the whole original's envelope in the first of ``--bands``);
* with ``--model``, that model's codec on the held-out files and on ``--train-files``
  training files chosen at random (its round trip from silence, as eval runs it, and its
  unquantised latent): equal figures on both mean the codec under-fits rather than
  over-fits; and its held-out round trip again with its level set right, by one
  least-squares gain per segment (on the 2048-point magnitudes) and by each 1024-sample
  frame's RMS matched to the original's: how much of its figure is level, not spectrum;
  for a pitched codec, its oscillators alone, its residual alone, and its residual plus
  oscillators at the amplitudes read off the original at the coded pitch
  (:func:`distill_live.model.harmonic.harmonic_targets`): how much is the amplitudes.

The parameters are unquantised: the ceiling says what the design can reach, not what the
bits allow.
"""

from __future__ import annotations

import argparse
import functools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

torch.set_num_threads(1)

from distill_live.model.codec import mel_filterbank  # noqa: E402
from distill_live.model.data import AudioData, load_dataset  # noqa: E402
from distill_live.model.harmonic import harmonic_bank, harmonic_targets  # noqa: E402
from distill_live.model.metrics import (  # noqa: E402
    SEGMENT_FRAMES,
    Piece,
    _audible_segments,
    _stft_mag,
    clip_pieces,
    measure_codec,
    random_phase,
    spectral_metrics,
)
from distill_live.model.pitch import PitchGrid, frame_f0  # noqa: E402
from distill_live.model.roundtrip import encode_channels, prerolled, round_trip  # noqa: E402

SAMPLES = "/usr/share/sonic-pi/samples"
SR, HOP, N_FFT = 48000, 1024, 2048


def _stft(x: np.ndarray) -> torch.Tensor:  # (T,) → (bins, F + 1) complex, hop HOP
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    return torch.stft(
        t, N_FFT, HOP, window=torch.hann_window(N_FFT), center=True, return_complex=True
    )


def _istft(spec: torch.Tensor, length: int) -> np.ndarray:
    return torch.istft(
        spec, N_FFT, HOP, window=torch.hann_window(N_FFT), center=True, length=length
    ).numpy()


def _harmonic_amps(audio: np.ndarray, f0: np.ndarray, n_harm: int) -> np.ndarray:
    """(T,), (F,) → (H, F): each harmonic's amplitude at each frame's end, 0 where unpitched
    (:func:`~distill_live.model.harmonic.harmonic_targets`, the harmonic term's targets)."""
    x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))[None]
    amps, _ = harmonic_targets(x, torch.from_numpy(f0).float()[None], n_harm, HOP, SR)
    return amps[0].numpy()


def _render_harmonic(f0: np.ndarray, amps: np.ndarray, length: int) -> np.ndarray:
    y, _ = harmonic_bank(
        torch.tensor(f0[None], dtype=torch.float32),
        torch.tensor(amps[None], dtype=torch.float32),
        HOP,
        SR,
    )
    out = np.zeros(length, np.float32)
    m = min(length, y.shape[1])
    out[:m] = y[0, :m].numpy()
    return out


class Frames:
    """One clip's parameters: f0 (F,), harmonic amplitudes (H, F), residual bands (M, F + 1)."""

    def __init__(self, audio: np.ndarray, f0: np.ndarray, n_harm: int, mel: torch.Tensor):
        self.audio, self.f0 = audio, f0
        self.amps = _harmonic_amps(audio, f0, n_harm)
        self.harmonic = _render_harmonic(f0, self.amps, len(audio))
        res = (_stft(audio).abs() - _stft(self.harmonic).abs()).clamp(min=0)  # (bins, F + 1)
        # (M, F + 1): each band's weighted RMS magnitude
        self.bands = (mel @ res**2 / mel.sum(1, keepdim=True).clamp(min=1e-8)).sqrt().numpy()

    def render(self, spread: torch.Tensor, gen: torch.Generator) -> np.ndarray:
        """The oscillators plus the residual bands as random-phase noise: audio (T,)."""
        mag = spread @ torch.from_numpy(self.bands).float()  # (bins, F + 1)
        ph = torch.rand(mag.shape, generator=gen) * 2 * math.pi
        return self.harmonic + _istft(torch.polar(mag, ph), len(self.audio)).astype(np.float32)


def _segments_sc(
    pieces: list[Piece],
    versions: list[np.ndarray],
    fix: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> float:
    """Eval's length-weighted mean over audible segments; ``fix(y, ref)`` applied to each
    segment of a version first."""
    rows = []
    for i, s, e in _audible_segments(pieces, HOP, SEGMENT_FRAMES):
        ref = np.ascontiguousarray(pieces[i][1][s:e], dtype=np.float32)
        y = np.ascontiguousarray(versions[i][s:e], dtype=np.float32)
        if fix is not None:
            y = fix(y, ref).astype(np.float32)
        rows.append((e - s, spectral_metrics(torch.from_numpy(y), torch.from_numpy(ref), SR)["sc"]))
    return sum(w * v for w, v in rows) / sum(w for w, _ in rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--data", default=SAMPLES, help=f"a folder of audio (default {SAMPLES})")
    ap.add_argument("--model", help='also score this model file ("default": the shipped one)')
    ap.add_argument("--tracker", default="pyin", choices=("pyin", "world"))
    ap.add_argument("--harmonics", type=int, default=48)
    ap.add_argument(
        "--bands", type=int, nargs="+", default=[64, 16], help="mel bands of the residual"
    )
    ap.add_argument("--train-files", type=int, default=40, help="training files --model scores")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    data = load_dataset(a.data)
    grid = PitchGrid()
    pieces = clip_pieces(data.heldout, SR)
    print(
        f"{len(data.heldout)} held-out files ({data.seconds('heldout'):.1f} s), "
        f"{a.tracker} f0, {a.harmonics} harmonics",
        flush=True,
    )
    rp = [random_phase(audio, seed=a.seed + i) for i, (_, audio) in enumerate(pieces)]
    print(f"  {'random-phase copy:':46}SC {_segments_sc(pieces, rp):.3f}", flush=True)
    f0s = [grid.decode(grid.encode(frame_f0(x, SR, HOP, tracker=a.tracker))) for _, x in pieces]
    for i, bands in enumerate(a.bands):
        mel = mel_filterbank(SR, N_FFT, bands)  # (M, bins)
        spread = mel.T / mel.T.sum(1, keepdim=True).clamp(min=1e-8)  # (bins, M)
        held = [Frames(x, f0, a.harmonics, mel) for (_, x), f0 in zip(pieces, f0s, strict=True)]
        gen = torch.Generator().manual_seed(a.seed)
        both = [f.render(spread, gen) for f in held]
        print(
            f"  {f'oscillators + residual in {bands} bands:':46}SC "
            f"{_segments_sc(pieces, both):.3f}",
            flush=True,
        )
        if i == 0:
            harm = [f.harmonic for f in held]
            print(f"  {'oscillators alone:':46}SC {_segments_sc(pieces, harm):.3f}", flush=True)
            silent = [
                Frames(x, np.zeros_like(f0), a.harmonics, mel)
                for (_, x), f0 in zip(pieces, f0s, strict=True)
            ]
            noise = [f.render(spread, gen) for f in silent]
            print(
                f"  {f'noise alone, {bands} bands:':46}SC {_segments_sc(pieces, noise):.3f}",
                flush=True,
            )
    if a.model:
        _score_model(a, data, pieces)
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


def _gained(y: np.ndarray, ref: np.ndarray, how: str) -> np.ndarray:
    """``y`` scaled towards ``ref`` (both (T,)): one least-squares gain on the 2048-point
    magnitudes (``"segment"``) or each 1024-sample frame's RMS matched (``"frame"``)."""
    if how == "segment":
        s, s_hat = (_stft_mag(torch.from_numpy(v), 2048) for v in (ref, y))
        return y * float((s * s_hat).sum() / (s_hat * s_hat).sum().clamp(min=1e-12))
    out = y.copy()
    n = len(y) // HOP
    r = np.sqrt((ref[: n * HOP].reshape(n, HOP).astype(np.float64) ** 2).mean(1))
    q = np.sqrt((y[: n * HOP].reshape(n, HOP).astype(np.float64) ** 2).mean(1))
    out[: n * HOP] *= np.repeat(np.minimum(r / np.maximum(q, 1e-6), 10.0), HOP).astype(y.dtype)
    return out


def _score_model(a: argparse.Namespace, data: AudioData, held_pieces: list[Piece]) -> None:
    from distill_live.model.files import load_model

    model = load_model(None if a.model == "default" else a.model)
    codec = model.codec
    rng = np.random.default_rng(a.seed)
    n = min(a.train_files, len(data.train))
    train = [data.train[i] for i in sorted(rng.choice(len(data.train), n, replace=False))]
    sets = [("held-out", held_pieces), (f"{n} training files", clip_pieces(train, SR))]
    # the round trips from silence, as eval runs them, made once for every figure below
    copies = [[round_trip(codec, audio) for _, audio in pieces] for _, pieces in sets]
    for (label, pieces), made in zip(sets, copies, strict=True):
        m = measure_codec(codec, pieces, rows=("codec_unquantised",))
        assert m is not None
        print(
            f"  {f'--model on {label} ({m.seconds:.0f} s):':46}SC "
            f"{_segments_sc(pieces, made):.3f}, "
            f"unquantised {m.rows['codec_unquantised']['sc']:.3f}",
            flush=True,
        )
    # the held-out round trip with its level set right
    for how, label in (("segment", "each segment's best gain"), ("frame", "each frame's RMS")):
        sc = _segments_sc(held_pieces, copies[0], functools.partial(_gained, how=how))
        print(f"  {f'--model held-out, {label}:':46}SC {sc:.3f}", flush=True)
    if hasattr(codec, "pitch_codes"):  # its two branches apart, and its amplitudes replaced
        parts = [_branches(codec, audio) for _, audio in held_pieces]
        for i, label in enumerate(
            ("its oscillators alone", "its residual alone", "residual, true amplitudes")
        ):
            sc = _segments_sc(held_pieces, [p[i] for p in parts])
            print(f"  {f'--model held-out, {label}:':46}SC {sc:.3f}", flush=True)


def _branches(codec: Any, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pitched codec's round trip of ``audio`` (T,) split into its oscillators and its
    residual, and the residual plus the oscillators at the amplitudes the audio has at the
    coded pitch (:func:`~distill_live.model.harmonic.harmonic_targets`): three (T,) arrays.
    The decoder's output is the sum of the two branches, sample for sample."""
    codes, lead = encode_channels(codec, audio[:, None])
    x, _ = prerolled(codec, audio)
    with torch.inference_mode():
        emb = codec.codes_to_embeddings(codes[:1])  # (1, D + 1, F)
        f0, hop = emb[:, -1], codec.hop
        x = np.pad(x, (0, max(0, f0.shape[1] * hop - len(x))))
        amps: list[torch.Tensor] = []
        whole = codec.decoder(emb, amps)[0]
        h = amps[0].shape[1]
        harm = harmonic_bank(f0, amps[0], hop, SR)[0][0]
        target, _ = harmonic_targets(torch.from_numpy(x)[None], f0, h, hop, SR)
        exact = harmonic_bank(f0, target, hop, SR)[0][0]
    cut = slice(lead, lead + len(audio))
    return harm[cut].numpy(), (whole - harm)[cut].numpy(), (whole - harm + exact)[cut].numpy()


if __name__ == "__main__":
    raise SystemExit(main())
