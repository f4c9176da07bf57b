"""The control examples run against a real engine (so they never rot)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.control.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
pytestmark = pytest.mark.jack


def test_osc_sweep_example(engine, control) -> None:  # type: ignore[no-untyped-def]
    h = control()  # no reply port: replies go back to the example's own socket
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "osc_sweep.py"), "--port", str(h.osc.port), "--param", "top_p",
         "--start", "0.9", "--stop", "0.3", "--seconds", "1", "--rate", "40"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sent 41 values of top_p" in done.stdout and "now 0.3" in done.stdout
    assert engine.get("top_p") == pytest.approx(0.3)
    assert h.osc.stats()["messages"] >= 43


def test_osc_sweep_example_reports_no_server(free_udp_port: int) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "osc_sweep.py"), "--port", str(free_udp_port), "--seconds", "0.1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1 and "no answer from distill-live" in done.stderr


def test_midi_controller_sim_example(engine, control, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # the record button records into ./recordings/
    name = f"distill-sim-{os.getpid()}"
    sim = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "midi_controller_sim.py"), "--name", name, "--wait", "1.5",
         "--seconds", "1", "--end", "0.25", "--record"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        assert sim.stdout is not None
        assert "ready" in sim.stdout.readline()
        h = control(midi_in=name, midi_backend="rtmidi/UNIX_JACK")
        out, err = sim.communicate(timeout=60)
    finally:
        if sim.poll() is None:
            sim.kill()
    assert sim.returncode == 0, err
    time.sleep(0.3)
    # default mapping, soft takeover: the sweeps crossed the values, so the knobs took over
    wait_until(
        lambda: engine.get("temperature") == pytest.approx(0.1 + 1.9 * round(0.25 * 127) / 127), 5
    )
    wait_until(
        lambda: engine.get("gain") == pytest.approx(-60 + 72 * round(0.25 * 16383) / 16383), 5
    )
    assert h.midi.counts["buttons"] == 2, (dict(h.midi.counts), out)  # press only, once each
    assert list((tmp_path / "recordings").glob("*.wav"))
    assert engine.stats()["recording"] is None


def test_osc_keyboard_example_plays_notes_into_the_engine(engine, control) -> None:  # type: ignore[no-untyped-def]
    h = control()
    heard: list = []
    engine.add_listener(heard.append)
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "osc_keyboard.py"), "--port", str(h.osc.port), "--notes", "57", "64",
         "--hold", "0.3", "--transpose", "2"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "played 2 notes" in done.stdout
    wait_until(lambda: sum(c.param == "note" for c in heard) >= 4, 5, "the notes to land")
    keys = [(c.value, c.velocity, c.source) for c in heard if c.param == "note"]
    assert keys == [(57, 100, "osc"), (64, 100, "osc"), (57, 0, "osc"), (64, 0, "osc")]
    assert engine.get("transpose") == 2


def test_osc_keyboard_example_reports_a_refused_note(engine, control) -> None:  # type: ignore[no-untyped-def]
    h = control()
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "osc_keyboard.py"), "--port", str(h.osc.port), "--notes", "130",
         "--hold", "0.05"],
        capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )  # fmt: skip
    assert done.returncode == 1 and "0..127" in done.stderr and "130" in done.stderr
