"""The engine's recording tee on its own (a shared ring, no audio device): only played frames
reach the file, a rollback's replacement is what is recorded, events and underruns land in
the sidecar, and crashed sessions in the folder are recovered once per start."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

import distill_live.record.recorder as recorder_module
import distill_live.record.recovery as recovery_module
from distill_live.engine.ring import H, Ring
from distill_live.engine.stream import AppliedChange
from distill_live.engine.tee import RecordingTee
from distill_live.errors import RecordingError
from distill_live.record import RecordDefaults, Recorder, read_sidecar, sidecar_path


@pytest.fixture
def ring() -> Iterator[Ring]:
    r = Ring.create(1 << 14, 2)
    yield r
    r.close()


def _frames(start: int, n: int) -> np.ndarray:
    v = np.arange(start, start + n, dtype=np.float32) / 2**14
    return np.stack([v, -v], axis=1)


def _start(tee: RecordingTee, ring: Ring, path: Path | None, folder: Path) -> Path:
    return tee.start(
        ring,
        path,
        "FLOAT",
        None,
        None,
        defaults=RecordDefaults.for_target(folder),
        samplerate=48000,
        channels=2,
        seed=7,
        metadata=lambda: {"note": "tee test"},
    )


def test_only_played_frames_from_the_origin_are_recorded(ring: Ring, tmp_path: Path) -> None:
    tee = RecordingTee(threading.Lock())
    tee.queued(0, _frames(0, 1000))
    ring.header[H.READ] = 600  # the audio callback played 600 frames
    tee.commit(ring)
    path = _start(tee, ring, tmp_path / "take.wav", tmp_path)
    assert tee.origin == 600 and tee.recorder is not None and tee.recorder.origin_frame == 600
    with pytest.raises(RecordingError, match="already recording"):
        _start(tee, ring, tmp_path / "other.wav", tmp_path)
    tee.queued(800, _frames(5000, 700))  # a rollback replaced the look-ahead from 800 on
    ring.header[H.EMPTY] = 3
    tee.applied([AppliedChange(800, "temperature", 0.5, "osc")])
    ring.header[H.READ] = 1200
    assert tee.stop(ring) == path and tee.recorder is None
    got = sf.read(str(path), dtype="float32")[0]
    want = np.concatenate([_frames(600, 200), _frames(5000, 400)])
    np.testing.assert_array_equal(got, want)
    doc = read_sidecar(sidecar_path(path))
    assert doc["events"] == [{"frame": 200, "param": "temperature", "value": 0.5, "source": "osc"}]
    assert doc["underruns"] == 3 and doc["note"] == "tee test"
    assert tee.stop(ring) is None


def test_a_start_recovers_crashed_sessions_once(
    ring: Ring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashed = tmp_path / "crashed.wav"
    with Recorder(crashed, samplerate=48000, channels=2) as rec:
        rec.write(_frames(0, 480))
    side = sidecar_path(crashed)
    doc = json.loads(side.read_text())
    doc.update(status="recording", writer=None)  # as a process killed mid-recording leaves it
    side.write_text(json.dumps(doc))
    calls: list[Any] = []
    real = recovery_module.recover_sessions

    def counting(folder: Any) -> Any:
        calls.append(folder)
        return real(folder)

    for module in (recorder_module, recovery_module):  # wherever a start might call it from
        monkeypatch.setattr(module, "recover_sessions", counting)
    tee = RecordingTee(threading.Lock())
    path = _start(tee, ring, None, tmp_path)  # a new session name in the default folder
    assert path.parent == tmp_path and path.name.startswith("session_")
    assert len(calls) == 1
    assert tee.recorder is not None and [r.sidecar for r in tee.recorder.recovered] == [side]
    assert read_sidecar(side)["status"] == "recovered"
    tee.stop(ring)
