"""Starts without a path (OSC `/distill/record/start`, the MIDI button, the terminal key)
record like `play --record/--subtype/--record-container/--record-split-mb` asked; a failed
recording shows as failed, with its reason, in stats, `/distill/status.reply` and the
status line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from distill_live.record import RecordDefaults, read_sidecar, sidecar_path
from tests.record.helpers import TmpfsUnavailable, small_tmpfs

REPO = Path(__file__).resolve().parents[2]


def test_record_defaults_from_the_record_target(tmp_path: Path) -> None:
    d = RecordDefaults.for_target(None)
    assert (d.folder, d.subtype, d.container, d.split_bytes) == (
        "recordings/",
        "PCM_24",
        "wav",
        None,
    )
    folder = tmp_path / "takes"
    folder.mkdir()
    # an existing folder, a folder to be made (trailing separator), and a file name
    assert RecordDefaults.for_target(folder).folder == f"{folder}/"
    assert RecordDefaults.for_target(f"{tmp_path}/new/").folder == f"{tmp_path}/new/"
    d = RecordDefaults.for_target(folder / "take.wav", "FLOAT", "w64", 3_000_000)
    assert (d.folder, d.subtype, d.container, d.split_bytes) == (
        f"{folder}/",
        "FLOAT",
        "w64",
        3_000_000,
    )
    assert RecordDefaults.for_target("take.wav").folder == "./"


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from distill_live.model import build_model, save_model

    path = tmp_path_factory.mktemp("model") / "tiny.distill"
    save_model(build_model(tiny=True), path)
    return path


def _status(client: Any, listener: Any, timeout: float) -> dict[str, Any]:
    """Ask /distill/status until the engine answers; the reply as a dict."""
    deadline = time.monotonic() + timeout
    while True:
        client.send_message("/distill/status", [])
        try:
            args = listener.wait_for("/distill/status.reply", timeout=0.5)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            continue
        return dict(zip(args[::2], args[1::2], strict=True))


@pytest.mark.jack
def test_osc_start_without_path_uses_play_record_options(
    jack_server: Any,
    tiny_model_file: Path,
    tmp_path: Path,
    free_udp_port: int,
    osc_client: Any,
    osc_listener: Any,
) -> None:
    folder = tmp_path / "takes"
    folder.mkdir()
    first = folder / "first.w64"
    argv = [sys.executable, "-m", "distill_live", "play", "--model", str(tiny_model_file)]
    argv += ["--no-ui", "--duration", "60", "--no-oscquery", "--osc-port", str(free_udp_port)]
    argv += ["--osc-reply-host", "127.0.0.1", "--osc-reply-port", str(osc_listener.port)]
    argv += ["--record", str(first), "--subtype", "PCM_16", "--record-container", "w64"]
    argv += ["--record-split-mb", "5", "--seed", "11"]
    child = subprocess.Popen(
        argv,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        start_new_session=True,
    )
    try:
        client = osc_client(free_udp_port)
        st = _status(client, osc_listener, timeout=60)
        assert st["recording"] == str(first), st
        assert st["recording_status"] == "recording"
        client.send_message("/distill/record/stop", [])
        assert osc_listener.wait_for("/distill/done", 10) == ("/distill/record/stop", str(first))
        client.send_message("/distill/record/start", [])  # no path: play's defaults
        done = osc_listener.wait_for("/distill/done", 10)
        assert done[0] == "/distill/record/start"
        second = Path(done[1])
        time.sleep(0.5)
        client.send_message("/distill/record/stop", [])
        assert osc_listener.wait_for("/distill/done", 10) == ("/distill/record/stop", str(second))
        child.send_signal(signal.SIGINT)
        assert child.wait(30) == 0, child.stderr.read() if child.stderr else ""
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
    # The folder of --record's file, an automatic name, W64, PCM_16, the split limit.
    assert second.parent == folder and second.name.startswith("session_"), second
    assert second.name.endswith("_seed11.w64")
    for path in (first, second):
        info = sf.info(str(path))
        assert (info.format, info.subtype, info.samplerate) == ("W64", "PCM_16", 48000), info
        doc = read_sidecar(sidecar_path(path))
        assert doc["status"] == "complete" and doc["frames_written"] == info.frames > 0
        assert doc["audio"]["container"] == "w64"
        assert doc["audio"]["split_bytes"] == 5_000_000
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [first.name, first.name + ".json", second.name, second.name + ".json"]
    )


@pytest.mark.jack
def test_failed_recording_shows_as_failed(
    jack_server: Any, tmp_path: Path, osc_client: Any, osc_listener: Any
) -> None:
    from distill_live.commands.ui import status_line
    from distill_live.control.osc import OscServer
    from distill_live.engine import Engine
    from distill_live.model import build_model

    mnt = tmp_path / "small"
    try:
        ctx = small_tmpfs(mnt, "512k")
        ctx.__enter__()
    except TmpfsUnavailable as e:
        pytest.skip(str(e))
    try:
        engine = Engine(build_model(tiny=True), samplerate=48000)
        with (
            engine as eng,
            OscServer(eng, port=0, reply_host="127.0.0.1", reply_port=osc_listener.port) as osc,
        ):
            client = osc_client(osc.port)
            path = eng.record_start(mnt / "full.wav", subtype="FLOAT")
            rec = eng.recorder
            deadline = time.monotonic() + 15
            while rec.status == "recording" and time.monotonic() < deadline:
                time.sleep(0.02)
            st = eng.stats()
            reply = _status(client, osc_listener, timeout=5)
            line = status_line(st)
            # A new start (no path: the defaults) replaces the failed recording.
            eng.record_defaults = RecordDefaults.for_target(f"{tmp_path}/ok/", "PCM_16")
            again = eng.record_start()
            st2 = eng.stats()
            time.sleep(0.3)
            eng.record_stop()
    finally:
        ctx.__exit__(None, None, None)
    assert st["recording"] is None, st["recording"]
    assert st["recording_status"] == "failed"
    assert "No space left on device" in st["recording_error"], st["recording_error"]
    assert st["recording_path"] == str(path)
    assert reply["recording"] == "" and reply["recording_status"] == "failed"
    assert "No space left on device" in reply["recording_error"]
    assert "REC FAILED: " in line and "No space left" in line, line
    assert again.parent == tmp_path / "ok" and again.name.startswith("session_")
    assert st2["recording"] == str(again) and st2["recording_error"] is None
    assert sf.info(str(again)).subtype == "PCM_16"
    assert read_sidecar(sidecar_path(again))["status"] == "complete"
