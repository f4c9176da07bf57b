"""The writer side of a recording (distill_live.record.writer): the queue with its gaps, part
files that join to the exact audio, sidecar rewrites while recording, a stalled disk, the
blocking mode of offline render, and failures reported through logging."""

from __future__ import annotations

import json
import logging
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from distill_live.record import Recorder, read_sidecar, sidecar_path
from distill_live.record.writer import RecordQueue
from tests.record.helpers import read_parts, read_parts_int, signal


def _record(rec: Recorder, audio: np.ndarray, block: int = 256) -> None:
    for i in range(0, len(audio), block):
        assert rec.write(audio[i : i + block])


def test_queue_drains_in_timeline_order_with_gaps_as_silence() -> None:
    q = RecordQueue(8, 1)
    got: list[np.ndarray] = []

    def sink(a: np.ndarray) -> None:  # gets a view of the ring: copy, as a file write does
        got.append(a.copy())

    q.put(np.full((5, 1), 1.0, dtype=np.float32))
    assert q.free() == 3
    q.drop(4)  # does not fit: a gap at frame 5
    q.drop(2)  # adjacent: merged in the log, kept apart in the queue
    assert q.position == 11 and q.gap_log == [[5, 6]] and q.dropped_blocks == 2
    assert q.drain(3, sink) and q.free() == 6  # the budget is respected
    q.put(np.full((4, 1), 2.0, dtype=np.float32))  # wraps around the ring
    while q.pending():
        assert q.drain(100, sink)
    assert not q.drain(100, sink)
    out = np.concatenate(got)[:, 0]
    np.testing.assert_array_equal(out, [1] * 5 + [0] * 6 + [2] * 4)
    assert q.space.is_set()


@pytest.mark.parametrize("subtype", ["PCM_24", "FLOAT"])
def test_split_parts_join_to_the_exact_audio(tmp_path: Path, subtype: str) -> None:
    split = 200_000  # a few hundred kB instead of 4 GiB
    path = tmp_path / "long.wav"
    audio = signal(48000 * 3 + 123, 2, seed=11)  # about 3 s: several parts
    rec = Recorder(path, samplerate=48000, channels=2, subtype=subtype, split_bytes=split)
    with rec:
        _record(rec, audio, block=1000)  # blocks straddle part boundaries
    parts = rec.parts
    assert len(parts) >= 4
    assert [p.name for p in parts[:3]] == ["long.wav", "long_part002.wav", "long_part003.wav"]
    assert all(p.stat().st_size <= split for p in parts)
    # Nothing lost or doubled at a switch: identical to writing the whole audio in one file.
    whole = tmp_path / "whole.wav"
    sf.write(str(whole), audio, 48000, subtype=subtype)
    if subtype == "FLOAT":
        np.testing.assert_array_equal(read_parts(parts), sf.read(str(whole), dtype="float32")[0])
    else:
        np.testing.assert_array_equal(read_parts_int(parts), sf.read(str(whole), dtype="int32")[0])
    doc = read_sidecar(sidecar_path(path))
    assert [p["file"] for p in doc["parts"]] == [p.name for p in parts]
    assert [p["frames"] for p in doc["parts"]] == [sf.info(str(p)).frames for p in parts]
    assert sum(p["frames"] for p in doc["parts"]) == doc["frames_written"] == len(audio)
    for p in parts:  # each part is a complete WAV on its own
        with wave.open(str(p)) if subtype != "FLOAT" else sf.SoundFile(str(p)) as w:
            assert w is not None


def test_sidecar_updates_are_atomic(tmp_path: Path) -> None:
    """A reader polling the sidecar while it is rewritten 100 times a second never sees a
    partial document."""
    path = tmp_path / "atomic.wav"
    rec = Recorder(path, samplerate=48000, channels=2, sync_interval=0.005)
    rec._cost_factor = 0.0  # rewrite every 5 ms even when fsync is slow on a busy machine
    rec.start()
    side = sidecar_path(path)
    seen: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                seen.append(json.loads(side.read_text())["frames_written"])
            except (ValueError, KeyError) as e:
                errors.append(repr(e))

    t = threading.Thread(target=reader)
    t.start()
    audio = signal(256, 2)
    for i in range(600):  # ~1.6 s of audio, events as we go so the document grows
        rec.write(audio)
        if i % 10 == 0:
            rec.event(i * 256, "temperature", 0.1 + i / 1000, "osc")
        time.sleep(0.002)
    rec.stop()
    stop.set()
    t.join()
    assert not errors, errors[:3]
    assert len(seen) > 50 and seen == sorted(seen)  # frames only ever grow
    assert len(set(seen)) > 5, "the sidecar was not updated during the recording"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_stalled_writer_drops_blocks_as_gaps_and_write_never_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stall.wav"
    release = threading.Event()
    original = sf.SoundFile.write
    calls = {"n": 0}

    def stalled_write(self: sf.SoundFile, data: np.ndarray) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the disk hangs on the second write
            release.wait(20)
        original(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", stalled_write)
    block = 480
    rec = Recorder(path, samplerate=48000, channels=2, queue_seconds=0.25)  # 12000 frames
    rec.start()
    audio = signal(block * 200, 2, seed=2)
    results = []
    durations = []
    for i in range(200):
        t = time.perf_counter()
        results.append(rec.write(audio[i * block : (i + 1) * block]))
        durations.append(time.perf_counter() - t)
        if i == 5:
            time.sleep(0.3)  # let the writer take block 0..5 and hang
    release.set()
    doc = rec.stop()
    assert max(durations) < 0.02, f"write() took {max(durations) * 1000:.1f} ms"
    dropped = [i for i, ok in enumerate(results) if not ok]
    assert dropped, "the queue never overflowed"
    assert doc["status"] == "complete"
    assert doc["dropped_blocks"] == len(dropped)
    assert doc["dropped_frames"] == len(dropped) * block
    # Gaps are merged runs of dropped blocks at their place in the timeline.
    assert sum(g["frames"] for g in doc["gaps"]) == len(dropped) * block
    assert doc["gaps"][0]["frame"] == dropped[0] * block
    # The file keeps the timeline: silence where blocks were dropped, the audio elsewhere.
    back = sf.read(str(path), dtype="float32")[0]
    assert len(back) == len(audio) == doc["frames_written"]
    for i, ok in enumerate(results):
        seg = back[i * block : (i + 1) * block]
        if ok:
            assert np.abs(seg - audio[i * block : (i + 1) * block]).max() < 1e-6
        else:
            assert not seg.any()


def test_blocking_mode_waits_instead_of_dropping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "render.wav"
    original = sf.SoundFile.write

    def slow_write(self: sf.SoundFile, data: np.ndarray) -> None:
        time.sleep(0.01)
        original(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", slow_write)
    audio = signal(48000, 2, seed=4)
    rec = Recorder(path, samplerate=48000, channels=2, blocking=True, queue_seconds=0.1)
    with rec:
        _record(rec, audio, block=2048)  # a block bigger than what is free is split
    assert rec.dropped_blocks == 0
    np.testing.assert_allclose(sf.read(str(path), dtype="float32")[0], audio, atol=1 / 2**23)


def test_a_failed_recording_is_logged_not_printed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "fail.wav"

    def broken_write(self: sf.SoundFile, data: np.ndarray) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sf.SoundFile, "write", broken_write)
    rec = Recorder(path, samplerate=48000, channels=2)
    with caplog.at_level(logging.ERROR, logger="distill_live.record"):
        rec.start()
        rec.write(signal(480, 2))
        doc = rec.stop()
    assert doc["status"] == "failed" and "No space left on device" in doc["reason"]
    assert [r.getMessage() for r in caplog.records] == [
        f"recording {path} failed: No space left on device"
    ]
    assert "failed" not in capfd.readouterr().err  # no print of its own on the writer thread
