"""examples/api_example.py runs (so it never rots)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.jack
def test_api_example_runs(rt_jack: Any, tmp_path: Path) -> None:
    from distill_live.model import build_model, save_model

    model = tmp_path / "tiny.distill"
    save_model(build_model(tiny=True), model)
    take = tmp_path / "take.wav"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "api_example.py"), "--model", str(model)]
        + ["--seconds", "2", "--record", str(take)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "temperature = 1.3" in done.stdout
    assert "0 empty callbacks" in done.stdout, done.stdout
    data, rate = sf.read(take)
    assert rate == 48000 and data.shape[0] > 48000
