"""Real peers: liblo's oscsend and python-osc change a RUNNING engine's parameters."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.control.helpers import wait_until

pytestmark = pytest.mark.jack


class Applied:
    """Collects AppliedChange events from the engine (changes in force)."""

    def __init__(self, engine: Any) -> None:
        self.changes: list[Any] = []
        self._lock = threading.Lock()
        engine.add_listener(self._on)

    def _on(self, change: Any) -> None:
        with self._lock:
            self.changes.append(change)

    def wait(self, param: str, value: float, timeout: float = 10.0) -> Any:
        def found() -> Any:
            with self._lock:
                for c in self.changes:
                    if c.param == param and c.value == pytest.approx(value):
                        return c
            return None

        wait_until(lambda: found() is not None, timeout, f"{param} = {value} in force")
        return found()


def test_oscsend_changes_running_engine(engine, control, oscsend, osc_listener) -> None:  # type: ignore[no-untyped-def]
    applied = Applied(engine)
    h = control(osc_reply_port=osc_listener.port)
    port = h.osc.port
    played_before = engine.stats()["frames_played"]
    oscsend(port, "/distill/temperature", "f", 0.5)
    oscsend(port, "/distill/top_k", "i", 40)
    oscsend(port, "/distill/gain", "i", -6)  # an int where a float is expected
    oscsend(port, "/distill/top_p", "d", 0.9)  # a double
    oscsend(port, "/distill/width", "f", 1.5)
    oscsend(port, "/distill/seed", "f", 1234.0)  # a float where an int is expected
    for name, value in [
        ("temperature", 0.5),
        ("top_k", 40),
        ("gain", -6.0),
        ("top_p", 0.9),
        ("width", 1.5),
        ("seed", 1234),
    ]:
        change = applied.wait(name, value)
        assert change.source == "osc"
        assert change.frame >= played_before  # took effect in the stream after it was sent
        assert engine.get(name) == pytest.approx(value)
    assert isinstance(engine.get("seed"), int)
    assert engine.stats()["running"]


def test_status_record_and_errors_against_engine(
    engine, control, oscsend, osc_listener, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    h = control(osc_reply_port=osc_listener.port)
    port = h.osc.port
    oscsend(port, "/distill/status")
    args = osc_listener.wait_for("/distill/status.reply")
    kv = dict(zip(args[::2], args[1::2], strict=True))
    assert kv["underruns"] == engine.stats()["underruns"]
    assert kv["recording"] == "" and kv["temperature"] == pytest.approx(1.0)
    assert kv["frames_played"] > 0

    target = tmp_path / "take.wav"
    oscsend(port, "/distill/record/start", "s", str(target))
    assert osc_listener.wait_for("/distill/done") == ("/distill/record/start", str(target))
    time.sleep(0.5)
    oscsend(port, "/distill/record/stop")
    assert osc_listener.wait_for("/distill/done") == ("/distill/record/stop", str(target))
    assert target.stat().st_size > 44

    oscsend(port, "/distill/record/stop")  # not recording: done with an empty path
    assert osc_listener.wait_for("/distill/done") == ("/distill/record/stop", "")
    oscsend(port, "/distill/temperature", "s", "hot")
    addr, reason = osc_listener.wait_for("/distill/fail")
    assert addr == "/distill/temperature" and "one number" in reason
    oscsend(port, "/distill/model", "s", str(tmp_path / "missing.distill"))
    addr, reason = osc_listener.wait_for("/distill/fail", timeout=10)
    assert addr == "/distill/model" and "missing.distill" in reason
    oscsend(port, "/distill/temperature", "f", 99.0)
    addr, reason = osc_listener.wait_for("/distill/fail")
    assert "clamped to 2.0" in reason
    wait_until(lambda: engine.get("temperature") == 2.0)
    assert h.osc.stats()["errors"] == 3


def test_echo_and_get_with_engine(engine, control, osc_client, osc_listener) -> None:  # type: ignore[no-untyped-def]
    h = control(osc_reply_port=osc_listener.port, osc_echo=True)
    c = osc_client(h.osc.port)
    c.send_message("/distill/width", 0.25)
    assert osc_listener.wait_for("/distill/width", timeout=10) == pytest.approx((0.25,))
    engine.set("gain", -12.0, source="api")  # changes from elsewhere are echoed too
    assert osc_listener.wait_for("/distill/gain", timeout=10) == pytest.approx((-12.0,))
    c.send_message("/distill/get", "width")
    assert osc_listener.wait_for("/distill/width") == pytest.approx((0.25,))


def test_preset_over_osc(engine, control, oscsend, osc_listener, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    presets = tmp_path / "presets.toml"
    presets.write_text("[calm]\ntemperature = 0.7\ntop_k = 40\n")
    h = control(osc_reply_port=osc_listener.port, presets=presets)
    oscsend(h.osc.port, "/distill/preset", "s", "calm")
    assert osc_listener.wait_for("/distill/done") == ("/distill/preset", "calm")
    assert engine.get("temperature") == 0.7 and engine.get("top_k") == 40
    oscsend(h.osc.port, "/distill/preset", "s", "loud")
    addr, reason = osc_listener.wait_for("/distill/fail")
    assert addr == "/distill/preset" and "no preset named 'loud'" in reason and "calm" in reason
