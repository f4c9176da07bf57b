"""The play/render command lines: flag checks and the status line (no device needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from distill_live.cli import main
from distill_live.engine.commands import _status_line
from distill_live.params import ParamValues


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["play", "--channels", "0"], "--channels must be >= 1"),
        (["play", "--samplerate", "5"], "--samplerate must be 8000..192000"),
        (["play", "--temperature", "9"], "--temperature 9.0 is out of range"),
        (["play", "--stereo", "quad"], "invalid choice: 'quad'"),
        (["render", "x.wav", "--duration", "1", "--samplerate", "22050"], "invalid choice"),
        (["render", "x.wav", "--duration", "1", "--batch", "0"], "--batch must be >= 1"),
        (["render", "x.wav", "--duration", "-1"], "must be > 0"),
    ],
)
def test_bad_flags_give_one_line_errors(argv: list[str], message: str, capsys: Any) -> None:
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own checks exit from parse_args
        status = int(exc.code or 0)
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err


def test_render_refuses_a_missing_model(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "x.wav"
    assert main(["render", str(out), "--duration", "1", "--model", str(tmp_path / "no")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_status_line_shows_params_level_buffer_underruns_rtf_recording() -> None:
    st: dict[str, Any] = {
        "params": ParamValues(temperature=0.8, top_k=40, seed=3).as_dict(),
        "rtf": 0.21,
        "recording": "/tmp/take.wav",
        "audio_status": "running",
        "level_db": -12.3,
        "buffer_ms": 250.0,
        "underruns": 0,
        "underflows": 1,
    }
    line = _status_line(st)
    for part in (
        "T 0.80",
        "k 40",
        "seed 3",
        "-12.3 dBFS",
        "buf 250 ms",
        "underruns 0",
        "xruns 1",
        "RTF 0.21",
        "REC take.wav",
    ):
        assert part in line, (part, line)
    st.update(recording=None, audio_status="restarting", rtf=None)
    line = _status_line(st)
    assert "rec off" in line and "[audio restarting]" in line and "RTF —" in line
