"""The live engine against a real JACK server (dummy driver, 48 kHz, 256-frame periods)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from distill_live.cli import main
from distill_live.engine import AppliedChange, Engine
from distill_live.engine.render import AutomationEvent, render_frames
from distill_live.errors import ControlError
from distill_live.params import ParamValues

pytestmark = pytest.mark.jack


def _wait(cond: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


def test_play_has_no_underflows_and_changes_are_heard(rt_jack: Any, tiny_model: Any) -> None:
    applied: list[AppliedChange] = []
    # PortAudio reports each xrun of jackd itself (its dummy driver woke a period late, a
    # machine hiccup) to every client as an underflow: ours must not add any
    server_xruns = rt_jack.xruns()
    with Engine(tiny_model, params=ParamValues(seed=1)) as eng:
        eng.add_listener(applied.append)
        assert eng.samplerate == 48000
        assert eng.first_sound_s is not None and eng.first_sound_s < 5
        for i in range(8):
            time.sleep(0.25)
            assert eng.set("temperature", 0.6 + 0.1 * i, source="api") == pytest.approx(
                0.6 + 0.1 * i
            )
        assert eng.set("gain", 99) == 12.0  # clamped to the range
        with pytest.raises(ControlError, match="unknown parameter"):
            eng.set("volume", 1.0)
        time.sleep(0.5)
        from distill_live.model import build_model

        eng.switch_model(build_model(tiny=True), fade_s=0.3)  # equal-power crossfade
        stream = eng.stream
        assert stream is not None
        assert _wait(lambda: stream.fade is None and stream.model is eng.model, 5)
        time.sleep(0.3)
        st = eng.stats()
    assert st["callbacks"] > 500  # about 3.2 s at 5.3 ms per period
    assert st["empty_callbacks"] == 0, st
    assert st["underflows"] <= rt_jack.xruns() - server_xruns, (st, rt_jack.xruns())
    assert st["frames_played"] > 3 * 48000
    assert [c.param for c in applied] == ["temperature"] * 8 + ["gain"]
    # each change takes effect where it was asked for (spliced in), in order
    frames = [c.frame for c in applied]
    assert frames == sorted(frames) and frames[0] > 0
    assert st["changes_applied"] == 9
    assert st["level_db"] < 0


def test_audio_process_restarts_after_being_killed(
    rt_jack: Any, tiny_model: Any, tmp_path: Path
) -> None:
    with Engine(tiny_model, lookahead_ms=400) as eng:
        rec_path = eng.record_start(tmp_path / "take.wav", subtype="FLOAT")
        time.sleep(0.8)
        stream = eng.stream
        pid = eng.stats()["audio_pid"]
        played_before = eng.stats()["frames_played"]
        generated_before = eng.stats()["frames_generated"]
        eng.output.kill()
        assert _wait(lambda: eng.stats()["audio_restarts"] >= 1, 10), eng.stats()
        assert eng.stats()["audio_pid"] != pid
        assert _wait(lambda: eng.stats()["frames_played"] > played_before + 48000, 5)
        st = eng.stats()
        assert eng.stream is stream  # same generator: its state carried on
        assert st["frames_generated"] > generated_before
        assert any("exited" in e for e in st["audio_events"])
        assert st["recording"] == str(rec_path)
        eng.record_stop()
        played = eng.stats()["frames_played"]
    data, rate = sf.read(rec_path, dtype="float32")
    side = json.loads(Path(str(rec_path) + ".json").read_text())
    assert side["status"] == "complete"
    assert rate == 48000 and data.shape[1] == 2
    # everything played while recording is in the file, before and after the restart
    assert data.shape[0] > 48000 and data.shape[0] <= played
    assert np.sqrt(np.mean(data**2)) > 1e-4


def test_live_equals_render_with_the_same_changes(
    rt_jack: Any, tiny_model: Any, tmp_path: Path
) -> None:
    """What was played (recorded as FLOAT) equals an offline render given the changes as
    automation at the frames where they took effect: bit for bit."""
    applied: list[AppliedChange] = []
    with Engine(tiny_model, params=ParamValues(seed=9)) as eng:
        eng.add_listener(applied.append)
        path = eng.record_start(tmp_path / "live.wav", subtype="FLOAT")
        origin = eng.record_origin
        for name, value in [("temperature", 0.5), ("seed", 3), ("gain", -3.0), ("top_k", 4)]:
            time.sleep(0.3)
            eng.set(name, value)
        time.sleep(0.6)
        eng.record_stop()
    live, _ = sf.read(path, dtype="float32")
    assert len(applied) == 4
    auto = [AutomationEvent(c.frame / 48000, c.param, c.value) for c in applied]
    ref = render_frames(
        tiny_model,
        origin + live.shape[0],
        params=ParamValues(seed=9),
        channels=2,
        automation=auto,
    )[origin:]
    # bit for bit, but where a change's regeneration outran the engine's margin and its
    # audio faded in a few ms late (the sidecar lists those frames; usually none)
    late = json.loads(Path(str(path) + ".json").read_text())["late_replacements"]
    same = np.ones(len(live), dtype=bool)
    for a, b in late:
        same[a:b] = False
    differ = np.flatnonzero(np.any(live != ref, axis=1))
    assert same.mean() > 0.9 and np.array_equal(live[same], ref[same]), (late, differ[:5])


@pytest.mark.parametrize("safety_ms", [None, 1.0])
def test_a_take_with_notes_replays_from_its_sidecar_bit_for_bit(
    rt_jack: Any, tmp_path: Path, safety_ms: float | None
) -> None:
    """The shipped (pitched) model played live with keys, bend, pedal and knobs, recorded
    mid-stream; ``replay`` renders the take again from its sidecar alone: the same audio.
    With a 1 ms margin every replacement comes late: the sidecar lists where, and the replay
    is the same everywhere else."""
    from distill_live.engine.render import replay

    with Engine("default", params=ParamValues(seed=4, glide=30.0), safety_ms=safety_ms) as eng:
        eng.note(50, 90)  # before the take: its sidecar must carry it
        time.sleep(0.4)
        path = eng.record_start(tmp_path / "take.wav", subtype="FLOAT")
        assert eng.record_origin > 0
        for step in [
            lambda: eng.note(57, 120),
            lambda: eng.set("bend", 0.5, "midi"),
            lambda: eng.set("sustain", 1, "midi"),
            lambda: eng.note(57, 0),
            lambda: eng.note(64, 70),
            lambda: eng.set("temperature", 0.8),
            lambda: eng.set("sustain", 0, "midi"),
            lambda: eng.all_notes_off(),
        ]:
            step()
            time.sleep(0.2)
        time.sleep(0.3)
        eng.record_stop()
    side = json.loads(Path(str(path) + ".json").read_text())
    notes = [e for e in side["events"] if e["param"] == "note"]
    assert [(e["value"], e["velocity"]) for e in notes] == [(57, 120), (57, 0), (64, 70)]
    assert side["stream"]["events_before"][0]["param"] == "note"
    live, _ = sf.read(path, dtype="float32")
    again = replay(path, tmp_path / "again.wav", subtype="FLOAT")
    ref, _ = sf.read(again, dtype="float32")
    assert live.shape == ref.shape
    # identical, but where the engine fell behind its margin (the sidecar lists those
    # frames: a replacement that faded in a few ms late; usually none)
    same = np.ones(len(live), dtype=bool)
    for a, b in side["late_replacements"]:
        same[a:b] = False
    assert same.mean() > 0.9, side["late_replacements"]
    if safety_ms is not None:
        assert len(side["late_replacements"]) >= 4  # most of the 8 changes came late
        assert not np.array_equal(live, ref)  # and it shows
    assert np.array_equal(live[same], ref[same])
    # the command line does the same
    cli = tmp_path / "cli.wav"
    assert main(["render", str(cli), "--replay", str(path), "--subtype", "FLOAT"]) == 0
    assert np.array_equal(sf.read(cli, dtype="float32")[0], ref)


def test_play_command_against_jack(rt_jack: Any, tmp_path: Path, capsys: Any) -> None:
    from distill_live.model import build_model, save_model

    model = tmp_path / "tiny.distill"
    save_model(build_model(tiny=True), model)
    rec = tmp_path / "recs"
    argv = ["play", "--model", str(model), "--duration", "2", "--no-ui", "--osc-port", "0"]
    argv += ["--temperature", "0.9", "--stereo", "mid-side", "--record", f"{rec}/"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "playing on" in err and "0 empty callbacks" in err, err
    files = list(rec.glob("*.wav"))
    assert len(files) == 1
    data, rate = sf.read(files[0])
    assert rate == 48000 and data.shape[0] > 48000


def test_sigterm_stops_play_cleanly(rt_jack: Any, tmp_path: Path) -> None:
    """`kill PID` (SIGTERM, what launchers and service managers send) ends `play` like Ctrl-C:
    exit status 0, the summary printed, the recording finished (not left "recording")."""
    import signal

    from distill_live.model import build_model, save_model
    from distill_live.record import read_sidecar, sidecar_path

    model = tmp_path / "tiny.distill"
    save_model(build_model(tiny=True), model)
    take = tmp_path / "take.wav"
    argv = [sys.executable, "-m", "distill_live", "play", "--model", str(model), "--no-ui"]
    argv += ["--duration", "60", "--osc-port", "0", "--no-oscquery", "--record", str(take)]
    child = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    try:
        # the sidecar is created before the WAV: check that the WAV is there before its size
        assert _wait(
            lambda: sidecar_path(take).exists() and take.exists() and take.stat().st_size > 200_000,
            60,
        )
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert child.returncode == 0, err
    assert "played" in err and "0 empty callbacks" in err, err
    doc = read_sidecar(sidecar_path(take))
    assert doc["status"] == "complete", doc
    data, rate = sf.read(take)
    assert rate == 48000 and len(data) > 24000  # what was on disk at SIGTERM, at least


def test_play_without_any_output_says_so(tmp_path: Path) -> None:
    from distill_live.model import build_model, save_model

    model = tmp_path / "tiny.distill"
    save_model(build_model(tiny=True), model)
    env = {**os.environ, "JACK_DEFAULT_SERVER": "no-such-server", "JACK_NO_START_SERVER": "1"}
    env.pop("PULSE_SERVER", None)
    done = subprocess.run(
        [sys.executable, "-m", "distill_live", "play", "--model", str(model), "--no-ui"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "cannot open audio output" in lines[0] and "Found:" in lines[0]


def test_engine_survives_the_jack_server_going_away(
    tiny_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own JACK server: stopped mid-stream (callbacks stop, the stream would hang), then
    started again under the same name. The watchdog kills the stuck audio process, retries
    until the server is back, and playback and recording carry on with the same generator."""
    from distill_live.jack_dummy import DummyJackServer

    first = DummyJackServer(set_env=False)
    # this server only, even while it is gone (not the session's server)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", first.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    first.start()
    second: DummyJackServer | None = None
    try:
        eng = Engine(tiny_model).start()
        try:
            eng.record_start(tmp_path / "across.wav", subtype="FLOAT")
            stream = eng.stream
            assert _wait(lambda: eng.stats()["frames_played"] > 24000, 5)
            first.stop()
            assert _wait(lambda: eng.stats()["audio_status"] == "restarting", 5)
            assert any("stopped" in e for e in eng.stats()["audio_events"])
            time.sleep(1.5)  # no server: restarts fail and are retried
            assert eng.stats()["audio_status"] == "restarting"
            second = DummyJackServer(name=first.name, set_env=False)
            second.start()
            assert _wait(lambda: eng.stats()["audio_status"] == "running", 10)
            played = eng.stats()["frames_played"]
            assert _wait(lambda: eng.stats()["frames_played"] > played + 24000, 5)
            assert eng.stream is stream and eng.stats()["audio_restarts"] == 1
            path = eng.record_stop()
        finally:
            eng.stop()
    finally:
        for srv in (first, second):
            if srv is not None:
                srv.stop()
    assert path is not None
    data, _ = sf.read(path, dtype="float32")
    assert data.shape[0] > 36000  # before and after the outage


def test_engine_resamples_for_a_44k1_server(
    tiny_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distill_live.errors import DeviceError
    from distill_live.jack_dummy import DummyJackServer

    srv = DummyJackServer(samplerate=44100, set_env=False)
    monkeypatch.setenv("JACK_DEFAULT_SERVER", srv.name)
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    srv.start()
    try:
        with pytest.raises(DeviceError, match="cannot open audio output"):
            Engine(tiny_model, samplerate=48000).start()  # the server runs at 44.1 kHz
        with Engine(tiny_model) as eng:
            assert eng.samplerate == 44100
            path = eng.record_start(tmp_path / "r.wav", subtype="FLOAT")
            origin = eng.record_origin
            time.sleep(1.5)
            eng.record_stop()
            st = eng.stats()
    finally:
        srv.stop()
    assert st["empty_callbacks"] == 0
    data, rate = sf.read(path, dtype="float32")
    assert rate == 44100 and data.shape[0] > 44100
    # what was played is the same deterministic stream as an offline render at 44.1 kHz
    ref = render_frames(tiny_model, origin + data.shape[0], samplerate=44100, channels=2)
    assert np.array_equal(data, ref[origin:])


def test_device_by_name_substring_or_index(rt_jack: Any, tiny_model: Any) -> None:
    from distill_live.errors import DeviceError

    with Engine(tiny_model, device="system", lookahead_ms=100) as eng:
        assert eng.stats()["device"] == "system"
        index = eng.output.info["index"]
    assert isinstance(index, int)
    with Engine(tiny_model, device=index, lookahead_ms=100) as eng:
        assert eng.stats()["device"] == "system"
    with pytest.raises(DeviceError, match=r"cannot open audio output no-such-card.*Found: \d+: "):
        Engine(tiny_model, device="no-such-card").start()
    with pytest.raises(DeviceError, match="Found:"):
        Engine(tiny_model, device=999).start()
