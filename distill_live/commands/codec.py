"""``distill-live codec IN OUT``: the round trip of a sound file through a model's codec.

So a user hears what the model keeps of their own sounds before they play it. Any file
soundfile reads, at any rate and channel count: each channel is resampled to the model's rate,
encoded, decoded and resampled back, and OUT is written at the input's rate and channel count
(format from OUT's extension; ``--subtype`` as soundfile names them).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import DistillLiveError

__all__ = ["HELP", "add_arguments", "run"]

HELP = "round-trip a sound file through a model's codec (hear what the model keeps)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live codec``."""
    parser.add_argument("input", metavar="IN", type=Path, help="any file soundfile reads")
    parser.add_argument("output", metavar="OUT", type=Path, help="where to write the copy")
    parser.add_argument(
        "--model", default="default", help="a .distill file, or 'default' (the shipped model)"
    )
    parser.add_argument("--mono", action="store_true", help="mix the input to one channel first")
    parser.add_argument("--subtype", help="OUT's sample format, e.g. PCM_16, PCM_24, FLOAT")
    parser.add_argument("-f", "--force", action="store_true", help="overwrite OUT if it exists")


def run(args: argparse.Namespace) -> int:
    """``distill-live codec``: returns the exit status."""
    import numpy as np
    import soundfile as sf

    src, dst = Path(args.input), Path(args.output)
    if not src.is_file():
        raise DistillLiveError(f"cannot read {src}: no such file")
    if dst.exists() and not args.force:
        raise DistillLiveError(f"{dst} exists; use -f to overwrite it")
    if dst.resolve() == src.resolve():
        raise DistillLiveError(f"OUT is IN ({src}); write the copy somewhere else")
    try:
        audio, rate = sf.read(src, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise DistillLiveError(
            f"cannot read {src} as audio ({exc}); expected a file soundfile reads "
            "(WAV, FLAC, OGG, MP3, AIFF, ...)"
        ) from None
    if audio.shape[0] == 0:
        raise DistillLiveError(f"{src} holds no audio frames")
    if args.mono:
        audio = audio.mean(axis=1, keepdims=True)

    import soxr

    from ..model.roundtrip import round_trip
    from ..model.runtime import resolve_model, setup_torch

    setup_torch()
    model = resolve_model(args.model)
    sr = model.sample_rate
    # every channel at once (a pitched codec codes them with one pitch track: round_trip)
    x48 = soxr.resample(audio, rate, sr, quality="HQ") if rate != sr else audio  # (T, C)
    y = round_trip(model.codec, x48)
    y = soxr.resample(y, sr, rate, quality="HQ") if rate != sr else y
    out = np.pad(y, ((0, max(0, len(audio) - len(y))), (0, 0)))[: len(audio)]
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        sf.write(dst, out, rate, subtype=args.subtype)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise DistillLiveError(f"cannot write {dst}: {exc}") from None
    print(
        f"{dst}: {out.shape[0] / rate:.2f} s, {rate} Hz, {out.shape[1]} channel(s), "
        f"through {model.path or 'the model'} (peak {peak:.2f})"
    )
    return 0
