"""``distill-live codec``: a real file in, its round trip out, at the input's rate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "distill_live", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )


def one_line_error(done: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_codec_round_trips_a_stereo_file_at_its_own_rate(tmp_path: Path) -> None:
    rate = 44100
    t = np.arange(int(1.3 * rate)) / rate
    left = 0.3 * np.sin(2 * np.pi * 220 * t)
    right = 0.2 * np.sin(2 * np.pi * 330 * t)
    src = tmp_path / "in.flac"
    sf.write(src, np.stack([left, right], axis=1), rate)
    dst = tmp_path / "out" / "copy.wav"
    done = run_cli("codec", str(src), str(dst))
    assert done.returncode == 0, done.stderr
    info = sf.info(dst)
    assert (info.samplerate, info.channels, info.frames) == (rate, 2, len(t))
    out, _ = sf.read(dst)
    assert np.sqrt(np.mean(out**2)) > 0.01  # the codec made sound, not silence
    # OUT exists now: refused without -f, written with it
    one_line_error(run_cli("codec", str(src), str(dst)), str(dst), "use -f to overwrite")
    assert run_cli("codec", str(src), str(dst), "-f", "--mono").returncode == 0
    assert sf.info(dst).channels == 1


def test_codec_refuses_unreadable_input(tmp_path: Path) -> None:
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio at all")
    line = one_line_error(run_cli("codec", str(bad), str(tmp_path / "o.wav")), str(bad))
    assert "cannot read" in line and "soundfile reads" in line
    missing = tmp_path / "missing.wav"
    one_line_error(run_cli("codec", str(missing), str(tmp_path / "o.wav")), str(missing))
    assert not (tmp_path / "o.wav").exists()
