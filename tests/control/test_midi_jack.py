"""Real JACK MIDI: a virtual port sends CC (7-bit and 14-bit) into a RUNNING engine; learn,
soft takeover, feedback and program change, end to end."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import mido
import pytest

from distill_live.control import load_mapping
from tests.control.helpers import wait_until

pytestmark = pytest.mark.jack

JACK = "rtmidi/UNIX_JACK"


def _settle() -> None:
    time.sleep(0.5)  # JACK connects the ports asynchronously


def test_7bit_and_14bit_cc_change_engine(engine, control, jack_midi_out, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        "[[control]]\nparam = 'temperature'\ncc = 20\nbits = 7\ntakeover = 'jump'\n\n"
        "[[control]]\nparam = 'gain'\ncc = 23\nbits = 14\ntakeover = 'jump'\n\n"
        "[[control]]\nparam = 'top_k'\ncc = 21\nbits = 7\ntakeover = 'jump'\n"
    )
    control(midi_in=jack_midi_out.name, midi_backend=JACK, midi_map=mapping)
    _settle()
    jack_midi_out.send_cc(20, 127)
    wait_until(lambda: engine.get("temperature") == pytest.approx(2.0), 5, "temperature 2.0")
    jack_midi_out.send_cc(20, 0)
    wait_until(lambda: engine.get("temperature") == pytest.approx(0.1), 5, "temperature 0.1")
    jack_midi_out.send_cc(21, 64)  # exponential curve for top_k
    wait_until(lambda: engine.get("top_k") == round(512 ** (64 / 127)), 5, "top_k")
    # 14-bit: MSB 100 then LSB 77 (CC 23 + 32)
    jack_midi_out.send_cc(23, 100)
    jack_midi_out.send_cc(55, 77)
    expected = -60 + 72 * (100 * 128 + 77) / 16383
    wait_until(lambda: engine.get("gain") == pytest.approx(expected), 5, f"gain {expected}")
    jack_midi_out.send_cc(23, 0)
    jack_midi_out.send_cc(55, 1)
    wait_until(lambda: engine.get("gain") == pytest.approx(-60 + 72 / 16383), 5, "gain LSB only")
    # the values are in force in the engine, from MIDI
    seen: list[Any] = []
    engine.add_listener(seen.append)
    jack_midi_out.send_cc(20, 64)
    wait_until(lambda: any(c.param == "temperature" and c.source == "midi" for c in seen), 5)
    assert engine.stats()["running"]


def test_learn_over_osc_creates_working_saved_mapping(
    engine, control, jack_midi_out, oscsend, osc_listener, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    map_path = tmp_path / "learned.toml"  # does not exist yet: learn creates it
    h = control(
        midi_in=jack_midi_out.name,
        midi_backend=JACK,
        midi_map=map_path,
        osc_reply_port=osc_listener.port,
    )
    _settle()
    oscsend(h.osc.port, "/distill/learn", "s", "top_p")
    wait_until(lambda: h.midi.learning == "top_p", 5, "learn armed")
    jack_midi_out.send_cc(7, 30, channel=3)
    assert osc_listener.wait_for("/distill/done") == ("/distill/learn", "top_p", 7, 4)
    learned = [c for c in load_mapping(map_path).controls if c.param == "top_p"]
    assert [(c.cc, c.channel) for c in learned] == [(7, 3)]
    assert engine.get("top_p") == 1.0  # the learning move itself changes nothing
    jack_midi_out.send_cc(7, 126, channel=3)  # picks up near the current value (soft takeover)
    wait_until(lambda: engine.get("top_p") == pytest.approx(126 / 127), 5, "learned control")
    jack_midi_out.send_cc(7, 64, channel=3)
    wait_until(lambda: engine.get("top_p") == pytest.approx(64 / 127), 5, "learned control follows")
    jack_midi_out.send_cc(22, 0)  # the default CC for top_p no longer drives it
    time.sleep(0.3)
    assert engine.get("top_p") == pytest.approx(64 / 127)


def test_soft_takeover_ignores_far_knob_until_it_crosses(engine, control, jack_midi_out) -> None:  # type: ignore[no-untyped-def]
    h = control(midi_in=jack_midi_out.name, midi_backend=JACK)  # default mapping: soft takeover
    _settle()
    assert engine.get("temperature") == 1.0  # knob position ≈ 0.474 (CC 60.2)
    for v in (120, 110, 100):
        jack_midi_out.send_cc(20, v)
    wait_until(lambda: h.midi.counts["takeover_ignored"] >= 3, 5, "far knob ignored")
    assert engine.get("temperature") == 1.0
    jack_midi_out.send_cc(20, 40)  # 100 → 40 crosses 60.2: picked up
    wait_until(lambda: engine.get("temperature") == pytest.approx(0.1 + 1.9 * 40 / 127), 5)
    jack_midi_out.send_cc(20, 90)  # now it follows
    wait_until(lambda: engine.get("temperature") == pytest.approx(0.1 + 1.9 * 90 / 127), 5)


def test_feedback_and_program_change(
    engine, control, jack_midi_out, midi_backend, osc_client, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    fb_name = f"distill-fb-{uuid.uuid4().hex[:6]}"
    received: list[mido.Message] = []
    lock = threading.Lock()

    def on_fb(msg: mido.Message) -> None:
        with lock:
            received.append(msg)

    fb = midi_backend.open_input(fb_name, virtual=True, client_name="distill-fb")
    fb.callback = on_fb
    h = None
    presets = tmp_path / "presets.toml"
    presets.write_text(
        "[calm]\ntemperature = 0.7\ntop_k = 40\n\n[wild]\nprogram = 3\nwidth = 1.8\n"
    )
    try:
        h = control(
            midi_in=jack_midi_out.name, midi_out=fb_name, midi_backend=JACK, presets=presets
        )
        _settle()

        def got(cc: int, value: int) -> bool:
            with lock:
                return any(
                    m.type == "control_change" and m.control == cc and m.value == value
                    for m in received
                )

        wait_until(lambda: got(24, 64), 5, "feedback of the start values")  # width 1.0 → 63.5 → 64
        osc_client(h.osc.port).send_message("/distill/width", 2.0)
        wait_until(lambda: got(24, 127), 5, "feedback after an OSC change")
        with lock:
            received.clear()
        jack_midi_out.send_cc(24, 126)  # the knob picks up (near 127) and moves width
        wait_until(lambda: engine.get("width") == pytest.approx(2.0 * 126 / 127), 5)
        time.sleep(0.3)
        with lock:
            echoed = [m for m in received if m.type == "control_change" and m.control == 24]
        assert echoed == []  # no echo of what the knob itself sent
        jack_midi_out.port.send(mido.Message("program_change", program=3))
        wait_until(lambda: engine.get("width") == pytest.approx(1.8), 5, "preset wild")
        wait_until(lambda: got(24, round(0.9 * 127)), 5, "feedback after the preset")
        jack_midi_out.port.send(mido.Message("program_change", program=0))
        wait_until(lambda: engine.get("top_k") == 40 and engine.get("temperature") == 0.7, 5)
    finally:
        # stop the feedback first: RtMidi's JACK input can crash (SIGSEGV, seen once in CI)
        # when its port is unregistered while its process callback reads a message
        if h is not None:
            h.close()
        fb.close()


def test_jack_midi_keys_play_a_running_engine(engine, control, jack_midi_out) -> None:  # type: ignore[no-untyped-def]
    """Keys, the pitch wheel and the sustain pedal from a real JACK MIDI port take effect in
    the playing engine, in order, from source midi."""
    seen: list[Any] = []
    engine.add_listener(seen.append)
    control(midi_in=jack_midi_out.name, midi_backend=JACK)
    _settle()
    port = jack_midi_out.port
    port.send(mido.Message("note_on", note=57, velocity=110))
    port.send(mido.Message("pitchwheel", pitch=8191))
    port.send(mido.Message("control_change", control=64, value=127))
    port.send(mido.Message("note_off", note=57, velocity=0))
    port.send(mido.Message("note_on", note=64, velocity=0))  # velocity 0: a release too
    wait_until(lambda: sum(c.param == "note" for c in seen) >= 3, 5, "the keys to land")
    wait_until(lambda: engine.get("sustain") == 1 and engine.get("bend") == 1.0, 5, "pedal, bend")
    keys = [(c.value, c.velocity, c.source) for c in seen if c.param == "note"]
    assert keys == [(57, 110, "midi"), (57, 0, "midi"), (64, 0, "midi")]
    assert all(c.source == "midi" for c in seen)
    frames = [c.frame for c in seen]
    assert frames == sorted(frames)
    stream = engine.stream
    assert stream is not None and stream.keyboard.sounding == [57]  # the pedal holds it
    port.send(mido.Message("control_change", control=64, value=0))
    wait_until(lambda: stream.keyboard.sounding == [], 5, "the pedal's release")
    assert engine.stats()["empty_callbacks"] == 0
