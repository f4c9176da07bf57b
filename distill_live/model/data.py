"""Training audio: find, read, resample, split and crop.

Every file under a folder that soundfile can read is loaded, mixed to mono and resampled to
the model's rate with soxr (a proper band-limited resampler). A deterministic part of the
files (chosen by a hash of their relative paths, so the same folder always gives the same
split) is held out for validation and evaluation.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..errors import TrainingDataError

__all__ = [
    "Clip",
    "AudioData",
    "find_audio_files",
    "load_audio",
    "load_dataset",
    "split_heldout",
    "random_crops",
    "tape_speed",
    "frame_rms",
    "crop_to_frames",
]

#: Below this RMS a crop counts as silent (about -60 dBFS).
SILENCE_RMS = 1e-3


@dataclass
class Clip:
    """One file's audio: mono float32 at the dataset's rate."""

    name: str  # path relative to the data folder (posix)
    audio: np.ndarray  # (T,) float32


@dataclass
class AudioData:
    """The training and held-out clips of a folder, and what was skipped and why."""

    root: Path
    sample_rate: int
    train: list[Clip]
    heldout: list[Clip]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, reason)

    def seconds(self, which: str = "train") -> float:
        clips = self.train if which == "train" else self.heldout
        return sum(len(c.audio) for c in clips) / self.sample_rate


def find_audio_files(folder: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every file under ``folder`` that soundfile can open, sorted; plus the skipped ones."""
    folder = Path(folder)
    if not folder.exists():
        raise TrainingDataError(f"training data folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise TrainingDataError(
            f"training data path {str(folder)!r} is not a folder; give a folder of audio files"
        )
    found: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or any(
            part.startswith(".") for part in path.relative_to(folder).parts
        ):
            continue
        try:
            info = sf.info(str(path))
        except Exception as exc:  # soundfile raises several types for non-audio files
            skipped.append((path.relative_to(folder).as_posix(), f"not readable audio ({exc})"))
            continue
        if info.frames <= 0 or info.samplerate <= 0:
            skipped.append((path.relative_to(folder).as_posix(), "empty"))
            continue
        found.append(path)
    return found, skipped


def load_audio(path: Path | str, sample_rate: int = 48000) -> np.ndarray:
    """Read any soundfile-readable file as mono float32 at ``sample_rate`` (soxr, high quality)."""
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)  # (T, C)
    mono = data.mean(axis=1)
    if sr != sample_rate:
        mono = soxr.resample(mono, sr, sample_rate, quality="HQ")
    mono = np.nan_to_num(np.asarray(mono, dtype=np.float32))
    return np.ascontiguousarray(mono)


def _hash_key(name: str) -> str:
    return hashlib.sha1(name.encode("utf-8")).hexdigest()


def split_heldout(clips: Sequence[Clip], fraction: float) -> tuple[list[Clip], list[Clip]]:
    """Split clips into (train, held-out) with about ``fraction`` of the audio held out.

    Files are taken in the order of a hash of their names until the held-out part reaches the
    fraction, so the split depends only on the folder's contents. With a single file (or when
    whole files cannot make the split) the end of each file is held out instead.
    """
    if fraction <= 0 or not clips:
        return list(clips), []
    total = sum(len(c.audio) for c in clips)
    target = fraction * total
    order = sorted(clips, key=lambda c: _hash_key(c.name))
    held: list[Clip] = []
    got = 0
    for clip in order:
        if got >= target:
            break
        if got + len(clip.audio) > 2.5 * target:  # would take far too much: skip this one
            continue
        held.append(clip)
        got += len(clip.audio)
    held_names = {c.name for c in held}
    train = [c for c in clips if c.name not in held_names]
    if got >= 0.5 * target and train:
        return train, sorted(held, key=lambda c: c.name)
    # too few files: hold out the tail of every file
    train, held = [], []
    for clip in clips:
        cut = int(len(clip.audio) * (1 - fraction))
        train.append(Clip(clip.name, clip.audio[:cut]))
        held.append(Clip(clip.name + "#tail", clip.audio[cut:]))
    return train, held


def load_dataset(
    folder: Path | str,
    sample_rate: int = 48000,
    heldout_fraction: float = 0.1,
    min_seconds: float = 10.0,
) -> AudioData:
    """Load every readable audio file under ``folder`` and split off held-out audio.

    Raises :class:`TrainingDataError` when the folder has no usable audio or less than
    ``min_seconds`` of it.
    """
    root = Path(folder)
    paths, skipped = find_audio_files(root)
    clips: list[Clip] = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            audio = load_audio(path, sample_rate)
        except Exception as exc:
            skipped.append((name, f"could not be decoded ({exc})"))
            continue
        if len(audio) == 0 or not np.isfinite(audio).all() or np.abs(audio).max() == 0:
            skipped.append((name, "silent or empty"))
            continue
        clips.append(Clip(name, audio))
    if not clips:
        detail = (
            f" ({len(skipped)} file(s) skipped, e.g. {skipped[0][0]}: {skipped[0][1]})"
            if skipped
            else ""
        )
        raise TrainingDataError(
            f"no usable audio in {str(root)!r}{detail}; give a folder holding audio files that "
            f"soundfile can read (WAV, FLAC, OGG, ...)"
        )
    seconds = sum(len(c.audio) for c in clips) / sample_rate
    if seconds < min_seconds:
        raise TrainingDataError(
            f"too little audio in {str(root)!r}: {seconds:.1f} s in {len(clips)} file(s); "
            f"training needs at least {min_seconds:.0f} s (a few minutes is better)"
        )
    train, heldout = split_heldout(clips, heldout_fraction)
    return AudioData(root, sample_rate, train, heldout, skipped)


def _crop(clip: np.ndarray, length: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """A random ``length``-sample crop of ``clip`` and the clip sample at its first sample
    (negative: a short clip lands at a random position, that many samples into the crop)."""
    crop = np.zeros(length, dtype=np.float32)
    if len(clip) >= length:
        start = int(rng.integers(0, len(clip) - length + 1))
        crop[:] = clip[start : start + length]
        return crop, start
    pos = int(rng.integers(0, length - len(clip) + 1))
    crop[pos : pos + len(clip)] = clip
    return crop, -pos


def _pick(clips: Sequence[Clip], p: np.ndarray, rng: np.random.Generator) -> int:
    return int(rng.choice(len(clips), p=p))


def tape_speed(audio: np.ndarray, ratio: float) -> np.ndarray:
    """``audio`` played ``ratio`` times faster, tape style (pitch and tempo move together;
    about ``len(audio) / ratio`` samples), resampled with soxr: float32."""
    return soxr.resample(audio, ratio, 1.0).astype(np.float32)


def random_crops(
    clips: Sequence[Clip],
    batch: int,
    length: int,
    rng: np.random.Generator,
    gain_db: tuple[float, float] = (-12.0, 3.0),
    avoid_silence: int = 4,
    pitch_semitones: float = 0.0,
    mix: float = 0.0,
    origins: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """A (batch, length) float32 batch of random crops with a random gain (no clipping).

    Clips are chosen in proportion to their length; a short clip is zero-padded at a random
    position. A crop that is almost silent is redrawn up to ``avoid_silence`` times.
    Augmentation for small datasets: ``pitch_semitones`` > 0 plays each crop faster or
    slower (tape style, uniform in +-that many semitones, resampled with soxr), and with
    probability ``mix`` a second random crop is added at -12..0 dB (a codec must also
    reproduce sounds together it only heard apart).

    ``origins``, a list, receives each crop's (clip index, clip sample at the crop's first
    sample) (only without augmentation: with it a crop is no longer one stretch of a clip).
    """
    if not 0.0 <= pitch_semitones <= 12.0:
        raise ValueError(f"pitch shift {pitch_semitones} semitones: expected 0 to 12")
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"mix probability {mix}: expected 0 to 1")
    if origins is not None and (pitch_semitones > 0 or mix > 0):
        raise ValueError("crop origins exist only without pitch shift and mixing")
    lengths = np.array([len(c.audio) for c in clips], dtype=np.float64)
    p = lengths / lengths.sum()
    out = np.zeros((batch, length), dtype=np.float32)
    for i in range(batch):
        ratio = 1.0
        if pitch_semitones > 0:
            ratio = float(2.0 ** (rng.uniform(-pitch_semitones, pitch_semitones) / 12.0))
        need = int(math.ceil(length * ratio)) + 16 if ratio != 1.0 else length
        crop = np.zeros(need, dtype=np.float32)
        origin = (0, 0)
        for _ in range(avoid_silence + 1):
            c = _pick(clips, p, rng)
            crop, start = _crop(clips[c].audio, need, rng)
            origin = (c, start)
            if np.sqrt(np.mean(crop**2)) > SILENCE_RMS:
                break
        if origins is not None:
            origins.append(origin)
        if mix > 0 and rng.random() < mix:
            other, _ = _crop(clips[_pick(clips, p, rng)].audio, need, rng)
            crop += other * np.float32(10.0 ** (rng.uniform(-12.0, 0.0) / 20.0))
        if ratio != 1.0:
            # `need` samples played back `ratio` times faster: about `length` samples
            crop = tape_speed(crop, ratio)[:length]
            if len(crop) < length:
                crop = np.pad(crop, (0, length - len(crop)))
        gain = 10.0 ** (rng.uniform(*gain_db) / 20.0)
        peak = float(np.abs(crop).max()) * gain
        if peak > 0.99:
            gain *= 0.99 / peak
        out[i] = crop * gain
    return out


def frame_rms(audio: np.ndarray, hop: int) -> np.ndarray:
    """RMS of each whole hop-sized frame: (T,) → (T // hop,)."""
    n = len(audio) // hop
    frames = audio[: n * hop].reshape(n, hop).astype(np.float64)
    return np.sqrt(np.mean(frames**2, axis=1) + 1e-20)


def crop_to_frames(audio: np.ndarray, hop: int) -> np.ndarray:
    """Pad ``audio`` with zeros to a whole number of frames."""
    n = math.ceil(len(audio) / hop) * hop
    return np.pad(audio, (0, n - len(audio)))
