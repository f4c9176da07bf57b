"""Offline render writes its files and sidecars through the same Recorder: every rate and
subtype, automation events in the sidecar, the file equal to the rendered frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from distill_live.params import ParamValues
from distill_live.record import read_sidecar, sidecar_path


@pytest.fixture(scope="module")
def tiny() -> Any:
    from distill_live.engine.engine import setup_torch
    from distill_live.model import build_model

    setup_torch()
    return build_model(tiny=True)


@pytest.mark.parametrize("samplerate", [44100, 48000, 96000])
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_render_rates_and_subtypes(
    tiny: Any, tmp_path: Path, samplerate: int, subtype: str
) -> None:
    from distill_live.engine.render import render

    out = render(
        tiny,
        tmp_path / "r.wav",
        0.5,
        params=ParamValues(seed=2),
        stereo="mono",
        samplerate=samplerate,
        subtype=subtype,
        automation=[{"time_s": 0.2, "param": "temperature", "value": 0.5}],
    )
    info = sf.info(str(out))
    assert (info.samplerate, info.subtype, info.frames) == (samplerate, subtype, samplerate // 2)
    doc = read_sidecar(sidecar_path(out))
    assert doc["status"] == "complete" and doc["frames_written"] == info.frames
    assert doc["audio"]["samplerate"] == samplerate and doc["audio"]["subtype"] == subtype
    assert doc["dropped_blocks"] == 0 and doc["seed"] == 2
    [event] = doc["events"]
    assert (event["param"], event["value"], event["source"]) == ("temperature", 0.5, "automation")
    # At the first chunk boundary at or after 0.2 s (chunks of 2 code frames = 2048 at 48 kHz).
    chunk = 2 * 1024 * samplerate / 48000
    assert 0.2 * samplerate <= event["frame"] <= 0.2 * samplerate + chunk + 1


def test_render_file_equals_the_rendered_frames(tiny: Any, tmp_path: Path) -> None:
    from distill_live.engine.render import render, render_frames

    out = render(tiny, tmp_path / "f.wav", 1.0, params=ParamValues(seed=9), subtype="FLOAT")
    expected = render_frames(tiny, 48000, params=ParamValues(seed=9)).astype(np.float32)
    back = sf.read(str(out), dtype="float32", always_2d=True)[0]
    np.testing.assert_array_equal(back, expected.reshape(back.shape))
