"""Recording with the real engine playing into JACK: OSC control during a take, SIGKILL of the
engine process, a disk that fills up while playing."""

from __future__ import annotations

import hashlib
import os
import signal as signals
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from distill_live.params import ParamValues
from distill_live.record import read_sidecar, sidecar_path
from tests.record.helpers import TmpfsUnavailable, small_tmpfs

pytestmark = [pytest.mark.jack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
BLOCK = 256  # the JACK server's period in the test rig


def _wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from distill_live.model import build_model, save_model

    path = tmp_path_factory.mktemp("model") / "tiny.distill"
    save_model(build_model(tiny=True), path)
    return path


def test_live_take_with_osc_changes(
    jack_server: Any, tiny_model_file: Path, tmp_path: Path, osc_client: Any, osc_listener: Any
) -> None:
    from distill_live.control.osc import OscServer
    from distill_live.engine import Engine
    from distill_live.model import load_model

    model = load_model(tiny_model_file)
    take = tmp_path / "take.wav"
    changes = [("temperature", 0.6), ("top_k", 40), ("temperature", 1.3), ("gain", -3.0)]
    changes += [("top_p", 0.9), ("temperature", 0.9)]
    engine = Engine(model, params=ParamValues(seed=5), stereo="mono", samplerate=48000)
    with (
        engine as eng,
        OscServer(eng, port=0, reply_host="127.0.0.1", reply_port=osc_listener.port) as osc,
    ):
        client = osc_client(osc.port)
        time.sleep(0.5)
        a0 = eng.stats()["frames_played"]
        client.send_message("/distill/record/start", str(take))
        done = osc_listener.wait_for("/distill/done", timeout=10)
        a1 = eng.stats()["frames_played"]
        assert done == ("/distill/record/start", str(take))
        assert read_sidecar(sidecar_path(take))["status"] == "recording"
        s_start = eng.stats()
        for name, value in changes:
            time.sleep(0.35)
            client.send_message(f"/distill/{name}", value)
        time.sleep(0.5)
        b0 = eng.stats()["frames_played"]
        client.send_message("/distill/record/stop", [])
        done = osc_listener.wait_for("/distill/done", timeout=10)
        b1 = eng.stats()["frames_played"]
        assert done == ("/distill/record/stop", str(take))
        s_stop = eng.stats()

    doc = read_sidecar(sidecar_path(take))
    assert doc["status"] == "complete"
    frames = sf.info(str(take)).frames
    assert frames == doc["frames_written"]
    # The WAV holds what was played between start and stop (OSC round trips bracketed).
    assert b0 - a1 - BLOCK <= frames <= b1 - a0 + BLOCK, (frames, a0, a1, b0, b1)
    assert doc["audio"]["samplerate"] == 48000 and doc["audio"]["channels"] == 2
    with wave.open(str(take)) as w:
        assert w.getnframes() == frames
    audio = sf.read(str(take), dtype="float32")[0]
    assert np.abs(audio).max() > 1e-4, "recorded silence"

    # Every change, from OSC, at increasing frames inside the take.
    events = doc["events"]
    assert [(e["param"], e["value"]) for e in events] == [(n, pytest.approx(v)) for n, v in changes]
    assert all(e["source"] == "osc" for e in events)
    ev_frames = [e["frame"] for e in events]
    assert ev_frames == sorted(ev_frames) and len(set(ev_frames)) == len(ev_frames)
    assert ev_frames[0] > 0 and ev_frames[-1] < frames
    # About 0.35 s apart, as sent (the engine applies each within a chunk or two).
    gaps = np.diff(ev_frames) / 48000
    assert np.all(gaps > 0.15) and np.all(gaps < 0.8), gaps

    # Where it came from.
    assert doc["model"]["sha256"] == hashlib.sha256(tiny_model_file.read_bytes()).hexdigest()
    assert doc["model"]["path"] == str(tiny_model_file.resolve())
    assert doc["seed"] == 5 and doc["stereo"] == "mono"
    assert doc["params_at_start"]["temperature"] == 1.0
    assert doc["underruns"] == s_stop["underruns"] - s_start["underruns"]
    assert doc["dropped_blocks"] == 0


def test_sigkill_of_the_engine_mid_recording(jack_server: Any, tmp_path: Path) -> None:
    from distill_live.engine import Engine
    from distill_live.model import build_model

    folder = tmp_path / "takes"
    folder.mkdir()
    child = subprocess.Popen(
        [sys.executable, str(REPO / "tests/record/engine_child.py"), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        start_new_session=True,  # its audio process too is killed with the group
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line.startswith("recording "):
            child.kill()
            err = child.stderr.read() if child.stderr else ""
            raise AssertionError(f"engine child did not start: {line!r} {err}")
        t0 = time.monotonic()
        path = Path(line.split(" ", 1)[1].strip())
        time.sleep(4.0)
        elapsed = time.monotonic() - t0
        os.killpg(child.pid, signals.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signals.SIGKILL)
            child.wait(10)

    frames = sf.info(str(path)).frames
    with wave.open(str(path)) as w:
        assert w.getnframes() == frames and w.getnchannels() == 2
    assert frames >= (elapsed - 2.0) * 48000, (frames / 48000, elapsed)
    side = read_sidecar(sidecar_path(path))
    assert side["status"] == "recording"
    assert side["events"], "no control change made it into the sidecar"

    # The next start (a new engine recording into the same folder) marks it recovered.
    with Engine(build_model(tiny=True), samplerate=48000) as eng:
        new = eng.record_start(folder)
        time.sleep(0.3)
        eng.record_stop()
    assert new != path
    side = read_sidecar(sidecar_path(path))
    assert side["status"] == "recovered"
    assert side["frames_written"] == sf.info(str(path)).frames >= frames


def test_disk_full_while_playing(jack_server: Any, tmp_path: Path) -> None:
    from distill_live.engine import Engine
    from distill_live.model import build_model

    mnt = tmp_path / "small"
    try:
        ctx = small_tmpfs(mnt, "1m")
        ctx.__enter__()
    except TmpfsUnavailable as e:
        pytest.skip(str(e))
    try:
        with Engine(build_model(tiny=True), samplerate=48000) as eng:
            time.sleep(0.5)
            s0 = eng.stats()
            path = eng.record_start(mnt / "full.wav")
            rec = eng.recorder
            # 1 MB at 288 kB/s (48 kHz stereo 24-bit): full after about 3.5 s
            _wait(lambda: rec.status == "failed", 15, "the recording to fail on the full disk")
            t_fail = eng.stats()
            time.sleep(1.0)  # the music goes on
            s1 = eng.stats()
            eng.record_stop()
            s2 = eng.stats()
        assert "No space left on device" in (rec.reason or ""), rec.reason
        assert s1["frames_played"] - t_fail["frames_played"] >= 0.9 * 48000
        assert s2["underruns"] - s0["underruns"] == 0, "recording added underruns"
        assert s2["error"] is None
        doc = read_sidecar(sidecar_path(path))
        assert doc["status"] == "failed" and "No space left" in doc["reason"]
        frames = sf.info(str(path)).frames
        assert frames > 2 * 48000 and frames == doc["frames_written"]
        with wave.open(str(path)) as w:
            assert w.getnframes() == frames
    finally:
        ctx.__exit__(None, None, None)


@pytest.mark.parametrize("samplerate,subtype", [(44100, "PCM_16"), (96000, "FLOAT")])
def test_live_recording_at_other_rates(tmp_path: Path, samplerate: int, subtype: str) -> None:
    """The output (and so the recording) runs at the device's rate: a JACK server at 44.1 or
    96 kHz gives a 44.1 or 96 kHz file in the subtype asked for."""
    from distill_live.engine import Engine
    from distill_live.jack_dummy import DummyJackServer
    from distill_live.model import build_model

    # The server sets JACK_DEFAULT_SERVER for the engine's audio process, and restores it.
    with (
        DummyJackServer(samplerate=samplerate, period=256),
        Engine(build_model(tiny=True), samplerate=samplerate) as eng,
    ):
        time.sleep(0.3)
        path = eng.record_start(tmp_path / f"r{samplerate}.wav", subtype=subtype)
        time.sleep(1.5)
        eng.record_stop()
    info = sf.info(str(path))
    assert (info.samplerate, info.subtype, info.channels) == (samplerate, subtype, 2)
    assert 1.0 * samplerate <= info.frames <= 2.0 * samplerate
    doc = read_sidecar(sidecar_path(path))
    assert doc["audio"]["samplerate"] == samplerate and doc["audio"]["subtype"] == subtype
    assert doc["frames_written"] == info.frames and doc["status"] == "complete"
    assert np.abs(sf.read(str(path), dtype="float32")[0]).max() > 1e-4


def test_play_command_records_into_a_folder(
    jack_server: Any, tiny_model_file: Path, tmp_path: Path
) -> None:
    """`distill-live play --record FOLDER/ --subtype PCM_16`: a new session file per start,
    named with the UTC time and seed; an existing file is refused with one line naming it."""
    folder = tmp_path / "takes"
    base = [sys.executable, "-m", "distill_live", "play", "--model", str(tiny_model_file)]
    base += ["--no-ui", "--no-osc", "--no-oscquery", "--samplerate", "48000", "--seed", "7"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [*base, "--duration", "2", "--record", f"{folder}/", "--subtype", "PCM_16"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    [wav] = sorted(folder.glob("session_*_seed7.wav"))
    info = sf.info(str(wav))
    assert info.subtype == "PCM_16" and 1.0 * 48000 <= info.frames <= 2.2 * 48000
    doc = read_sidecar(sidecar_path(wav))
    assert doc["status"] == "complete" and doc["frames_written"] == info.frames
    assert doc["seed"] == 7 and doc["params_at_start"]["seed"] == 7
    assert doc["model"]["sha256"] == hashlib.sha256(tiny_model_file.read_bytes()).hexdigest()

    taken = folder / "taken.wav"
    taken.write_bytes(b"keep me")
    done = subprocess.run(
        [*base, "--duration", "1", "--record", str(taken)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode != 0
    assert "taken.wav" in done.stderr and "already exists" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert taken.read_bytes() == b"keep me"
