"""Offline render writes its files and sidecars through the same Recorder: every rate and
subtype, automation events in the sidecar, the file equal to the rendered frames."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from distill_live.engine.generator import chunk_frames_for
from distill_live.params import ParamValues
from distill_live.record import read_sidecar, sidecar_path


@pytest.fixture(scope="module")
def tiny() -> Any:
    from distill_live.model import build_model
    from distill_live.model.runtime import setup_torch

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
    # At the first chunk boundary at or after 0.2 s (chunks of about 2048 samples at 48 kHz).
    chunk = chunk_frames_for(tiny.hop) * tiny.hop * samplerate / 48000
    assert 0.2 * samplerate <= event["frame"] <= 0.2 * samplerate + chunk + 1


def test_render_file_equals_the_rendered_frames(tiny: Any, tmp_path: Path) -> None:
    from distill_live.engine.render import render, render_frames

    out = render(tiny, tmp_path / "f.wav", 1.0, params=ParamValues(seed=9), subtype="FLOAT")
    expected = render_frames(tiny, 48000, params=ParamValues(seed=9)).astype(np.float32)
    back = sf.read(str(out), dtype="float32", always_2d=True)[0]
    np.testing.assert_array_equal(back, expected.reshape(back.shape))


def test_render_command_passes_container_and_split(tmp_path: Path) -> None:
    """`distill-live render --record-container w64` writes W64; `--record-split-mb` splits
    into parts that join to the one-file render."""
    from distill_live.cli import main
    from distill_live.model import build_model, save_model

    model = tmp_path / "tiny.distill"
    save_model(build_model(tiny=True), model)
    common = ["--model", str(model), "--duration", "2", "--seed", "3", "--no-progress"]
    common += ["--subtype", "PCM_16", "--stereo", "dual-seed"]
    assert main(["render", str(tmp_path / "w"), "--record-container", "w64", *common]) == 0
    w64 = tmp_path / "w.w64"
    info = sf.info(str(w64))
    assert (info.format, info.subtype, info.frames) == ("W64", "PCM_16", 96000)
    assert read_sidecar(sidecar_path(w64))["audio"]["container"] == "w64"

    # 2 s stereo PCM_16 = 384 kB: a 0.15 MB limit makes 3 parts
    assert main(["render", str(tmp_path / "s.wav"), "--record-split-mb", "0.15", *common]) == 0
    doc = read_sidecar(sidecar_path(tmp_path / "s.wav"))
    assert doc["audio"]["split_bytes"] == 150_000
    parts = [tmp_path / p["file"] for p in doc["parts"]]
    assert [p.name for p in parts] == ["s.wav", "s_part002.wav", "s_part003.wav"]
    assert all(p.stat().st_size <= 150_000 for p in parts)
    joined = np.concatenate([sf.read(str(p), dtype="int16")[0] for p in parts])
    whole = sf.read(str(w64), dtype="int16")[0]
    np.testing.assert_array_equal(joined, whole)
    # --force replaces the parts too
    assert (
        main(["render", str(tmp_path / "s.wav"), "--record-split-mb", "1", "--force", *common]) == 0
    )
    assert not (tmp_path / "s_part002.wav").exists()
    assert read_sidecar(sidecar_path(tmp_path / "s.wav"))["audio"]["split_bytes"] == 1_000_000
