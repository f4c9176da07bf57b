"""The terminal UI of play: the live status line (no device needed)."""

from __future__ import annotations

from typing import Any

from distill_live.commands.ui import status_line
from distill_live.params import ParamValues


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
    line = status_line(st)
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
    line = status_line(st)
    assert "rec off" in line and "[audio restarting]" in line and "RTF —" in line
