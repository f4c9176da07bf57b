"""The scripts under scripts/ that tests and benchmarks rely on."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from distill_live.model.metrics import pitch_stats

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="needs fluidsynth (bootstrap)")
def test_make_tonal_set_renders_pitched_phrases_deterministically(tmp_path: Path) -> None:
    def render(out: Path) -> list[Path]:
        done = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "make_tonal_set.py"), str(out)]
            + ["--minutes", "0.2", "--phrase-seconds", "4"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return sorted(out.glob("*.flac"))

    files = render(tmp_path / "a")
    assert [f.name for f in files] == [
        "000_piano_notes.flac",
        "001_nylon_guitar_notes.flac",
        "002_finger_bass_notes.flac",
    ]
    for f in files:
        info = sf.info(f)
        assert (info.samplerate, info.channels) == (48000, 1)
        assert info.frames == 4 * 48000
        audio, sr = sf.read(f, dtype="float32")
        assert np.max(np.abs(audio)) <= 0.99
        s = pitch_stats(audio, sr)
        assert s.pitched / max(s.loud, 1) > 0.6, f.name  # notes, not noise
    again = render(tmp_path / "b")
    for f, g in zip(files, again, strict=True):
        assert np.array_equal(sf.read(f)[0], sf.read(g)[0])  # same seed, same audio
