"""Evaluation: measure a model on a folder of audio (``distill-live eval MODEL DATA_DIR``).

:func:`evaluate` runs one function per section of the report (codec, codebooks, prior,
generation, temperature) and returns a JSON-able dict of figures and references; the
measurements themselves are :mod:`distill_live.model.metrics`' (training's held-out figures
come from the same functions). What is measured, and how (so the figures can be read):

* **Codec** on the evaluated audio (the held-out split by default: the same deterministic split
  ``train`` uses, from :func:`distill_live.model.data.load_dataset`): every clip is encoded and
  decoded whole, cut into segments of ``segment_frames`` code frames, near-silent segments
  (RMS < 1e-3) dropped, and per segment (mean weighted by length):
  spectral convergence ``||S - Ŝ||_F / ||S||_F`` and log-magnitude L1
  ``mean |ln(Ŝ + 1e-5) - ln(S + 1e-5)|`` for FFT sizes 512, 1024, 2048 (Hann, hop n/4), and
  log-mel L1 (128 mels, FFT 2048) twice: magnitudes clamped at 1e-5 (``mel_l1``, the
  training loss's definition) and with a floor 80 dB under full scale added
  (``mel_l1_80db``; the low-pass check uses this one, where inaudible differences 100 dB
  down do not decide the comparison). The same figures for two
  reference degradations of the same audio: a 4 kHz low-pass (8th-order Butterworth,
  zero-phase) and the STFT magnitude kept with random phase (FFT 2048, hop 512, rescaled to
  the original RMS: the incoherent overlap-add otherwise halves the level). One more row,
  ``codec_unquantised``: the encoder's latent decoded without the quantiser. It bounds what
  the encoder and decoder can do, but not what more bits could: trained through the
  quantiser, the latent carries little the codebooks cannot pass (for the bits a check asks
  for, see ``benchmarks/bench_logmel_bound.py``). The same
  figures per file (``per_file``: spectral convergence, log-magnitude, 80 dB log-mel), since
  the means weigh files by length and a few long files can decide them.
* **Codebooks**: per codebook, the fraction of its codes used and the perplexity
  (``2 ** entropy`` of the code histogram), on the evaluated audio and on all of DATA_DIR.
* **Prior**: bits per code on the evaluated audio's codes (long silences shortened as in
  training), beside a unigram baseline: per-codebook code frequencies fitted on the *training
  split* of DATA_DIR (add-0.5 smoothing), evaluated on the same codes. With ``--split all``
  the unigram is fitted on the evaluated codes themselves (in-sample, a harder baseline).
* **Generation**: 30 s sampled at temperature 1.0 (seeded), decoded, and a Fréchet distance
  between Gaussians fitted to MFCC frames (20 coefficients incl. c0, from a 64-band log-mel,
  FFT 2048, hop 512; ~2800 frames per 30 s, so a full 20x20 covariance is well determined)
  to half of DATA_DIR (files alternately by a hash of their names); beside it the same
  distance from a real 30 s excerpt of the *other* half, and from that excerpt encoded and
  decoded by the codec (what the codec alone costs). The diagonal-covariance version is
  reported too.
* **Temperature**: code entropy (histogram, bits, mean over codebooks) of 20 s sampled at
  temperatures 0.3, 1.0 and 1.8; RMS of the decoded audio at 0.5 and 1.0; whether top-k 1
  and top-p 0 reproduce greedy decoding and whether one seed gives identical codes.

Large folders are subsampled (codec metrics on at most ``--max-codec-seconds`` of segments,
evenly spread); the output says when.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import TrainingDataError
from .data import Clip
from .distill import DistillModel
from .metrics import (
    MAX_CLIP_SECONDS,
    MAX_CODEC_SECONDS,
    N_MFCC,
    SEGMENT_FRAMES,
    Piece,
    PitchStats,
    clip_pieces,
    code_entropy,
    codebook_usage,
    encode_pieces,
    frechet_distance,
    histogram_distance,
    limit_silence,
    measure_codec,
    mfcc,
    pitch_stats,
    pool_pitch_stats,
    prior_bits_per_code,
    raw_pitch_accuracy,
    unigram_bits_per_code,
)
from .roundtrip import decode_codes
from .sampling import SamplingParams, sample_code_sequence

__all__ = ["EvalOptions", "evaluate"]


@dataclass
class EvalOptions:
    """Knobs of :func:`evaluate`; the CLI flags map onto these."""

    split: str = "heldout"  # "heldout" (training's split) or "all"
    max_codec_seconds: float = MAX_CODEC_SECONDS
    segment_frames: int = SEGMENT_FRAMES
    generate_seconds: float = 30.0
    temperature_seconds: float = 20.0
    seed: int = 0
    max_clip_seconds: float = MAX_CLIP_SECONDS  # longer files are cut into pieces this long
    # the Fréchet distance and the RMS ratio also over seeds seed..seed+repeats-1 (and as
    # many real excerpts), compared by medians: one 30 s draw is a noisy figure (see
    # docs/experiments.md for how much medians of 5 and of 12 moved)
    repeats: int = 12


@dataclass
class _Audio:
    """The audio of one evaluation, split and encoded once for every section."""

    all_clips: list[Clip]
    eval_pieces: list[Piece]  # the evaluated audio, in pieces of max_clip_seconds
    eval_codes: list[Tensor]  # their codes, (K, F) each
    fit_pieces: list[Piece]  # the training split (empty when the unigram fits in-sample)
    fit_codes: list[Tensor]
    in_sample_unigram: bool
    heldout_matches_training: bool | None
    evaluated_files: int
    evaluated_seconds: float
    notes: list[str] = field(default_factory=list)
    generated_pitch: list[PitchStats] = field(default_factory=list)  # one per draw at 1.0


def evaluate(
    model: DistillModel,
    data_dir: Path | str,
    options: EvalOptions | None = None,
    progress: Callable[[str], Any] | None = None,
) -> dict[str, Any]:
    """Run every measurement (see the module docstring); returns a JSON-able dict."""
    opts = options or EvalOptions()
    if opts.split not in ("heldout", "all"):
        raise ValueError(f"split must be 'heldout' or 'all', got {opts.split!r}")
    t0 = time.monotonic()
    say = progress or (lambda msg: None)
    model.eval()
    training = (model.header or {}).get("training") or {}
    say("loading audio")
    audio = _load(model, data_dir, opts, training)
    say("encoding and decoding the audio")
    audio.eval_codes = encode_pieces(model.codec, audio.eval_pieces)
    audio.fit_codes = encode_pieces(model.codec, audio.fit_pieces)
    say("codec metrics")
    codec = codec_section(model, audio, opts, data_dir)
    say("prior bits per code")
    prior = prior_section(model, audio, int(training.get("max_silence_frames", 2)))
    say(f"generating {opts.generate_seconds:.0f} s at temperature 1.0")
    generation = generation_section(model, audio, opts)
    say("pitch")
    pitch = pitch_section(model, audio)
    say("temperature behaviour")
    temperature = temperature_section(model, opts)
    sr = model.sample_rate
    return {
        "model": {
            "path": None if model.path is None else str(model.path),
            "sha256": model.sha256,
            "sample_rate": sr,
            "hop": model.hop,
            "frame_rate": round(model.frame_rate, 3),
            "n_codebooks": model.n_codebooks,
            "codebook_size": model.codebook_size,
            # codebook 0 is a fixed grid of pitches (its usage is the data's notes)
            "pitch_codebook": bool(model.codec.config.pitch),
            # what the codes carry: compare the log-mel figure with
            # benchmarks/bench_logmel_bound.py's estimate at this many bits
            "bits_per_second": round(
                model.n_codebooks * math.log2(model.codebook_size) * model.frame_rate, 1
            ),
        },
        "data": {
            "dir": str(Path(data_dir).resolve()),
            "files": len(audio.all_clips),
            "seconds": round(sum(len(c.audio) for c in audio.all_clips) / sr, 2),
            "split": opts.split,
            "evaluated_files": audio.evaluated_files,
            "evaluated_seconds": audio.evaluated_seconds,
            "heldout_matches_training": audio.heldout_matches_training,
        },
        "codec": codec,
        "codebooks": codebooks_section(model, audio),
        "prior": prior,
        "generation": generation,
        "pitch": pitch,
        "temperature": temperature,
        "notes": audio.notes,
        "options": asdict(opts),
        "seconds": round(time.monotonic() - t0, 1),
    }


# ------------------------------------------------------------------------ the audio
def _load(
    model: DistillModel, data_dir: Path | str, opts: EvalOptions, training: dict[str, Any]
) -> _Audio:
    """DATA_DIR split as training split it (the held-out fraction from the model's header)."""
    from .data import load_dataset

    sr = model.sample_rate
    heldout_fraction = float((training.get("options") or {}).get("heldout", 0.1))
    data = load_dataset(data_dir, sr, heldout_fraction, min_seconds=1.0)
    all_clips = data.train + data.heldout
    notes: list[str] = []
    same: bool | None = None
    if opts.split == "heldout" and data.heldout:
        eval_clips, fit_clips = data.heldout, data.train
        trained_on = training.get("heldout_files")
        if trained_on is not None:
            same = sorted(trained_on) == sorted(c.name for c in data.heldout)
        if same is False:
            notes.append("the held-out split differs from the one recorded at training time")
    else:
        eval_clips, fit_clips = all_clips, all_clips
        if opts.split == "heldout":
            notes.append("no held-out audio could be split off: evaluated on all audio")
    in_sample = fit_clips is eval_clips
    return _Audio(
        all_clips=all_clips,
        eval_pieces=clip_pieces(eval_clips, sr, opts.max_clip_seconds),
        eval_codes=[],
        fit_pieces=[] if in_sample else clip_pieces(fit_clips, sr, opts.max_clip_seconds),
        fit_codes=[],
        in_sample_unigram=in_sample,
        heldout_matches_training=same,
        evaluated_files=len(eval_clips),
        evaluated_seconds=round(sum(len(c.audio) for c in eval_clips) / sr, 2),
        notes=notes,
    )


# ------------------------------------------------------------------------ the sections
def codec_section(
    model: DistillModel, audio: _Audio, opts: EvalOptions, data_dir: Path | str
) -> dict[str, Any]:
    """The codec, its two references and its unquantised latent, per row and per file."""
    m = measure_codec(
        model.codec,
        audio.eval_pieces,
        audio.eval_codes,
        segment_frames=opts.segment_frames,
        max_seconds=opts.max_codec_seconds,
        seed=opts.seed,
    )
    if m is None:
        raise TrainingDataError(
            f"no audible audio to evaluate in {str(data_dir)!r} (every segment is near-silent "
            f"or shorter than {4 * model.hop} samples)"
        )
    if m.subsampled:
        audio.notes.append(
            f"codec metrics on {m.seconds:.0f} s of {m.audible_seconds:.0f} s of audible "
            "segments (evenly subsampled)"
        )
    return {
        **m.rows,
        "per_file": m.per_file,
        "segments": m.segments,
        "seconds": m.seconds,
        "subsampled": m.subsampled,
    }


def codebooks_section(model: DistillModel, audio: _Audio) -> dict[str, Any]:
    """Usage and perplexity per codebook on the evaluated audio and on all of DATA_DIR."""
    v = model.codebook_size
    books = codebook_usage(audio.eval_codes, v)
    every = codebook_usage(audio.eval_codes + audio.fit_codes, v) if audio.fit_codes else books
    return {**books, "all_audio": every}


def prior_section(model: DistillModel, audio: _Audio, max_silence: int) -> dict[str, Any]:
    """Bits per code of the evaluated codes (silences shortened as in training) beside a
    unigram baseline fitted on the training split (or in-sample)."""
    hop = model.hop
    eval_seqs = [
        limit_silence(c, a, hop, max_silence)
        for c, (_, a) in zip(audio.eval_codes, audio.eval_pieces, strict=True)
    ]
    eval_seqs = [s for s in eval_seqs if s.shape[1] > 0]
    fit_seqs = (
        eval_seqs
        if audio.in_sample_unigram
        else [
            limit_silence(c, a, hop, max_silence)
            for c, (_, a) in zip(audio.fit_codes, audio.fit_pieces, strict=True)
        ]
    )
    bits_k: list[float] = []
    uni_k: list[float] = []
    bits, n_codes = prior_bits_per_code(model.prior, eval_seqs, per_codebook=bits_k)
    uni = unigram_bits_per_code(fit_seqs, eval_seqs, model.codebook_size, per_codebook=uni_k)
    return {
        "bits_per_code": round(bits, 4),
        "unigram_bits_per_code": round(uni, 4),
        "bits_below_unigram": round(uni - bits, 4),
        "bits_per_codebook": bits_k,
        "unigram_bits_per_codebook": uni_k,
        "unigram_fitted_on": "the evaluated codes (in-sample)"
        if audio.in_sample_unigram
        else "the training split",
        "codes": n_codes,
        "max_silence_frames": max_silence,
    }


def generation_section(model: DistillModel, audio: _Audio, opts: EvalOptions) -> dict[str, Any]:
    """Fréchet distances of MFCC statistics: generated audio, a real excerpt of the other
    half of DATA_DIR and that excerpt through the codec, each against one half."""
    sr = model.sample_rate
    ordered = sorted(audio.all_clips, key=lambda c: _name_hash(c.name))
    half_a, half_b = ordered[0::2], ordered[1::2]
    if not half_b:  # a single file: its two halves
        only = ordered[0]
        mid = len(only.audio) // 2
        half_a, half_b = [Clip(only.name, only.audio[:mid])], [Clip(only.name, only.audio[mid:])]
    ref_audio = np.concatenate([c.audio for c in half_a])
    b_audio = np.concatenate([c.audio for c in half_b])
    n_excerpt = int(opts.generate_seconds * sr)
    repeats = max(1, opts.repeats)
    if len(b_audio) < n_excerpt:
        audio.notes.append(
            f"the other half holds only {len(b_audio) / sr:.1f} s: the real excerpt is shorter "
            f"than {opts.generate_seconds:.0f} s"
        )
        excerpts = [b_audio]  # the whole other half: one excerpt, the same every repeat
    else:
        starts = (
            int(np.random.default_rng(opts.seed + i).integers(0, len(b_audio) - n_excerpt + 1))
            for i in range(repeats)
        )
        excerpts = [b_audio[s : s + n_excerpt] for s in starts]
    excerpt = excerpts[0]
    f_ref = mfcc(ref_audio, sr)  # (frames, N_MFCC)
    f_real = mfcc(excerpt, sr)
    fds_real = [frechet_distance(f_real, f_ref)]
    fds_real += [frechet_distance(mfcc(x, sr), f_ref) for x in excerpts[1:]]
    if len(fds_real) == 1:
        fds_real *= repeats
    fds_gen: list[float] = []
    for i in range(repeats):
        generated = _decode(
            model, _generate(model, opts.generate_seconds, opts.seed + i, temperature=1.0)
        )
        f = mfcc(generated, sr)
        audio.generated_pitch.append(pitch_stats(generated, sr, _tracker(model)))
        if i == 0:
            gen_audio, f_gen = generated, f
        fds_gen.append(frechet_distance(f, f_ref))
    fd_gen, fd_real = fds_gen[0], fds_real[0]
    med_gen, med_real = float(np.median(fds_gen)), float(np.median(fds_real))
    # the excerpt through the codec: how much of the gap the codec alone accounts for
    codes = encode_pieces(model.codec, [("excerpt", excerpt)])[0]
    f_resyn = mfcc(_decode(model, codes[None])[: len(excerpt)], sr)
    fd_resyn = frechet_distance(f_resyn, f_ref)
    fdd_gen = frechet_distance(f_gen, f_ref, diagonal=True)
    fdd_real = frechet_distance(f_real, f_ref, diagonal=True)
    return {
        "frechet_mfcc": {
            "generated": round(fd_gen, 3),
            "real_excerpt": round(fd_real, 3),
            "ratio": round(fd_gen / max(fd_real, 1e-9), 3),
            "real_excerpt_through_codec": round(fd_resyn, 3),
            # seeds seed.. and excerpts drawn with rng seeds seed..: the same figures, repeated
            "generated_each": [round(x, 3) for x in fds_gen],
            "real_excerpt_each": [round(x, 3) for x in fds_real],
            "generated_median": round(med_gen, 3),
            "real_excerpt_median": round(med_real, 3),
            "ratio_of_medians": round(med_gen / max(med_real, 1e-9), 3),
            # per draw the figures are bimodal (a draw moves between sounds, or sits on one
            # steady sound and scores several times worse), so a median flips with a few
            # seeds when near half the draws sit; the share of draws within 1.5x the real
            # median says how often a draw is data-like
            "generated_share_within_1.5x_real_median": round(
                float(np.mean([x <= 1.5 * med_real for x in fds_gen])), 3
            ),
        },
        "frechet_mfcc_diagonal": {
            "generated": round(fdd_gen, 3),
            "real_excerpt": round(fdd_real, 3),
            "ratio": round(fdd_gen / max(fdd_real, 1e-9), 3),
        },
        "covariance": f"full {N_MFCC}x{N_MFCC} (and diagonal)",
        "frames": {
            "reference_half": len(f_ref),
            "generated": len(f_gen),
            "real_excerpt": len(f_real),
        },
        "reference_half_seconds": round(len(ref_audio) / sr, 1),
        "generated_seconds": round(len(gen_audio) / sr, 2),
        "generated_rms": round(float(np.sqrt(np.mean(gen_audio.astype(np.float64) ** 2))), 5),
    }


def pitch_section(model: DistillModel, audio: _Audio) -> dict[str, Any]:
    """Pitch, by the tracker the model's pitch codes come from (WORLD for a codec without
    pitch): the codec's raw pitch accuracy on the evaluated audio's pitched frames, and the
    pitched share, steady-pitch runs and pitch classes of the draws at temperature 1.0 (of
    :func:`generation_section`) against all of DATA_DIR."""
    sr = model.sample_rate
    hits = total = 0
    per_file: dict[str, dict[str, Any]] = {}
    for (name, a), codes in zip(audio.eval_pieces, audio.eval_codes, strict=True):
        copy = decode_codes(model.codec, codes[None])[: len(a)]
        h, n = raw_pitch_accuracy(a, copy, sr, _tracker(model))
        hits, total = hits + h, total + n
        row = per_file.setdefault(name, {"hits": 0, "pitched_frames": 0})
        row["hits"] += h
        row["pitched_frames"] += n
    for row in per_file.values():
        row["raw_pitch_accuracy"] = round(row["hits"] / max(row["pitched_frames"], 1), 4)
    data = pool_pitch_stats([pitch_stats(c.audio, sr, _tracker(model)) for c in audio.all_clips])
    gen = pool_pitch_stats(audio.generated_pitch)
    return {
        "tracker": (
            "pYIN (librosa), 16 ms frames"
            if _tracker(model) == "pyin"
            else "WORLD (DIO + StoneMask), 10 ms frames"
        )
        + ", loud frames above -50 dBFS",
        "codec_raw_pitch_accuracy": round(hits / max(total, 1), 4),
        "codec_pitched_frames": total,
        "codec_per_file": per_file,
        "data": data,
        "generated": gen,
        "generated_draws": len(audio.generated_pitch),
        "pitched_share_ratio": round(gen["pitched_share"] / max(data["pitched_share"], 1e-9), 4),
        "steady_ms_ratio": round(gen["median_steady_ms"] / max(data["median_steady_ms"], 1e-9), 4),
        "pitch_class_distance": round(
            histogram_distance(gen["pitch_classes"], data["pitch_classes"]), 4
        ),
    }


def temperature_section(model: DistillModel, opts: EvalOptions) -> dict[str, Any]:
    """Code entropy at temperatures 0.3, 1.0, 1.8; the RMS at 0.5 against 1.0; whether top-k
    1 and top-p 0 are greedy and one seed gives the same codes."""
    v = model.codebook_size
    ts = opts.temperature_seconds
    repeats = max(1, opts.repeats)
    entropy: dict[str, float] = {}
    rms: dict[str, float] = {}
    for t in (0.3, 1.0, 1.8):
        codes = _generate(model, ts, opts.seed + 1, temperature=t)
        entropy[f"{t:g}"] = round(code_entropy(codes, v), 4)
        if t == 1.0:
            codes_1 = codes
    for t, codes in ((0.5, _generate(model, ts, opts.seed + 1, temperature=0.5)), (1.0, codes_1)):
        a = _decode(model, codes).astype(np.float64)
        rms[f"{t:g}"] = round(float(np.sqrt(np.mean(a**2))), 6)
    rms_ratio = rms["0.5"] / max(rms["1"], 1e-12)
    rms_ratios = [rms_ratio]
    for i in range(1, repeats):
        a5, a1 = (
            _decode(model, _generate(model, ts, opts.seed + 1 + i, temperature=t)).astype(
                np.float64
            )
            for t in (0.5, 1.0)
        )
        rms_ratios.append(float(np.sqrt(np.mean(a5**2)) / max(np.sqrt(np.mean(a1**2)), 1e-12)))
    short = min(ts, 2.0)
    greedy = _generate(model, short, 0, temperature=0.0)
    return {
        "seconds": ts,
        "code_entropy_bits": entropy,
        "rms": rms,
        "rms_ratio_0.5_to_1": round(rms_ratio, 4),
        "rms_ratio_0.5_to_1_each": [round(x, 4) for x in rms_ratios],  # seeds seed+1..
        "rms_ratio_0.5_to_1_median": round(float(np.median(rms_ratios)), 4),
        "top_k_1_equals_greedy": bool(torch.equal(_generate(model, short, 1, top_k=1), greedy)),
        "top_p_0_equals_greedy": bool(torch.equal(_generate(model, short, 2, top_p=0.0), greedy)),
        "same_seed_identical": bool(
            torch.equal(
                _generate(model, short, 5, temperature=1.0),
                _generate(model, short, 5, temperature=1.0),
            )
        ),
    }


# ------------------------------------------------------------------------ helpers
def _tracker(model: DistillModel) -> str:
    """The f0 tracker of the pitch figures: the one the model's pitch codes come from."""
    cfg = model.codec.config
    return cfg.pitch_tracker if cfg.pitch else "world"


def _name_hash(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()


@torch.inference_mode()
def _generate(model: DistillModel, seconds: float, seed: int, **kw: Any) -> Tensor:
    n = max(1, round(seconds * model.frame_rate))
    g = torch.Generator().manual_seed(seed)
    sampling = SamplingParams(**kw)
    codes, _ = sample_code_sequence(
        model.prior, model.prior.initial_state(1), n, sampling=sampling, generator=g
    )
    return codes  # (1, K, n)


def _decode(model: DistillModel, codes: Tensor) -> np.ndarray:  # (1, K, F) → (F * hop,)
    return decode_codes(model.codec, codes)  # in blocks: memory bounded for long draws
