"""The MIDI keyboard: notes, pitch wheel, sustain pedal and all notes off reach the engine
(``note``, ``set("bend")``, ``set("sustain")``, ``all_notes_off``), on any channel or the
keyboard's; choice parameters (scale, keys) from knobs, encoders, buttons, mapping files and
presets. Pure logic through ``MidiControl.handle``, then real JACK MIDI ports into a
MidiControl (checked on the fake engine: this tests the MIDI path, the engine's side is
tested with the engine)."""

from __future__ import annotations

import time
from pathlib import Path

import mido
import pytest

from distill_live.control import control_args, start_control
from distill_live.control.mapping import ButtonMapping, ControlMapping, MidiMap, load_mapping
from distill_live.control.midi import MidiControl, bend_value
from distill_live.control.presets import load_presets
from distill_live.errors import ControlError
from tests.control.helpers import FakeEngine, wait_until


def MC(engine: FakeEngine, mapping: MidiMap | None = None, **kw: object) -> MidiControl:  # noqa: N802
    kw.setdefault("coalesce_s", 0.0)  # no coalescing in unit tests
    return MidiControl(engine, mapping or MidiMap(), **kw)  # type: ignore[arg-type]


def msg(kind: str, **kw: object) -> mido.Message:
    return mido.Message(kind, **kw)


def test_notes_velocity_zero_and_note_off(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine)
    mc.handle(msg("note_on", note=57, velocity=100))
    mc.handle(msg("note_on", note=64, velocity=30, channel=9))  # any channel by default
    mc.handle(msg("note_on", note=57, velocity=0))  # running-status note-off
    mc.handle(msg("note_off", note=64, velocity=64))  # release velocity is not used
    assert fake_engine.notes == [
        (57, 100, "midi"),
        (64, 30, "midi"),
        (57, 0, "midi"),
        (64, 0, "midi"),
    ]
    assert mc.counts["notes"] == 4


@pytest.mark.parametrize(
    ("pitch", "bend"), [(-8192, -1.0), (-4096, -0.5), (0, 0.0), (4096, 4096 / 8191), (8191, 1.0)]
)
def test_pitch_wheel_is_bend_with_exact_ends(
    fake_engine: FakeEngine, pitch: int, bend: float
) -> None:
    assert bend_value(pitch) == bend
    MC(fake_engine).handle(msg("pitchwheel", pitch=pitch))
    assert fake_engine.get("bend") == bend and fake_engine.calls[-1][2] == "midi"


def test_sustain_pedal_and_all_notes_off(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine)
    for value in (127, 63, 64, 0):
        mc.handle(msg("control_change", control=64, value=value))
    assert [v for name, v, _ in fake_engine.calls if name == "sustain"] == [1, 0, 1, 0]
    mc.handle(msg("control_change", control=123, value=0))
    mc.handle(msg("control_change", control=120, value=0))
    assert fake_engine.notes == [(None, 0, "midi"), (None, 0, "midi")]
    assert mc.counts["ignored"] == 0


def test_keyboard_channel_filter(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine, note_channel=1)  # MIDI channel 2
    mc.handle(msg("note_on", note=60, velocity=90, channel=0))
    mc.handle(msg("pitchwheel", pitch=8191, channel=0))
    mc.handle(msg("control_change", control=64, value=127, channel=0))
    assert fake_engine.notes == [] and fake_engine.calls == []
    mc.handle(msg("note_on", note=62, velocity=90, channel=1))
    mc.handle(msg("control_change", control=64, value=127, channel=1))
    assert fake_engine.notes == [(62, 90, "midi")] and fake_engine.get("sustain") == 1
    assert mc.counts["ignored"] == 3


def test_start_control_checks_the_channel(fake_engine: FakeEngine) -> None:
    with pytest.raises(ControlError, match=r"MIDI channel must be in 1..16, got 17"):
        start_control(fake_engine, control_args(no_osc=True, midi_channel=17))


def test_held_wheel_moves_land_before_the_next_note(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine, coalesce_s=10.0)  # the wheel floods: moves after the first are held
    mc.handle(msg("pitchwheel", pitch=100))
    mc.handle(msg("pitchwheel", pitch=4096))
    mc.handle(msg("note_on", note=60, velocity=100))
    assert [(n, v) for n, v, _ in fake_engine.events] == [
        ("bend", 100 / 8191),
        ("bend", 4096 / 8191),
        ("note", (60, 100)),
    ]
    mc.close()


def test_a_knob_steps_through_a_choice(fake_engine: FakeEngine) -> None:
    mc = MC(
        fake_engine,
        MidiMap(
            (
                ControlMapping("keys", 30, bits=7, takeover="jump"),
                ControlMapping("scale", 31, bits=7, takeover="jump"),
            )
        ),
    )
    mc.handle(msg("control_change", control=30, value=127))
    assert fake_engine.get("keys") == "gate"
    mc.handle(msg("control_change", control=30, value=10))
    assert fake_engine.get("keys") == "free"
    mc.handle(msg("control_change", control=31, value=0))
    assert fake_engine.get("scale") == "off"
    mc.handle(msg("control_change", control=31, value=127))
    assert fake_engine.get("scale") == "B whole tone"


def test_an_encoder_moves_a_choice_one_step_per_tick(
    fake_engine: FakeEngine, tmp_path: Path
) -> None:
    path = tmp_path / "map.toml"
    path.write_text(
        "[[control]]\nparam = 'scale'\ncc = 40\nbits = 7\nmode = 'relative-binary-offset'\n"
    )
    mc = MC(fake_engine, load_mapping(path))
    for expected in ("C chromatic", "C major", "C minor"):
        mc.handle(msg("control_change", control=40, value=65))  # +1
        assert fake_engine.get("scale") == expected
    mc.handle(msg("control_change", control=40, value=62))  # -2
    assert fake_engine.get("scale") == "C chromatic"


def test_mapping_file_buttons_and_errors_for_choices(
    fake_engine: FakeEngine, tmp_path: Path
) -> None:
    path = tmp_path / "map.toml"
    path.write_text(
        "[[button]]\ncc = 82\naction = 'param'\nmode = 'toggle'\nparam = 'keys'\n"
        "on = 'Gate'\noff = 'free'\n"
    )
    m = load_mapping(path)
    assert m.buttons == (
        ButtonMapping(82, "param", mode="toggle", param="keys", on="gate", off="free"),
    )
    mc = MC(fake_engine, m)
    mc.handle(msg("control_change", control=82, value=127))
    assert fake_engine.get("keys") == "gate"
    mc.handle(msg("control_change", control=82, value=127))
    assert fake_engine.get("keys") == "free"
    path.write_text("[[control]]\nparam = 'scale'\ncc = 20\nmax = 3\n")
    with pytest.raises(ControlError, match=r"line 1\): max does not apply to scale, a choice"):
        load_mapping(path)
    path.write_text("[[button]]\ncc = 82\naction = 'param'\nparam = 'keys'\non = 'hold'\n")
    with pytest.raises(ControlError, match=r"on: keys must be one of free, gate .*got 'hold'"):
        load_mapping(path)


def test_presets_hold_choices(fake_engine: FakeEngine, tmp_path: Path) -> None:
    path = tmp_path / "presets.toml"
    path.write_text("[dark]\nscale = 'd_dorian'\nkeys = 'gate'\ntranspose = -12\n")
    presets = load_presets(path)
    assert dict(presets.get("dark").values) == {
        "scale": "D dorian",
        "keys": "gate",
        "transpose": -12,
    }
    MC(fake_engine, presets=presets).handle(msg("program_change", program=0))
    assert (fake_engine.get("scale"), fake_engine.get("keys")) == ("D dorian", "gate")
    path.write_text("[bad]\nscale = 'H major'\n")
    with pytest.raises(ControlError, match=r"preset \[bad\] \(line 1\): scale: scale 'H major'"):
        load_presets(path)


def test_feedback_skips_notes_and_sends_a_choice_position(fake_engine: FakeEngine) -> None:
    mc = MC(fake_engine, MidiMap((ControlMapping("keys", 30, bits=7, takeover="jump"),)))
    assert mc.feedback_messages("note") == ([], False)  # a note is no parameter: no feedback
    fake_engine.set("keys", "gate")
    assert mc.feedback_messages("keys", now=100.0) == ([(0, 30, 127)], False)


@pytest.mark.jack
def test_jack_midi_keyboard_into_midi_control(fake_engine: FakeEngine, jack_midi_out) -> None:  # type: ignore[no-untyped-def]
    """Real JACK MIDI: a virtual port plays notes, the wheel, the pedal and all notes off."""
    mc = MidiControl(fake_engine, MidiMap()).open(jack_midi_out.name, backend="rtmidi/UNIX_JACK")
    try:
        time.sleep(0.5)  # JACK connects the ports asynchronously
        port = jack_midi_out.port
        port.send(mido.Message("note_on", note=57, velocity=100))
        port.send(mido.Message("pitchwheel", pitch=8191))
        port.send(mido.Message("control_change", control=64, value=127))
        port.send(mido.Message("note_on", note=64, velocity=70, channel=5))
        port.send(mido.Message("note_off", note=57, velocity=40))
        port.send(mido.Message("note_on", note=64, velocity=0, channel=5))
        port.send(mido.Message("control_change", control=64, value=0))
        port.send(mido.Message("pitchwheel", pitch=-8192))
        port.send(mido.Message("control_change", control=123, value=0))
        wait_until(lambda: len(fake_engine.notes) == 5, 5, "five keyboard calls")
        wait_until(lambda: fake_engine.get("bend") == -1.0, 5, "the wheel down")
        assert fake_engine.notes == [
            (57, 100, "midi"),
            (64, 70, "midi"),
            (57, 0, "midi"),
            (64, 0, "midi"),
            (None, 0, "midi"),
        ]
        assert [v for n, v, _ in fake_engine.calls if n == "sustain"] == [1, 0]
        bends = [v for n, v, _ in fake_engine.calls if n == "bend"]
        assert bends[0] == 1.0 and bends[-1] == -1.0  # both ends exact
        # and in the order sent (the pedal went down between the first two notes)
        order = [(n, v) for n, v, _ in fake_engine.events if n in ("note", "sustain")]
        assert order[:3] == [("note", (57, 100)), ("sustain", 1), ("note", (64, 70))]
    finally:
        mc.close()
