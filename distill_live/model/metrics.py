"""The measurements training and evaluation share: one definition of each figure.

* **Spectra**: :func:`spectral_metrics` (spectral convergence and log-magnitude L1 at FFT
  sizes 512, 1024, 2048; log-mel L1 with a 1e-5 clamp and with a floor 80 dB under full
  scale) and :func:`log_mel_80db`, the spectrogram of the 80 dB figure.
* **Reference degradations** of the same audio: :func:`lowpass` (4 kHz, zero-phase
  Butterworth) and :func:`random_phase` (STFT magnitude kept, phase random, RMS restored).
* **The codec on held-out audio**: :func:`clip_pieces`, :func:`encode_pieces` and
  :func:`measure_codec` (clips cut into pieces, encoded and decoded whole, near-silent
  segments dropped, length-weighted means per row: the codec, the two references, the codec
  without its quantiser). ``distill-live eval`` reports these rows; training's held-out
  figures (:func:`heldout_codec_figures`, :func:`codec_validation`) are the same rows,
  computed by the same function with the same defaults, so they equal eval's on the same
  audio.
* **Codes**: :func:`codebook_usage`, :func:`code_entropy`, :func:`limit_silence` (long
  silences shortened, as the prior is trained), :func:`prior_bits_per_code` and
  :func:`unigram_bits_per_code`.
* **Generated audio**: :func:`mfcc` and :func:`frechet_distance`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from .codec import Codec, mel_filterbank
from .data import Clip, frame_rms
from .pitch import f0_track, hz_to_midi, track
from .pitched import PitchedCodec
from .roundtrip import prerolled

__all__ = [
    "PitchStats",
    "pitch_frames",
    "raw_pitch_accuracy",
    "pitch_stats",
    "pool_pitch_stats",
    "histogram_distance",
    "AnyCodec",
    "FFT_SIZES",
    "CODEC_ROWS",
    "PER_FILE_METRICS",
    "SILENCE_RMS",
    "SEGMENT_FRAMES",
    "MAX_CODEC_SECONDS",
    "MAX_CLIP_SECONDS",
    "MEL_FLOOR_80DB",
    "N_MFCC",
    "spectral_metrics",
    "log_mel_80db",
    "lowpass",
    "random_phase",
    "Piece",
    "clip_pieces",
    "encode_pieces",
    "CodecMeasurement",
    "measure_codec",
    "heldout_codec_figures",
    "codec_validation",
    "codebook_usage",
    "code_entropy",
    "limit_silence",
    "prior_bits_per_code",
    "unigram_bits_per_code",
    "mfcc",
    "frechet_distance",
]

#: what the codec measurements take: the codec or the pitched codec (encode, decode, encoder)
AnyCodec = Codec | PitchedCodec

FFT_SIZES = (512, 1024, 2048)
#: the rows of the codec table: the codec, its two reference degradations, and the codec's
#: encoder and decoder without the quantiser between them
CODEC_ROWS = ("codec", "lowpass_4k", "random_phase", "codec_unquantised")
#: the metrics repeated per file (``per_file``): which files decide the means
PER_FILE_METRICS = ("sc", "logmag", "mel_l1_80db")
#: segments quieter than this RMS are not measured (their spectra are mostly noise floor)
SILENCE_RMS = 1e-3
#: code frames per measured segment
SEGMENT_FRAMES = 64
#: audible segments beyond this many seconds are subsampled, evenly spread
MAX_CODEC_SECONDS = 120.0
#: longer clips are cut into pieces this long before encoding (bounds the memory)
MAX_CLIP_SECONDS = 30.0
#: 80 dB below the mel magnitude of a full-scale sine at FFT 2048 (n_fft / 4).
MEL_FLOOR_80DB = 1e-4 * 2048 / 4
N_MFCC = 20


# ------------------------------------------------------------------------ spectra
def _stft_mag(x: Tensor, n_fft: int) -> Tensor:  # (T,) → (bins, S)
    spec = torch.stft(
        x,
        n_fft,
        n_fft // 4,
        window=torch.hann_window(n_fft),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    return torch.sqrt(spec.real**2 + spec.imag**2 + 1e-9)


_MEL_CACHE: dict[tuple[int, int, int], Tensor] = {}


def _mel(x: Tensor, sample_rate: int, n_mels: int = 128, n_fft: int = 2048) -> Tensor:
    key = (sample_rate, n_mels, n_fft)
    if key not in _MEL_CACHE:
        _MEL_CACHE[key] = mel_filterbank(sample_rate, n_fft, n_mels)
    return _MEL_CACHE[key] @ _stft_mag(x, n_fft)  # (M, S)


def _log_mel(x: Tensor, sample_rate: int, n_mels: int = 128, n_fft: int = 2048) -> Tensor:
    return torch.log(torch.clamp(_mel(x, sample_rate, n_mels, n_fft), min=1e-5))


def _log_80db(mel: Tensor) -> Tensor:
    return torch.log(mel + MEL_FLOOR_80DB)


def log_mel_80db(x: Tensor, sample_rate: int) -> Tensor:
    """The log-mel spectrogram of the low-pass check, (T,) → (128, S): FFT 2048, hop 512,
    natural log, a floor 80 dB under full scale added."""
    return _log_80db(_mel(x, sample_rate))


def spectral_metrics(y_hat: Tensor, y: Tensor, sample_rate: int) -> dict[str, float]:
    """Spectral convergence and log-magnitude L1 per FFT size, their means, and log-mel L1
    twice: ``mel_l1`` with the magnitudes clamped at 1e-5 (the training loss's definition;
    differences 100 dB down count as much as loud ones) and ``mel_l1_80db`` with a floor
    80 dB under full scale added (differences below it count little: closer to hearing).

    ``y_hat`` and ``y``: (T,) float tensors of equal length.
    """
    out: dict[str, float] = {}
    for n in FFT_SIZES:
        s_hat, s = _stft_mag(y_hat, n), _stft_mag(y, n)  # (bins, S) each
        out[f"sc_{n}"] = float(
            torch.linalg.vector_norm(s - s_hat) / torch.linalg.vector_norm(s).clamp(min=1e-3)
        )
        out[f"logmag_{n}"] = float((torch.log(s_hat + 1e-5) - torch.log(s + 1e-5)).abs().mean())
    out["sc"] = sum(out[f"sc_{n}"] for n in FFT_SIZES) / len(FFT_SIZES)
    out["logmag"] = sum(out[f"logmag_{n}"] for n in FFT_SIZES) / len(FFT_SIZES)
    m_hat, m = _mel(y_hat, sample_rate), _mel(y, sample_rate)  # (128, S) each
    out["mel_l1"] = float(
        (torch.log(m_hat.clamp(min=1e-5)) - torch.log(m.clamp(min=1e-5))).abs().mean()
    )
    out["mel_l1_80db"] = float((_log_80db(m_hat) - _log_80db(m)).abs().mean())
    return out


# ------------------------------------------------------------------------ references
def lowpass(audio: np.ndarray, sample_rate: int, cutoff: float = 4000.0) -> np.ndarray:
    """Zero-phase 8th-order Butterworth low-pass (the reference degradation), (T,) → (T,)."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(8, cutoff, btype="low", fs=sample_rate, output="sos")
    if len(audio) <= 60:  # too short for filtfilt's padding
        return audio.copy()
    return sosfiltfilt(sos, audio).astype(np.float32)


def random_phase(audio: np.ndarray, seed: int = 0, n_fft: int = 2048) -> np.ndarray:
    """The STFT magnitude kept, the phase replaced by uniform noise, the RMS restored (the
    other reference), (T,) → (T,)."""
    x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    win = torch.hann_window(n_fft)
    spec = torch.stft(
        x, n_fft, n_fft // 4, window=win, center=True, pad_mode="constant", return_complex=True
    )  # (bins, S)
    g = torch.Generator().manual_seed(seed)
    phase = torch.rand(spec.shape, generator=g) * 2 * math.pi
    y = torch.istft(torch.polar(spec.abs(), phase), n_fft, n_fft // 4, window=win, length=len(x))
    # overlap-adding frames of random phase sums them incoherently and loses about half the
    # level: restore the original RMS so the reference differs in phase, not in loudness
    y = (
        y
        * (
            torch.sqrt((x.double() ** 2).mean())
            / torch.sqrt((y.double() ** 2).mean()).clamp(min=1e-12)
        ).float()
    )
    return y.numpy().astype(np.float32)


# ------------------------------------------------------------------------ the codec on audio
#: a piece of a clip: ``"name@start"`` and its audio (T,)
Piece = tuple[str, np.ndarray]


def clip_pieces(
    clips: Sequence[Clip], sample_rate: int, max_seconds: float = MAX_CLIP_SECONDS
) -> list[Piece]:
    """Every clip cut into pieces of at most ``max_seconds``, named ``"name@start"``."""
    n = int(max_seconds * sample_rate)
    out = []
    for c in clips:
        for i in range(0, len(c.audio), n):
            out.append((f"{c.name}@{i}", c.audio[i : i + n]))
    return out


def _padded(audio: np.ndarray, hop: int, device: torch.device | None = None) -> Tensor:
    """(T,) → (1, F * hop) float32, zero-padded to whole frames (at least one)."""
    x = np.zeros(max(1, math.ceil(len(audio) / hop)) * hop, dtype=np.float32)
    x[: len(audio)] = audio
    return torch.from_numpy(x)[None].to(device)


def _device(codec: AnyCodec) -> torch.device:
    return next(codec.parameters()).device


@torch.no_grad()
def encode_pieces(codec: AnyCodec, pieces: Sequence[Piece]) -> list[Tensor]:
    """The codes of each piece padded to whole frames: (K, F) int64 each, on the CPU."""
    dev = _device(codec)
    return [codec.encode(_padded(audio, codec.hop, dev))[0].cpu() for _, audio in pieces]


@torch.no_grad()
def _decoded(codec: AnyCodec, codes: Tensor) -> np.ndarray:  # (K, F) → (F * hop,)
    emb = codec.codes_to_embeddings(codes[None].to(_device(codec)))
    return codec.decode(emb)[0].cpu().numpy()


@torch.no_grad()
def _decoded_unquantised(codec: AnyCodec, audio: np.ndarray) -> np.ndarray:  # (T,) → (F * hop,)
    """A piece padded to whole frames, its encoder latent decoded without the quantiser."""
    x = _padded(audio, codec.hop, _device(codec))
    if isinstance(codec, PitchedCodec):  # its decoder also takes the pitch and the f0
        return codec.decode(codec.unquantised_embeddings(x))[0].cpu().numpy()
    return codec.decode(codec.encoder(x))[0].cpu().numpy()


def _audible_segments(
    pieces: Sequence[Piece], hop: int, segment_frames: int
) -> list[tuple[int, int, int]]:
    """(piece, start, end) of every segment of ``segment_frames`` frames (the last one of a
    piece shorter) that is at least 4 frames long and not near-silent."""
    seg = segment_frames * hop
    out: list[tuple[int, int, int]] = []
    for i, (_, audio) in enumerate(pieces):
        for s in range(0, len(audio), seg):
            e = min(len(audio), s + seg)
            if (
                e - s >= 4 * hop
                and np.sqrt(np.mean(audio[s:e].astype(np.float64) ** 2)) > SILENCE_RMS
            ):
                out.append((i, s, e))
    return out


def _version(row: str, codec: AnyCodec, audio: np.ndarray, codes: Tensor, seed: int) -> np.ndarray:
    """Row ``row``'s version of a piece (T,) → (≥ T,): decoded from ``codes`` (K, F), a
    reference degradation, or the latent decoded without the quantiser.

    A causal codec's two rows are its round trip from silence (:func:`~.roundtrip.prerolled`:
    coded again with the pre-roll, which ``codes`` lack), as ``distill-live codec`` runs it.
    """
    if row == "lowpass_4k":
        return lowpass(audio, codec.sample_rate)
    if row == "random_phase":
        return random_phase(audio, seed=seed)
    x, lead = prerolled(codec, audio)
    if row == "codec":
        return _decoded(codec, encode_pieces(codec, [("", x)])[0] if lead else codes)[lead:]
    return _decoded_unquantised(codec, x)[lead:]


def _weighted_mean(
    rows: list[tuple[int, dict[str, float]]], digits: int | None = 4
) -> dict[str, float]:
    total = sum(w for w, _ in rows)
    means = {k: sum(w * r[k] for w, r in rows) / total for k in rows[0][1]}
    return means if digits is None else {k: round(v, digits) for k, v in means.items()}


@dataclass
class CodecMeasurement:
    """What :func:`measure_codec` found."""

    rows: dict[str, dict[str, float]]  # row (of CODEC_ROWS) → length-weighted means
    per_file: dict[str, dict[str, Any]]  # file → seconds and each row's PER_FILE_METRICS
    segments: int  # segments measured
    seconds: float  # audio measured
    audible_seconds: float  # audible audio before subsampling
    subsampled: bool  # whether the audible segments were subsampled to max_seconds


def measure_codec(
    codec: AnyCodec,
    pieces: Sequence[Piece],
    codes: Sequence[Tensor] | None = None,
    *,
    rows: Sequence[str] = CODEC_ROWS,
    segment_frames: int = SEGMENT_FRAMES,
    max_seconds: float = MAX_CODEC_SECONDS,
    seed: int = 0,
    digits: int | None = 4,
) -> CodecMeasurement | None:
    """The codec and its references on ``pieces`` (see the module docstring); ``None`` when
    no segment is audible.

    ``codes``: the pieces' codes from :func:`encode_pieces` (encoded here if not given).
    Each piece is decoded whole and cut into segments of ``segment_frames`` code frames;
    near-silent segments are dropped and, past ``max_seconds`` of audio, the rest evenly
    subsampled. Per segment and row (``rows``, of :data:`CODEC_ROWS`) the figures of
    :func:`spectral_metrics`; a row's figure is their mean weighted by segment length,
    rounded to ``digits`` decimals (None: not rounded). The random-phase reference of piece
    ``i`` uses seed ``seed + i``.
    """
    sr, hop = codec.sample_rate, codec.hop
    unknown = set(rows) - set(CODEC_ROWS)
    if unknown:
        raise ValueError(f"unknown codec rows {sorted(unknown)}; expected some of {CODEC_ROWS}")
    segments = _audible_segments(pieces, hop, segment_frames)
    if not segments:
        return None
    audible = sum(e - s for _, s, e in segments) / sr
    subsampled = audible > max_seconds
    if subsampled:
        keep = int(len(segments) * max_seconds / audible)
        idx = np.linspace(0, len(segments) - 1, max(1, keep)).round().astype(int)
        segments = [segments[j] for j in sorted(set(idx.tolist()))]
    was_training = codec.training
    codec.eval()
    if codes is None:
        codes = encode_pieces(codec, pieces)
    versions: dict[int, dict[str, np.ndarray]] = {}  # piece → row → its audio (≥ T,)
    means: dict[str, list[tuple[int, dict[str, float]]]] = {name: [] for name in rows}
    by_file: dict[str, dict[str, list[tuple[int, dict[str, float]]]]] = {}
    for i, s, e in segments:
        name, audio = pieces[i]
        if i not in versions:
            versions[i] = {row: _version(row, codec, audio, codes[i], seed + i) for row in rows}
        ref = torch.from_numpy(np.ascontiguousarray(audio[s:e], dtype=np.float32))
        file_rows = by_file.setdefault(name.rsplit("@", 1)[0], {})
        for row in rows:
            y = versions[i][row]
            yy = torch.from_numpy(np.ascontiguousarray(y[s:e], dtype=np.float32))
            measured = (e - s, spectral_metrics(yy, ref, sr))
            means[row].append(measured)
            file_rows.setdefault(row, []).append(measured)
    codec.train(was_training)
    per_file = {
        name: {
            "seconds": round(sum(w for w, _ in fr[rows[0]]) / sr, 2),
            **{
                k: {m: v for m, v in _weighted_mean(r, digits).items() if m in PER_FILE_METRICS}
                for k, r in fr.items()
            },
        }
        for name, fr in sorted(by_file.items())
    }
    return CodecMeasurement(
        rows={k: _weighted_mean(r, digits) for k, r in means.items()},
        per_file=per_file,
        segments=len(segments),
        seconds=round(sum(e - s for _, s, e in segments) / sr, 2),
        audible_seconds=audible,
        subsampled=subsampled,
    )


#: training's short names for a row's figures → the row's own (``mel`` is the 80 dB one,
#: the codec loss's definition)
_SHORT = {"sc": "sc", "logmag": "logmag", "mel": "mel_l1_80db"}


def _short(row: dict[str, float]) -> dict[str, float]:
    return {k: row[m] for k, m in _SHORT.items()}


def heldout_codec_figures(
    codec: AnyCodec, clips: Sequence[Clip]
) -> tuple[dict[str, Any], dict[str, float]]:
    """Training's held-out figures: (codec, references).

    The codec's are ``sc``, ``logmag`` and ``mel`` (eval's ``sc``, ``logmag`` and
    ``mel_l1_80db`` of its ``codec`` row) and ``usage`` (eval's ``codebooks.usage``); the
    references' are ``lowpass_4k_*`` and ``random_phase_*``, the same three figures of
    eval's rows of those names. Empty when nothing held out is audible.
    """
    pieces = clip_pieces(clips, codec.sample_rate)
    was_training = codec.training
    codec.eval()
    codes = encode_pieces(codec, pieces)
    m = measure_codec(codec, pieces, codes, rows=("codec", "lowpass_4k", "random_phase"))
    codec.train(was_training)
    if m is None:
        return {}, {}
    figures: dict[str, Any] = _short(m.rows["codec"])
    figures["usage"] = codebook_usage(codes, codec.codebook_size)["usage"]
    refs = {
        f"{row}_{k}": v
        for row in ("lowpass_4k", "random_phase")
        for k, v in _short(m.rows[row]).items()
    }
    return figures, refs


def codec_validation(
    codec: AnyCodec, clips: Sequence[Clip], device: torch.device, keep: int | None = None
) -> dict[str, Any]:
    """Held-out figures while the codec trains: ``sc``, ``logmag``, ``mel`` and ``usage``
    per codebook, as :func:`heldout_codec_figures` gives them but not rounded (``device``:
    the codec's; the audio follows the codec to it).

    With ``keep`` (fewer than the codec's codebooks: the ones the prior will model) the
    figures are also given from those codebooks alone as ``kept_sc`` etc.: the decoder the
    shipped model plays through, and what ``eval`` measures.
    """
    pieces = clip_pieces(clips, codec.sample_rate)
    was_training = codec.training
    codec.eval()
    codes = encode_pieces(codec, pieces)
    out: dict[str, Any] = {}
    m = measure_codec(codec, pieces, codes, rows=("codec",), digits=None)
    if m is not None:
        out.update(_short(m.rows["codec"]))
    if keep is not None and keep < codec.config.n_codebooks:
        # codebook-major codes: the first keep * pack of a frame are the kept codebooks'
        # (codes_to_embeddings sums the codebooks it is given)
        kept = [c[: keep * codec.pack] for c in codes]
        m = measure_codec(codec, pieces, kept, rows=("codec",), digits=None)
        if m is not None:
            out.update({f"kept_{k}": v for k, v in _short(m.rows["codec"]).items()})
    # (no held-out audio: no codes, none used)
    usage = codebook_usage(codes, codec.codebook_size)["usage"] if codes else None
    out["usage"] = usage or [0.0] * codec.n_codebooks
    codec.train(was_training)
    return out


# ------------------------------------------------------------------------ codes
def codebook_usage(codes: Sequence[Tensor], codebook_size: int) -> dict[str, list[float]]:
    """Fraction of codes used and perplexity per codebook over (K, F) code arrays."""
    k = codes[0].shape[0]
    counts = torch.zeros(k, codebook_size, dtype=torch.float64)  # (K, V)
    for c in codes:
        for i in range(k):
            counts[i] += torch.bincount(c[i], minlength=codebook_size).double()
    p = counts / counts.sum(1, keepdim=True).clamp(min=1)
    ent = -(p * torch.log2(p.clamp(min=1e-300))).sum(1)  # (K,)
    return {
        "usage": [round(float(u), 4) for u in (counts > 0).double().mean(1)],
        "perplexity": [round(float(2.0**e), 2) for e in ent],
    }


def code_entropy(codes: Tensor, codebook_size: int) -> float:
    """Entropy in bits of the code histogram, mean over codebooks; codes (K, F) or (B, K, F)."""
    if codes.dim() == 3:
        codes = codes.permute(1, 0, 2).reshape(codes.shape[1], -1)  # (K, B * F)
    h = 0.0
    for row in codes:
        p = torch.bincount(row, minlength=codebook_size).double()
        p = p[p > 0] / p.sum()
        h += float(-(p * torch.log2(p)).sum())
    return h / codes.shape[0]


_Codes = TypeVar("_Codes", Tensor, np.ndarray)


def limit_silence(codes: _Codes, audio: np.ndarray, hop: int, max_silence: int) -> _Codes:
    """Drop frames of runs of silent frames (RMS < -60 dBFS) beyond ``max_silence``:
    codes (K, F) → (K, F'), a tensor or an array as given; ``audio`` (≥ 0 samples) is
    zero-padded or cut to the F frames.

    Datasets of one-shots hold gaps between sounds; left in, long runs of silence codes make
    "stay silent" the prior's most likely continuation, and low temperatures fall silent. The
    prior trains on codes shortened this way, and ``distill-live eval`` shortens the codes it
    measures the prior on the same way.
    """
    f = codes.shape[1]
    a = np.zeros(f * hop, dtype=np.float64)
    a[: min(len(audio), f * hop)] = audio[: f * hop]
    keep = np.ones(f, dtype=bool)
    run = 0
    for i, silent in enumerate(frame_rms(a, hop) < 1e-3):
        run = run + 1 if silent else 0
        keep[i] = run <= max_silence
    if isinstance(codes, Tensor):
        return codes[:, torch.from_numpy(keep)]
    return codes[:, keep]


@torch.inference_mode()
def prior_bits_per_code(
    prior: Any, sequences: list[Tensor], chunk: int = 512, per_codebook: list[float] | None = None
) -> tuple[float, int]:
    """Mean negative log2-likelihood per code of (K, F) sequences, each from a fresh start
    (BOS); long sequences in chunks with enough context for exact windowed logits.

    Returns (bits per code, number of codes); fills ``per_codebook`` (if given) with the
    bits per code of each codebook.
    """
    cfg = prior.config
    reach = cfg.n_layers * (cfg.window - 1) + 1  # frames back that can influence a logit
    total, count = 0.0, 0
    per_k = torch.zeros(cfg.n_codebooks, dtype=torch.float64)
    for seq in sequences:
        f = seq.shape[1]
        for s in range(0, f, chunk):
            e = min(f, s + chunk)
            c = 0 if s <= reach else reach  # BOS only when the chunk starts the sequence
            x = seq[:, s - c : e][None]  # (1, K, c + e - s)
            if c:
                # forward() puts BOS first; with `reach` frames of context it cannot reach
                # the predictions we keep
                logits = prior(x)[:, :, c:]
            else:
                x = seq[:, :e][None]
                logits = prior(x)[:, :, s:]
            target = seq[:, s:e][None]  # (1, K, e - s)
            lp = torch.log_softmax(logits.float(), dim=-1).gather(-1, target[..., None])[..., 0]
            total += float(-lp.sum())
            per_k -= lp.double().sum(dim=(0, 2))
            count += target.numel()
    if per_codebook is not None:
        frames = max(count // cfg.n_codebooks, 1)
        per_codebook[:] = [round(float(b) / frames / math.log(2.0), 3) for b in per_k]
    return total / max(count, 1) / math.log(2.0), count


def unigram_bits_per_code(
    fit: Sequence[Tensor],
    test: Sequence[Tensor],
    codebook_size: int,
    per_codebook: list[float] | None = None,
) -> float:
    """Bits per code of ``test`` under per-codebook code frequencies of ``fit`` (+0.5);
    fills ``per_codebook`` (if given) with each codebook's figure. Codes (K, F) each."""
    k = test[0].shape[0]
    counts = torch.full((k, codebook_size), 0.5, dtype=torch.float64)  # (K, V)
    for c in fit:
        for i in range(k):
            counts[i] += torch.bincount(c[i], minlength=codebook_size).double()
    logp = torch.log2(counts / counts.sum(1, keepdim=True))
    bits, n = 0.0, 0
    per_k = [0.0] * k
    for c in test:
        for i in range(k):
            b = float(-logp[i, c[i]].sum())
            bits += b
            per_k[i] += b
            n += c.shape[1]
    if per_codebook is not None:
        per_codebook[:] = [round(b / max(n // k, 1), 3) for b in per_k]
    return bits / max(n, 1)


# ------------------------------------------------------------------------ Fréchet MFCC
def mfcc(audio: np.ndarray, sample_rate: int, n_mfcc: int = N_MFCC) -> np.ndarray:
    """(T,) → (frames, n_mfcc): DCT-II (orthonormal) of a 64-band natural-log mel spectrum."""
    x = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    logmel = _log_mel(x, sample_rate, n_mels=64).double()  # (64, S)
    m = logmel.shape[0]
    n = torch.arange(m, dtype=torch.float64)
    k = torch.arange(n_mfcc, dtype=torch.float64)[:, None]
    dct = torch.cos(math.pi / m * (n + 0.5) * k) * math.sqrt(2.0 / m)  # (n_mfcc, 64)
    dct[0] /= math.sqrt(2.0)
    return (dct @ logmel).T.numpy()


def frechet_distance(a: np.ndarray, b: np.ndarray, diagonal: bool = False) -> float:
    """Fréchet distance between Gaussians fitted to feature rows of ``a`` and ``b``
    ((N, D) and (M, D))."""
    mu1, mu2 = a.mean(0), b.mean(0)
    d2 = float(((mu1 - mu2) ** 2).sum())
    if diagonal:
        v1, v2 = a.var(0), b.var(0)
        return d2 + float((v1 + v2 - 2 * np.sqrt(v1 * v2)).sum())
    from scipy.linalg import sqrtm

    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = sqrtm(s1 @ s2)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return max(0.0, d2 + float(np.trace(s1 + s2 - 2 * covmean)))


# ------------------------------------------------------------------------ pitch
PITCH_PERIOD_S = 0.01  # the pitch figures' frame: one f0 every 10 ms
NOTE_CENTS = 50.0  # a copy within this of the reference plays the same note
LOUD_DB = -50.0  # frames quieter than this (RMS, dBFS) count neither as pitched nor not


def pitch_frames(
    audio: np.ndarray, sample_rate: int, tracker: str = "world"
) -> tuple[np.ndarray, np.ndarray, float]:
    """(f0 in Hz or 0, loud, period s): ``tracker``'s f0 (WORLD every 10 ms, pYIN every
    16 ms) and whether each frame is audible."""
    if tracker == "world":
        f0, period = f0_track(audio, sample_rate, PITCH_PERIOD_S), PITCH_PERIOD_S
    else:
        tr = track(audio, sample_rate, tracker)
        f0 = tr.f0
        period = float(tr.times[1] - tr.times[0]) if len(tr.times) > 1 else PITCH_PERIOD_S
    hop = int(round(period * sample_rate))
    x = np.pad(np.asarray(audio, dtype=np.float64), (hop // 2, len(f0) * hop))
    frames = x[: len(f0) * hop].reshape(len(f0), hop)
    loud = np.sqrt(np.mean(frames**2, axis=1)) > 10 ** (LOUD_DB / 20)
    return f0, loud, period


def raw_pitch_accuracy(
    orig: np.ndarray, copy: np.ndarray, sample_rate: int, tracker: str = "world"
) -> tuple[int, int]:
    """(hits, pitched frames of ``orig``): the frames where ``copy``'s f0 is within 50 cents
    of ``orig``'s (octave errors miss), both by ``tracker``."""
    fo, loud, _ = pitch_frames(orig, sample_rate, tracker)
    fc, _, _ = pitch_frames(copy, sample_rate, tracker)
    n = min(len(fo), len(fc))
    fo, fc, loud = fo[:n], fc[:n], loud[:n]
    ref = (fo > 0) & loud
    ratio = np.where((fc > 0) & ref, fc, 1.0) / np.where(ref, fo, 1.0)
    hit = ref & (fc > 0) & (np.abs(1200 * np.log2(ratio)) < NOTE_CENTS)
    return int(hit.sum()), int(ref.sum())


@dataclass
class PitchStats:
    """Pitch figures of some audio: counts, so several pieces pool by adding them."""

    pitched: int  # loud frames with a pitch
    loud: int  # loud frames
    runs: list[int]  # lengths (frames) of runs of steady pitch, 3 frames or more
    pitch_classes: np.ndarray  # (12,) pitched frames per pitch class, C = 0
    period_s: float = PITCH_PERIOD_S  # the tracker's frame


def pitch_stats(audio: np.ndarray, sample_rate: int, tracker: str = "world") -> PitchStats:
    """How much of ``audio`` is pitched, how long its pitch holds steady, and on which notes.

    A run of steady pitch: consecutive pitched frames each within 50 cents of the last.
    """
    f0, loud, period = pitch_frames(audio, sample_rate, tracker)
    p = (f0 > 0) & loud
    runs: list[int] = []
    n = 0
    for i in range(len(f0)):
        if p[i] and n > 0 and abs(1200 * math.log2(f0[i] / f0[i - 1])) < NOTE_CENTS:
            n += 1
            continue
        if n >= 3:
            runs.append(n)
        n = 1 if p[i] else 0
    if n >= 3:
        runs.append(n)
    classes = np.rint(hz_to_midi(f0[p])).astype(np.int64) % 12
    counts = np.bincount(classes, minlength=12)
    return PitchStats(int(p.sum()), int(loud.sum()), runs, counts, period)


def pool_pitch_stats(stats: Sequence[PitchStats]) -> dict[str, Any]:
    """Pooled figures: pitched share of loud frames, median steady run (ms), pitch classes."""
    pitched = sum(s.pitched for s in stats)
    loud = sum(s.loud for s in stats)
    runs = [r for s in stats for r in s.runs]
    classes = np.sum([s.pitch_classes for s in stats], axis=0) if stats else np.zeros(12)
    return {
        "pitched_share": round(pitched / max(loud, 1), 4),
        "median_steady_ms": round(float(np.median(runs)) * 1000 * stats[0].period_s, 1)
        if runs
        else 0.0,
        "steady_runs": len(runs),
        "pitch_classes": [int(c) for c in classes],
    }


def histogram_distance(a: Sequence[float], b: Sequence[float]) -> float:
    """Total variation distance of two histograms (counts): 0 the same shape, 1 disjoint."""
    pa, pb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    pa, pb = pa / max(pa.sum(), 1e-12), pb / max(pb.sum(), 1e-12)
    return float(0.5 * np.abs(pa - pb).sum())
