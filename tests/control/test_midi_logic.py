"""MIDI mapping logic (pure): 7/14-bit, curves, relative encoders, soft takeover, buttons,
learn, presets, feedback. Real JACK MIDI ports are exercised in test_midi_jack.py."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from distill_live.control.mapping import (
    ButtonMapping,
    ControlMapping,
    MidiMap,
    default_mapping,
    load_mapping,
    save_mapping,
)
from distill_live.control.midi import MidiControl, decode_relative, find_port, resolve_backend
from distill_live.control.presets import load_presets
from distill_live.errors import ControlError, DeviceError
from distill_live.params import PARAMS
from tests.control.helpers import FakeEngine


def MC(*args: object, **kw: object) -> MidiControl:  # noqa: N802 - no coalescing in unit tests
    kw.setdefault("coalesce_s", 0.0)
    return MidiControl(*args, **kw)  # type: ignore[arg-type]


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", channel=channel, control=control, value=value)


def jump(*controls: ControlMapping) -> MidiMap:
    return MidiMap(controls)


def test_default_mapping_comes_from_params() -> None:
    m = default_mapping()
    assert {c.param: c.cc for c in m.controls} == {
        p.name: p.midi_cc for p in PARAMS.values() if p.midi_cc is not None
    }
    assert {b.action for b in m.buttons} == {"record_start", "record_stop"}


def test_7bit_linear_and_exp_curve(fake_engine: FakeEngine) -> None:
    m = jump(
        ControlMapping("temperature", 20, bits=7, takeover="jump"),
        ControlMapping("top_k", 21, bits=7, takeover="jump"),
    )
    mc = MC(fake_engine, m)
    mc.handle(cc(20, 127))
    assert fake_engine.get("temperature") == pytest.approx(2.0)
    mc.handle(cc(20, 0))
    assert fake_engine.get("temperature") == pytest.approx(0.1)
    mc.handle(cc(21, 64))  # exponential: half travel = sqrt(512) ≈ 23
    assert fake_engine.get("top_k") == round(512 ** (64 / 127))
    mc.handle(cc(21, 127))
    assert fake_engine.get("top_k") == 512
    mc.handle(cc(21, 0))
    assert fake_engine.get("top_k") == 0


def test_14bit_msb_then_lsb(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine, jump(ControlMapping("gain", 23, bits=14, takeover="jump")))
    mc.handle(cc(23, 100))  # no LSB seen yet: 7-bit scaling
    assert fake_engine.get("gain") == pytest.approx(-60 + 72 * 100 / 127)
    mc.handle(cc(55, 77))  # LSB: now 14-bit
    assert fake_engine.get("gain") == pytest.approx(-60 + 72 * (100 * 128 + 77) / 16383)
    mc.handle(cc(23, 127))
    mc.handle(cc(55, 127))
    assert fake_engine.get("gain") == pytest.approx(12.0)


@pytest.mark.parametrize(
    ("mode", "up", "down"),
    [
        ("relative-signed-bit", 1, 65),
        ("relative-signed-bit-2", 65, 1),
        ("relative-binary-offset", 65, 63),
        ("relative-twos-complement", 1, 127),
    ],
)
def test_relative_encoders(fake_engine: FakeEngine, mode: str, up: int, down: int) -> None:
    assert decode_relative(up, mode) == 1 and decode_relative(down, mode) == -1
    step = 1 / 64
    mc = MC(fake_engine, jump(ControlMapping("width", 24, mode=mode, step=step)))
    for _ in range(8):
        mc.handle(cc(24, up))
    assert fake_engine.get("width") == pytest.approx(1.0 + 8 * step * 2.0)
    for _ in range(100):
        mc.handle(cc(24, down))
    assert fake_engine.get("width") == 0.0  # clamped at the bottom


def test_relative_encoder_moves_int_exp_parameter(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine, jump(ControlMapping("top_k", 21, mode="relative-binary-offset")))
    for _ in range(30):
        mc.handle(cc(21, 65))
    assert float(fake_engine.get("top_k")) > 2  # does not get stuck at the bottom of the exp curve


def test_soft_takeover(fake_engine: FakeEngine) -> None:
    fake_engine.set("temperature", 1.0)  # knob position of 1.0 ≈ 0.474 (CC 60)
    mc = MC(fake_engine, jump(ControlMapping("temperature", 20, bits=7)))
    mc.handle(cc(20, 120))  # far away: ignored
    mc.handle(cc(20, 110))
    assert fake_engine.get("temperature") == 1.0
    assert mc.counts["takeover_ignored"] == 2
    mc.handle(cc(20, 40))  # crossed the value on the way down: picked up
    assert fake_engine.get("temperature") == pytest.approx(0.1 + 1.9 * 40 / 127)
    mc.handle(cc(20, 90))  # engaged: follows
    assert fake_engine.get("temperature") == pytest.approx(0.1 + 1.9 * 90 / 127)
    fake_engine.set("temperature", 0.2)  # someone else (OSC) moved it: knob must pick up again
    mc.handle(cc(20, 95))
    assert fake_engine.get("temperature") == 0.2
    mc.handle(cc(20, 5))  # 95 → 5 crosses 0.2 (≈ CC 6.7)
    assert fake_engine.get("temperature") == pytest.approx(0.1 + 1.9 * 5 / 127)


def test_soft_takeover_near_value_picks_up(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine, jump(ControlMapping("top_p", 22, bits=7)))
    mc.handle(cc(22, 126))  # top_p is 1.0: within 3/128
    assert fake_engine.get("top_p") == pytest.approx(126 / 127)


def test_channel_filter(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine, jump(ControlMapping("width", 24, channel=2, bits=7, takeover="jump")))
    mc.handle(cc(24, 0, channel=0))
    assert fake_engine.get("width") == 1.0
    mc.handle(cc(24, 0, channel=2))
    assert fake_engine.get("width") == 0.0


def test_buttons(fake_engine: FakeEngine) -> None:
    m = MidiMap(
        (),
        (
            ButtonMapping(80, "record_start"),
            ButtonMapping(81, "record_stop"),
            ButtonMapping(82, "record_toggle"),
            ButtonMapping(83, "param", mode="toggle", param="width", on=0.0, off=1.0),
        ),
    )
    mc = MC(fake_engine, m)
    mc.handle(cc(80, 127))
    assert fake_engine.recording is not None
    mc.handle(cc(81, 0))  # release: nothing
    assert fake_engine.recording is not None
    mc.handle(cc(81, 127))
    assert fake_engine.recording is None
    mc.handle(cc(82, 127))
    assert fake_engine.recording is not None
    mc.handle(cc(82, 127))
    assert fake_engine.recording is None
    mc.handle(cc(83, 127))
    assert fake_engine.get("width") == 0.0
    mc.handle(cc(83, 127))
    assert fake_engine.get("width") == 1.0


def test_learn_maps_and_saves(fake_engine: FakeEngine, tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    done: list[tuple[str, tuple[object, ...]]] = []
    mc = MC(fake_engine, default_mapping(), map_path=path)
    mc.learn("top_p", lambda p, d: done.append((p, d)))
    mc.handle(cc(7, 30, channel=3))  # this control becomes top_p
    assert done == [("top_p", (7, 4))]
    assert fake_engine.get("top_p") == 1.0  # the learning move itself does not set
    saved = load_mapping(path)
    learned = [c for c in saved.controls if c.param == "top_p"]
    assert learned == [ControlMapping("top_p", 7, channel=3, bits=14)]
    assert len(saved.controls) == len(default_mapping().controls)  # replaced, not added
    mc.handle(cc(7, 126, channel=3))  # within soft-takeover reach of 1.0
    assert fake_engine.get("top_p") == pytest.approx(126 / 127)
    mc.handle(cc(22, 0))  # the old default CC for top_p no longer drives it
    assert fake_engine.get("top_p") == pytest.approx(126 / 127)


def test_unknown_learn_param() -> None:
    with pytest.raises(ControlError, match="unknown parameter 'tempo'"):
        MC(FakeEngine.__new__(FakeEngine), MidiMap()).learn("tempo")


def test_mapping_round_trip(tmp_path: Path) -> None:
    m = MidiMap(
        (
            ControlMapping("temperature", 3, channel=0, bits=14, minimum=0.5, maximum=1.5),
            ControlMapping(
                "top_k", 90, bits=7, mode="relative-twos-complement", curve="linear", step=0.01
            ),
        ),
        (
            ButtonMapping(80, "record_toggle", channel=15),
            ButtonMapping(9, "param", param="gain", on=-6.0),
        ),
    )
    p = save_mapping(m, tmp_path / "sub" / "m.toml")
    assert load_mapping(p) == m


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[[control]]\nparam = 'temperature'\ncc = 200\n",
            r"\[\[control\]\] #1 \(line 1\): cc must be an integer in 0..31, got 200",
        ),
        (
            "[[control]]\nparam='gain'\ncc=1\n\n[[control]]\nparam = 'tempo'\ncc = 1\n",
            r"#2 \(line 5\): param must be one of: temperature.*'tempo'",
        ),
        ("[[control]]\nparam='gain'\ncc=1\nmode='spin'\n", "mode must be one of absolute"),
        (
            "[[control]]\nparam='gain'\ncc=1\nmin=-100\n",
            "min = -100.0 is outside gain's range -60..12",
        ),
        ("[[control]]\nparam='gain'\ncc=1\nchanel=2\n", "unknown key 'chanel'"),
        ("[[button]]\ncc=1\naction='explode'\n", "action must be one of record_start"),
        ("[[control]\n", "not valid TOML"),
        ("colour = 1\n", "unknown top-level key 'colour'"),
    ],
)
def test_mapping_errors_name_file_line_value(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ControlError, match=expected) as err:
        load_mapping(path)
    assert str(path) in str(err.value)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match="does not exist; check --midi-map"):
        load_mapping(tmp_path / "nope.toml")


def test_presets_and_program_change(fake_engine: FakeEngine, tmp_path: Path) -> None:
    path = tmp_path / "presets.toml"
    path.write_text(
        "[calm]\ntemperature = 0.7\ntop_k = 40\n\n[wild]\nprogram = 5\ntemperature = 1.4\n"
    )
    presets = load_presets(path)
    mc = MC(fake_engine, MidiMap(), presets=presets)
    mc.handle(mido.Message("program_change", program=0))
    assert fake_engine.get("temperature") == 0.7 and fake_engine.get("top_k") == 40
    mc.handle(mido.Message("program_change", program=5))
    assert fake_engine.get("temperature") == 1.4
    mc.handle(mido.Message("program_change", program=9))  # no such program: counted, logged
    assert mc.counts["errors"] == 1 and fake_engine.get("temperature") == 1.4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[a]\ntemperature = 'hot'\n", r"preset \[a\] \(line 1\): temperature must be a number"),
        ("[a]\ntempo = 1\n", "unknown parameter 'tempo'"),
        ("[a]\ngain = 40\n", "gain = 40 is outside -60..12"),
        ("[a]\nprogram = 1\n[b]\nprogram = 1\n", r"\[b\] \(line 3\): program 1 is already used"),
    ],
)
def test_preset_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ControlError, match=expected):
        load_presets(path)


def test_feedback_on_change_only_and_no_echo(fake_engine: FakeEngine) -> None:
    mc = MC(
        fake_engine,
        jump(ControlMapping("width", 24, bits=7, takeover="jump")),
        feedback_interval=0.05,
    )
    msgs, deferred = mc.feedback_messages("width", now=100.0)
    assert msgs == [(0, 24, round(0.5 * 127))] and not deferred  # initial value
    assert mc.feedback_messages("width", now=101.0) == ([], False)  # unchanged: nothing
    mc.handle(cc(24, 100))  # the knob itself moved it: no echo back
    assert mc.feedback_messages("width", now=102.0) == ([], False)
    fake_engine.set("width", 2.0)  # changed elsewhere: sent
    assert mc.feedback_messages("width", now=103.0) == ([(0, 24, 127)], False)
    fake_engine.set("width", 0.0)  # too soon: held back, then sent
    assert mc.feedback_messages("width", now=103.01) == ([], True)
    assert mc.feedback_messages("width", now=103.06) == ([(0, 24, 0)], False)


def test_port_matching() -> None:
    names = ["Launch Control XL:0", "Midi Through:0", "nanoKONTROL2:0"]
    assert find_port(names, "nano", "input") == "nanoKONTROL2:0"
    with pytest.raises(DeviceError, match="no MIDI input matching 'korg'.*nanoKONTROL2"):
        find_port(names, "korg", "input")
    with pytest.raises(DeviceError, match="matches several"):
        find_port(names, ":0", "input")
    assert resolve_backend("rtmidi/UNIX_JACK") == "mido.backends.rtmidi/UNIX_JACK"
    assert resolve_backend("jack") == "mido.backends.rtmidi/UNIX_JACK"
    assert resolve_backend(None) is None
