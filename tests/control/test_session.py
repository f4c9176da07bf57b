"""start_control: what it starts, errors, cleanup, and the whole
``distill-live play --osc-port N`` command driven over OSC from another process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from distill_live.control import control_args, start_control
from distill_live.control.oscwire import decode_packet, encode_message
from distill_live.errors import ControlError, DeviceError
from tests.control.helpers import FakeEngine

ROOT = Path(__file__).resolve().parents[2]


def test_start_control_osc_and_oscquery_then_close_frees_ports(fake_engine: FakeEngine) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    h = start_control(fake_engine, control_args(osc_port=port))
    try:
        assert h.osc is not None and h.osc.port == port and h.midi is None
        assert h.oscquery is not None and h.oscquery.port == port + 1
    finally:
        h.close()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))  # released


def test_start_control_errors_are_clear_and_leave_nothing_running(
    fake_engine: FakeEngine, tmp_path: Path
) -> None:
    with pytest.raises(ControlError, match="does not exist; check --midi-map"):
        start_control(fake_engine, control_args(osc_port=0, midi_map=tmp_path / "nope.toml"))
    with pytest.raises(ControlError, match="presets file .* does not exist"):
        start_control(fake_engine, control_args(osc_port=0, presets=tmp_path / "nope.toml"))
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    try:
        with pytest.raises(ControlError, match="--osc-port"):
            start_control(fake_engine, control_args(osc_port=busy.getsockname()[1]))
    finally:
        busy.close()
    with pytest.raises(ControlError, match="learn needs a MIDI input"):
        start_control(fake_engine, control_args(no_osc=True)).learn("temperature")


@pytest.mark.jack
def test_midi_port_not_found_names_available_ports(fake_engine: FakeEngine, jack_midi_out) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DeviceError, match=r"no MIDI input matching 'no-such-port'.*distill-test"):
        start_control(
            fake_engine, control_args(osc_port=0, midi_in="no-such-port", midi_backend="jack")
        )


@pytest.mark.jack
@pytest.mark.slow
def test_play_command_is_controlled_over_osc(
    jack_server, tmp_path: Path, free_udp_port: int
) -> None:  # type: ignore[no-untyped-def]
    from distill_live.model import build_model, save_model

    model = (
        save_model(build_model(tiny=True), tmp_path / "tiny.distill") or tmp_path / "tiny.distill"
    )
    replies = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    replies.bind(("127.0.0.1", 0))
    replies.settimeout(0.5)
    port = free_udp_port
    cmd = [
        sys.executable, "-m", "distill_live", "play", "--model", str(model), "--duration", "20",
        "--no-ui", "--osc-port", str(port), "--osc-reply-port", str(replies.getsockname()[1]),
        "--no-oscquery",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=dict(os.environ), stderr=subprocess.PIPE, text=True
    )
    try:

        def status() -> dict[str, object] | None:
            replies.sendto(encode_message("/distill/status"), ("127.0.0.1", port))
            try:
                while True:
                    for m in decode_packet(replies.recv(65536)):
                        if m.address == "/distill/status.reply":
                            return {
                                str(k): v for k, v in zip(m.args[::2], m.args[1::2], strict=True)
                            }
            except TimeoutError:
                return None

        deadline = time.monotonic() + 60
        first = None
        while first is None and time.monotonic() < deadline and proc.poll() is None:
            first = status()
        assert first is not None, "distill-live play never answered /distill/status"
        replies.sendto(encode_message("/distill/temperature", 0.5), ("127.0.0.1", port))
        replies.sendto(encode_message("/distill/top_k", 40.0), ("127.0.0.1", port))
        time.sleep(0.3)
        now = status()
        assert now is not None and now["temperature"] == pytest.approx(0.5) and now["top_k"] == 40
        assert now["underruns"] == 0 or isinstance(now["underruns"], int)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
        replies.close()
    assert proc.returncode in (0, -15, 130), err


def test_switch_interval_lowered_while_control_runs_and_restored(fake_engine: FakeEngine) -> None:
    before = sys.getswitchinterval()
    h = start_control(fake_engine, control_args(osc_port=0, no_oscquery=True))
    try:
        assert sys.getswitchinterval() <= 0.001
    finally:
        h.close()
    assert sys.getswitchinterval() == before
