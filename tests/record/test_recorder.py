"""The Recorder on its own, with real files: create, sidecar, events, formats, metadata.

The writer side (part files, sidecar rewrites, stalls, blocking mode) is in test_writer.py."""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from distill_live.errors import RecordingError
from distill_live.params import ParamValues
from distill_live.record import (
    Recorder,
    read_sidecar,
    session_metadata,
    sidecar_path,
)
from tests.record.helpers import signal


def _record(rec: Recorder, audio: np.ndarray, block: int = 256) -> None:
    for i in range(0, len(audio), block):
        assert rec.write(audio[i : i + block])


def test_start_writes_sidecar_before_the_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "take.wav"
    rec = Recorder(
        path,
        samplerate=48000,
        channels=2,
        metadata=session_metadata(params=ParamValues(seed=42, temperature=0.7), stereo="mono"),
    )
    rec.start()
    try:
        side = sidecar_path(path)
        doc = read_sidecar(side)
        assert doc["status"] == "recording"
        assert doc["seed"] == 42 and doc["stereo"] == "mono"
        assert doc["params_at_start"]["temperature"] == pytest.approx(0.7)
        assert doc["audio"] == {
            "file": "take.wav",
            "container": "wav",
            "samplerate": 48000,
            "channels": 2,
            "subtype": "PCM_24",
            "split_bytes": doc["audio"]["split_bytes"],
        }
        assert doc["start_utc"].endswith("Z") and doc["end_utc"] is None
        # The sidecar exists and was created no later than the audio file, which is empty.
        assert side.stat().st_mtime_ns <= path.stat().st_mtime_ns
        assert sf.info(str(path)).frames == 0
        with wave.open(str(path)) as w:  # the header is valid from the start
            assert w.getnframes() == 0
    finally:
        rec.stop()
    doc = read_sidecar(sidecar_path(path))
    assert doc["status"] == "complete" and doc["end_utc"] is not None
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir()), "temp/reserve left over"


def test_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "take.wav"
    path.write_bytes(b"precious")
    with pytest.raises(RecordingError, match=r"take\.wav.*already exists.*never overwrite"):
        Recorder(path, samplerate=48000, channels=2).start()
    assert path.read_bytes() == b"precious"
    assert not sidecar_path(path).exists()

    other = tmp_path / "other.wav"
    sidecar_path(other).write_text("{}")
    with pytest.raises(RecordingError, match=r"other\.wav\.json already exists"):
        Recorder(other, samplerate=48000, channels=2).start()
    assert not other.exists()
    assert sidecar_path(other).read_text() == "{}"


def test_second_start_of_same_name_fails_and_keeps_first(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    audio = signal(4800, 2)
    with Recorder(path, samplerate=48000, channels=2) as rec:
        _record(rec, audio)
    with pytest.raises(RecordingError, match="already exists"):
        Recorder(path, samplerate=48000, channels=2).start()
    assert sf.info(str(path)).frames == 4800


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(
        RecordingError, match=r"subtype must be one of PCM_16, PCM_24, FLOAT, got 'PCM_8'"
    ):
        Recorder(tmp_path / "x.wav", samplerate=48000, channels=2, subtype="PCM_8")
    with pytest.raises(RecordingError, match="container must be one of wav, rf64, w64"):
        Recorder(tmp_path / "x.wav", samplerate=48000, channels=2, container="aiff")
    with pytest.raises(RecordingError, match="cannot pass 4 GiB"):
        Recorder(tmp_path / "x.wav", samplerate=48000, channels=2, split_bytes=2**33)
    with pytest.raises(RecordingError, match="folder .*missing.* does not exist"):
        Recorder(tmp_path / "missing" / "x.wav", samplerate=48000, channels=2).start()
    rec = Recorder(tmp_path / "y.wav", samplerate=48000, channels=2).start()
    try:
        with pytest.raises(RecordingError, match=r"shape \(n, 2\), got \(10, 3\)"):
            rec.write(np.zeros((10, 3), np.float32))
        with pytest.raises(RecordingError, match="source must be one of osc, midi"):
            rec.event(0, "temperature", 1.0, "keyboard")
    finally:
        rec.stop()


def test_events_sorted_relative_to_origin_and_audio_exact(tmp_path: Path) -> None:
    path = tmp_path / "ev.wav"
    origin = 1_000_000  # the engine's frame count when recording started
    rec = Recorder(path, samplerate=48000, channels=2, origin_frame=origin, sync_interval=0.05)
    rec.start()
    audio = signal(48000, 2, seed=3)
    changes = [(origin + 512, "temperature", 0.5, "osc"), (origin + 4096, "top_k", 40, "midi")]
    for frame, name, value, source in changes:
        rec.event(frame, name, value, source)
    rec.event(origin + 1024, "gain", np.float32(-6.0), "api")  # arrives late: sorted by frame
    _record(rec, audio)
    rec.event(None, "seed", 9, "cli")  # None: at the next frame to be written
    doc = rec.stop()
    frames = [e["frame"] for e in doc["events"]]
    assert frames == [512, 1024, 4096, 48000]
    assert [e["param"] for e in doc["events"]] == ["temperature", "gain", "top_k", "seed"]
    assert doc["events"][1]["value"] == -6.0 and doc["events"][2]["value"] == 40
    assert {e["source"] for e in doc["events"]} == {"osc", "api", "midi", "cli"}
    assert doc["frames_written"] == 48000 == sf.info(str(path)).frames
    assert json.loads(sidecar_path(path).read_text())["events"] == doc["events"]


@pytest.mark.parametrize("samplerate", [44100, 48000, 96000])
@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT"])
def test_sample_rates_and_subtypes(tmp_path: Path, samplerate: int, subtype: str) -> None:
    path = tmp_path / f"r{samplerate}_{subtype}.wav"
    audio = signal(samplerate // 2, 2, seed=samplerate)
    with Recorder(path, samplerate=samplerate, channels=2, subtype=subtype) as rec:
        _record(rec, audio, block=1000)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (
        samplerate,
        2,
        subtype,
        len(audio),
    )
    back = sf.read(str(path), dtype="float32")[0]
    tol = {"PCM_16": 1 / 2**15, "PCM_24": 1 / 2**23, "FLOAT": 0.0}[subtype]
    assert np.abs(back - audio).max() <= tol
    doc = read_sidecar(sidecar_path(path))
    assert doc["audio"]["samplerate"] == samplerate and doc["audio"]["subtype"] == subtype
    assert doc["frames_written"] == len(audio)
    if subtype != "FLOAT":  # Python's wave module reads integer PCM only
        with wave.open(str(path)) as w:
            assert w.getnframes() == len(audio) and w.getframerate() == samplerate


def test_clipping_not_wrapping(tmp_path: Path) -> None:
    path = tmp_path / "loud.wav"
    loud = np.full((1000, 1), 1.7, np.float32)
    with Recorder(path, samplerate=48000, channels=1, subtype="PCM_16") as rec:
        rec.write(loud[:, 0])  # (n,) is accepted for mono
    back = sf.read(str(path), dtype="float32")[0]
    assert back.min() > 0.99  # clipped at full scale, not wrapped to negative


@pytest.mark.parametrize("container,suffix", [("rf64", ".wav"), ("w64", ".w64")])
def test_rf64_and_w64(tmp_path: Path, container: str, suffix: str) -> None:
    path = tmp_path / f"big{suffix}"
    audio = signal(24000, 2, seed=5)
    with Recorder(path, samplerate=48000, channels=2, container=container) as rec:
        _record(rec, audio)
    info = sf.info(str(path))
    assert info.format == container.upper() and info.frames == len(audio)
    assert rec.parts == [path]
    assert read_sidecar(sidecar_path(path))["audio"]["split_bytes"] is None


def test_write_after_stop_is_refused(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "s.wav", samplerate=48000, channels=1)
    assert rec.write(np.zeros(10, np.float32)) is False  # not started
    rec.start()
    rec.stop()
    assert rec.write(np.zeros(10, np.float32)) is False
    assert rec.status == "complete"
    assert rec.stop()["status"] == "complete"  # twice is fine


def test_metadata_from_a_model_file(tmp_path: Path) -> None:
    model_file = tmp_path / "m.distill"
    model_file.write_bytes(os.urandom(1000))

    class FakeModel:  # the attributes the recorder reads from a DistillModel
        path = model_file
        sha256 = None
        header = {"name": "tiny", "format_version": 1}

    meta = session_metadata(model=FakeModel(), params=ParamValues(seed=3), stereo="mid-side")
    import hashlib

    assert meta["model"] == {
        "path": str(model_file.resolve()),
        "name": "tiny",
        "sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
        "format_version": 1,
    }
    assert meta["seed"] == 3


def test_origin_can_be_fixed_after_start(tmp_path: Path) -> None:
    """The engine starts the recorder (disk I/O) outside its lock, then sets the origin."""
    rec = Recorder(tmp_path / "o.wav", samplerate=48000, channels=1).start()
    rec.origin_frame = 5000
    rec.event(5300, "temperature", 0.4, "osc")
    rec.write(np.zeros(1000, np.float32))
    doc = rec.stop()
    assert doc["events"][0]["frame"] == 300
