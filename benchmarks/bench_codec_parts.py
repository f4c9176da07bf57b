"""Where a pitched codec's round trip goes wrong: its harmonic and residual parts apart.

    .venv/bin/python benchmarks/bench_codec_parts.py [--model PATH|default] [FILE ...]

For each file (default: the three held-out tonal sonic-pi files) the round trip through the
codec (``distill-live codec``'s, pre-roll included) three times: whole, with the residual
silenced (the harmonic oscillators alone) and with the oscillators silenced (the residual
alone). For each it prints the spectral convergence against the original (eval's
definition), the RMS, and the comb: the spacing in Hz at which the log-magnitude spectrum of
the file's 0.5-2.5 s, over 2-4 kHz, best correlates with itself (8-80 Hz searched). A decoder
part that repeats every code frame puts its peak at the frame rate (46.9 Hz at hop 1024).
Then, per band of :data:`BANDS_HZ`, the original's share of the energy and the whole round
trip's energy against it in dB (eval's 2048-point spectra, hop 512): which ranges come out
too quiet or too loud.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)

from distill_live.model.data import load_audio  # noqa: E402
from distill_live.model.files import load_model  # noqa: E402
from distill_live.model.metrics import _stft_mag, spectral_metrics  # noqa: E402
from distill_live.model.pitched import PitchedCodec  # noqa: E402
from distill_live.model.roundtrip import round_trip  # noqa: E402

SAMPLES = Path("/usr/share/sonic-pi/samples")
TONAL = ["guit_em9", "ambi_haunted_hum", "tabla_ghe6"]
SILENT = -60.0  # a head's bias that silences its part (exp(-60) is 0 in float32 sums)
BANDS_HZ = (0, 200, 500, 1000, 2000, 4000, 8000, 16000)  # lower edges; the last to Nyquist


def band_energies(audio: np.ndarray, sr: int) -> np.ndarray:
    """Energy per band of :data:`BANDS_HZ` of ``audio`` (T,), summed over the 2048-point
    Hann frames (hop 512) of eval's spectra → (len(BANDS_HZ),)."""
    n = 2048
    mag = _stft_mag(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)), n)
    power = mag.double().square().sum(1).numpy()  # (bins,)
    band = np.searchsorted(BANDS_HZ, np.fft.rfftfreq(n, 1 / sr), side="right") - 1
    return np.bincount(band, weights=power, minlength=len(BANDS_HZ))


def comb_spacing(audio: np.ndarray, sr: int) -> tuple[float, float] | None:
    """(spacing Hz, correlation) of the strongest repeat of the log spectrum of 0.5-2.5 s over
    2-4 kHz, or None for audio shorter than 2.5 s."""
    seg = audio[int(0.5 * sr) : int(2.5 * sr)]
    if len(seg) < 2 * sr:
        return None
    mag = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    hz = np.fft.rfftfreq(len(seg), 1 / sr)
    band = np.log(mag[(hz > 2000) & (hz < 4000)] + 1e-6)
    band -= band.mean()
    ac = np.correlate(band, band, "full")[len(band) - 1 :]
    df = hz[1]
    lo, hi = int(8 / df), int(80 / df)
    k = lo + int(np.argmax(ac[lo:hi]))
    return k * df, float(ac[k] / ac[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*", help="audio files (default: three sonic-pi files)")
    ap.add_argument("--model", default=None, help="a .distill file or 'default'")
    args = ap.parse_args()
    model = load_model(None if args.model in (None, "default") else args.model)
    codec = model.codec.float().eval()
    if not isinstance(codec, PitchedCodec):
        raise SystemExit(f"{model.path} has a plain codec: no harmonic and residual parts")
    dec = codec.decoder
    files = [Path(f) for f in args.files] or [SAMPLES / f"{n}.flac" for n in TONAL]
    sr = codec.sample_rate
    harm_bias, res_bias = dec.harm_head.bias.data.clone(), dec.res_head.bias.data.clone()
    print(f"model {model.path} (residual phase {codec.config.phase})")
    for path in files:
        x = load_audio(path, sr)
        comb = comb_spacing(x, sr)
        print(f"{path.name}: {len(x) / sr:.2f} s, RMS {np.sqrt(np.mean(x**2)):.4f}", end="")
        print(f", comb {comb[0]:.1f} Hz ({comb[1]:.2f})" if comb else "")
        for part in ("whole", "harmonic", "residual"):
            with torch.no_grad():
                dec.harm_head.bias.copy_(harm_bias)
                dec.res_head.bias.copy_(res_bias)
                if part == "harmonic":  # every residual magnitude silenced
                    dec.res_head.bias[: dec.n_res].view(-1, 2, dec.n_bins)[:, 0] = SILENT
                elif part == "residual":
                    dec.harm_head.bias.fill_(SILENT)
            y = round_trip(codec, x)
            sc = spectral_metrics(torch.from_numpy(y), torch.from_numpy(x), sr)["sc"]
            comb = comb_spacing(y, sr)
            line = f"  {part:9s} SC {sc:.3f}  RMS {np.sqrt(np.mean(y**2)):.4f}"
            print(line + (f"  comb {comb[0]:.1f} Hz ({comb[1]:.2f})" if comb else ""))
            if part == "whole":
                whole = y
        ex, ey = band_energies(x, sr), band_energies(whole[: len(x)], sr)
        print("  band Hz   " + " ".join(f"{b:>6d}" for b in BANDS_HZ))
        print("  share     " + " ".join(f"{e:6.3f}" for e in ex / ex.sum()))
        db = 10 * np.log10(np.maximum(ey, 1e-20) / np.maximum(ex, 1e-20))
        print("  whole dB  " + " ".join(f"{d:+6.1f}" for d in db))
    with torch.no_grad():
        dec.harm_head.bias.copy_(harm_bias)
        dec.res_head.bias.copy_(res_bias)


if __name__ == "__main__":
    main()
