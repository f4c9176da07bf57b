"""Crash safety (SIGKILL, header repair, recovery) and a disk that fills up, with real files."""

from __future__ import annotations

import os
import signal as signals
import struct
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from distill_live.record import (
    Recorder,
    read_sidecar,
    recover_sessions,
    repair_header,
    sidecar_path,
)
from tests.record.helpers import TmpfsUnavailable, signal, small_tmpfs

CHILD = Path(__file__).with_name("record_child.py")
REPO = Path(__file__).resolve().parents[2]


def _start_child(path: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.parametrize("container", ["wav", "rf64", "w64"])
def test_sigkill_mid_recording_leaves_a_readable_file(tmp_path: Path, container: str) -> None:
    path = tmp_path / ("killed.w64" if container == "w64" else "killed.wav")
    child = _start_child(path, container)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("started"), line + child.stderr.read() if child.stderr else ""
        t_first = time.monotonic()
        time.sleep(3.5)
        elapsed = time.monotonic() - t_first
        child.send_signal(signals.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signals.SIGKILL

    # Straight after the kill, untouched: the file opens and holds all but the last 2 s.
    frames = sf.info(str(path)).frames
    assert frames >= (elapsed - 2.0) * 48000, (frames / 48000, elapsed)
    if container == "wav":
        with wave.open(str(path)) as w:
            assert w.getnframes() == frames and w.getframerate() == 48000
    # The audio is the child's signal (seeded): the first blocks match.
    rng = np.random.default_rng(1)
    first = np.concatenate([rng.uniform(-0.5, 0.5, (256, 2)) for _ in range(4)])
    back = sf.read(str(path), frames=1024, dtype="float64")[0]
    assert np.abs(back - first).max() < 1e-6
    assert read_sidecar(sidecar_path(path))["status"] == "recording"

    # The next start of a recording in that folder finds it and marks it recovered.
    nxt = Recorder(tmp_path / "next.wav", samplerate=48000, channels=2).start()
    nxt.stop()
    assert [r.sidecar for r in nxt.recovered] == [sidecar_path(path)]
    doc = read_sidecar(sidecar_path(path))
    assert doc["status"] == "recovered"
    assert doc["frames_written"] == sf.info(str(path)).frames >= frames
    assert doc["parts"] == [{"file": path.name, "frames": doc["frames_written"]}]
    assert "recovered" in doc["reason"]
    assert not (tmp_path / f".{path.name}.reserve").exists()
    assert recover_sessions(tmp_path) == []  # only once


def _wav(path: Path, container: str, subtype: str, frames: int) -> np.ndarray:
    audio = signal(frames, 2, seed=frames)
    fmt = {"wav": "WAV", "rf64": "RF64", "w64": "W64"}[container]
    sf.write(str(path), audio, 48000, format=fmt, subtype=subtype)
    return audio


@pytest.mark.parametrize(
    "container,subtype",
    [("wav", "PCM_24"), ("wav", "FLOAT"), ("rf64", "PCM_16"), ("w64", "PCM_24")],
)
def test_repair_header_rewrites_sizes_from_the_file_length(
    tmp_path: Path, container: str, subtype: str
) -> None:
    """A header left with the sizes of an empty file (what a crash leaves without automatic
    header updates), plus a partial frame at the end, is repaired to hold every whole frame."""
    path = tmp_path / f"h.{container}"
    audio = _wav(path, container, subtype, 10_000)
    empty = tmp_path / f"e.{container}"
    _wav(empty, container, subtype, 0)
    data = path.read_bytes()
    head = empty.read_bytes()
    # The empty file's header in front of the full file's data, and 2 stray bytes at the end.
    path.write_bytes(head + data[len(head) :] + b"\x01\x02")
    assert repair_header(path) is True
    back = sf.read(str(path), dtype="float32")[0]
    assert len(back) == 10_000
    tol = {"PCM_16": 1 / 2**15, "PCM_24": 1 / 2**23, "FLOAT": 0.0}[subtype]
    assert np.abs(back - audio).max() <= tol
    if container == "wav" and subtype != "FLOAT":
        with wave.open(str(path)) as w:
            assert w.getnframes() == 10_000
    assert repair_header(path) is False  # already right


def test_repair_of_a_plain_wav_broken_by_a_crash(tmp_path: Path) -> None:
    """libsndfile without header updates writes data sizes of 0 until close: Python's wave
    refuses such a file; after repair it reads every frame."""
    path = tmp_path / "plain.wav"
    audio = _wav(path, "wav", "PCM_24", 5000)
    raw = bytearray(path.read_bytes())
    struct.pack_into("<I", raw, 4, 36)  # RIFF size of an empty file
    struct.pack_into("<I", raw, 40, 0)  # data size 0
    path.write_bytes(bytes(raw))
    assert sf.info(str(path)).frames in (0, 5000)
    repair_header(path)
    with wave.open(str(path)) as w:
        assert w.getnframes() == 5000
    assert np.abs(sf.read(str(path), dtype="float32")[0] - audio).max() <= 1 / 2**23


def test_recovery_finds_parts_and_leaves_live_or_foreign_sidecars(tmp_path: Path) -> None:
    # A live recording in this process is not touched.
    live = Recorder(tmp_path / "live.wav", samplerate=48000, channels=2).start()
    try:
        (tmp_path / "foreign.json").write_text('{"hello": 1}')
        (tmp_path / "broken.json").write_text("{not json")
        assert recover_sessions(tmp_path) == []
        assert read_sidecar(sidecar_path(live.path))["status"] == "recording"
    finally:
        live.stop()
    assert recover_sessions([tmp_path / "live.wav"]) == []  # complete: nothing to do

    # A dead session whose writer opened part 3 after the sidecar's last update (lists 2).
    first = tmp_path / "dead.wav"
    rec = Recorder(first, samplerate=48000, channels=2, split_bytes=100_000)
    rec.start()
    audio = signal(48000, 2)
    for i in range(0, len(audio), 512):
        rec.write(audio[i : i + 512])
    rec.stop()
    parts = rec.parts
    assert len(parts) >= 3
    import json

    doc = json.loads(sidecar_path(first).read_text())
    doc["status"] = "recording"
    doc["parts"] = doc["parts"][:2]
    doc["writer"]["pid"] = 2**22 + 7  # no such process
    sidecar_path(first).write_text(json.dumps(doc))
    # The last part lost its header sizes.
    raw = bytearray(parts[-1].read_bytes())
    struct.pack_into("<I", raw, 40, 0)
    parts[-1].write_bytes(bytes(raw))

    found = recover_sessions(tmp_path)
    assert len(found) == 1 and found[0].frames == 48000
    assert list(found[0].parts) == parts and parts[-1] in found[0].repaired
    doc = read_sidecar(sidecar_path(first))
    assert doc["status"] == "recovered" and doc["frames_written"] == 48000
    assert [p["file"] for p in doc["parts"]] == [p.name for p in parts]


@pytest.mark.slow
def test_disk_full_fails_cleanly_and_keeps_what_was_written(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    try:
        ctx = small_tmpfs(mnt, "2m")
        ctx.__enter__()
    except TmpfsUnavailable as e:
        pytest.skip(str(e))
    try:
        path = mnt / "full.wav"
        failures: list[str] = []
        rec = Recorder(
            path, samplerate=48000, channels=2, sync_interval=0.2, on_failed=failures.append
        )
        rec.start()
        block = signal(1024, 2, seed=8)
        t_end = time.monotonic() + 20
        written = 0
        worst = 0.0
        while rec.status == "recording" and time.monotonic() < t_end:
            t = time.perf_counter()
            ok = rec.write(block)  # never raises, never waits on the disk
            worst = max(worst, time.perf_counter() - t)
            written += ok
            time.sleep(0.0005)  # ~40x realtime: 2 MB fill in well under a second of audio
        deadline = time.monotonic() + 10
        while rec.status == "recording" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rec.status == "failed"
        assert "No space left on device" in (rec.reason or ""), rec.reason
        assert failures == [rec.reason]
        assert worst < 0.02
        assert rec.write(block) is False  # stopped writing
        doc = rec.stop()
        assert doc["status"] == "failed" and "No space left" in doc["reason"]
        side = read_sidecar(sidecar_path(path))  # the final sidecar made it to the full disk
        assert side["status"] == "failed" and side["end_utc"]
        frames = sf.info(str(path)).frames
        assert frames > 48000 and frames == side["frames_written"]
        with wave.open(str(path)) as w:
            assert w.getnframes() == frames
        back = sf.read(str(path), frames=2048, dtype="float32")[0]
        assert np.abs(back[:1024] - block).max() <= 1 / 2**23
    finally:
        ctx.__exit__(None, None, None)
