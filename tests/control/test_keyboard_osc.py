"""The keyboard over OSC, through real UDP (liblo's oscsend and python-osc) into a real
OscServer, checked on the fake engine's recorded calls: /distill/note, /distill/notes_off,
/distill/bend and the choice parameters (scale, keys); bad input is answered and the server
keeps serving. (The engine's side of a note is tested with the engine.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from distill_live.control.osc import OscServer
from distill_live.control.oscwire import encode_message
from tests.control.helpers import FakeEngine, wait_until


@pytest.fixture
def server(fake_engine: FakeEngine, osc_listener) -> Iterator[OscServer]:  # type: ignore[no-untyped-def]
    srv = OscServer(fake_engine, port=0, reply_port=osc_listener.port, echo=True)
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


def test_oscsend_note_on_and_off(server: OscServer, fake_engine: FakeEngine, oscsend) -> None:  # type: ignore[no-untyped-def]
    oscsend(server.port, "/distill/note", "ii", 57, 100)
    oscsend(server.port, "/distill/note", "ff", 64.0, 90.0)  # whole floats (Max, TouchDesigner)
    oscsend(server.port, "/distill/note", "i", 60)  # no velocity: 100
    oscsend(server.port, "/distill/note", "ii", 57, 0)  # velocity 0: note-off
    oscsend(server.port, "/distill/notes_off")
    wait_until(lambda: len(fake_engine.notes) == 5, what="five keyboard calls")
    assert fake_engine.notes == [
        (57, 100, "osc"),
        (64, 90, "osc"),
        (60, 100, "osc"),
        (57, 0, "osc"),
        (None, 0, "osc"),  # all notes off
    ]


def test_notes_are_echoed_and_notes_off_answered(
    server: OscServer, fake_engine: FakeEngine, oscsend, osc_listener
) -> None:  # type: ignore[no-untyped-def]
    oscsend(server.port, "/distill/note", "ii", 62, 80)
    assert osc_listener.wait_for("/distill/note") == (62, 80)  # --osc-echo: what took effect
    oscsend(server.port, "/distill/notes_off")
    assert osc_listener.wait_for("/distill/done") == ("/distill/notes_off",)


@pytest.mark.parametrize(
    ("types", "args", "reason"),
    [
        ("s", ("C4",), "note must be a whole number in 0..127, got 'C4'"),
        ("ii", (128, 100), "note must be a whole number in 0..127, got 128"),
        ("ii", (60, 200), "velocity must be a whole number in 0..127 (0 = note-off), got 200"),
        ("f", (60.5,), "note must be a whole number in 0..127, got 60.5"),
        ("", (), "expects a note (0..127) and an optional velocity (0..127, 0 = note-off), got 0"),
        ("iii", (60, 100, 1), "got 3 arguments"),
    ],
)
def test_bad_notes_are_answered_naming_the_value_and_0_127(
    server: OscServer,
    fake_engine: FakeEngine,
    oscsend,
    osc_listener,
    types: str,
    args: tuple[object, ...],
    reason: str,
) -> None:  # type: ignore[no-untyped-def]
    oscsend(server.port, "/distill/note", types, *args)
    address, message = osc_listener.wait_for("/distill/fail")
    assert address == "/distill/note" and reason in message, message
    assert fake_engine.notes == []
    oscsend(server.port, "/distill/note", "ii", 48, 100)  # and the server keeps serving
    wait_until(lambda: fake_engine.notes == [(48, 100, "osc")], what="the next note")
    assert server.stats()["rejected"] == 1


def test_choice_parameters_take_a_name_or_an_index(
    server: OscServer, fake_engine: FakeEngine, oscsend, osc_listener
) -> None:  # type: ignore[no-untyped-def]
    oscsend(server.port, "/distill/scale", "s", "c_minor-pentatonic")
    wait_until(lambda: fake_engine.get("scale") == "C minor pentatonic", what="scale by name")
    oscsend(server.port, "/distill/keys", "i", 1)  # a menu's index (Max umenu, Pd, TD)
    wait_until(lambda: fake_engine.get("keys") == "gate", what="keys by index")
    oscsend(server.port, "/distill/keys", "f", 0.0)
    wait_until(lambda: fake_engine.get("keys") == "free", what="keys by a float index")
    oscsend(server.port, "/distill/get", "s", "scale")
    assert osc_listener.wait_for("/distill/scale") == ("C minor pentatonic",)


@pytest.mark.parametrize(
    ("address", "types", "args", "reason"),
    [
        ("/distill/keys", "s", ("hold",), "keys must be one of free, gate (or its index 0..1)"),
        ("/distill/keys", "i", (2,), "got 2"),
        ("/distill/scale", "s", ("H major",), "scale 'H major' is not 'off' or a root and a mode"),
        ("/distill/scale", "", (), "expected one of off, C chromatic, ..., B whole tone"),
        ("/distill/bend", "s", ("up",), "expected one number (f) in -1..1, got type tags ',s'"),
    ],
)
def test_bad_choices_are_answered_naming_the_value_and_the_choices(
    server: OscServer,
    fake_engine: FakeEngine,
    oscsend,
    osc_listener,
    address: str,
    types: str,
    args: tuple[object, ...],
    reason: str,
) -> None:  # type: ignore[no-untyped-def]
    oscsend(server.port, address, types, *args)
    fail_address, message = osc_listener.wait_for("/distill/fail")
    assert fail_address == address and reason in message, message
    oscsend(server.port, "/distill/keys", "s", "gate")  # still serving
    wait_until(lambda: fake_engine.get("keys") == "gate", what="keys after the error")


def test_bend_and_sustain_are_parameters(
    server: OscServer, fake_engine: FakeEngine, oscsend, osc_listener
) -> None:  # type: ignore[no-untyped-def]
    oscsend(server.port, "/distill/bend", "f", -0.5)
    oscsend(server.port, "/distill/sustain", "i", 1)
    wait_until(lambda: fake_engine.get("sustain") == 1, what="sustain")
    assert fake_engine.get("bend") == -0.5
    oscsend(server.port, "/distill/bend", "f", 3.0)  # clamped, applied, answered
    address, message = osc_listener.wait_for("/distill/fail")
    assert address == "/distill/bend" and "3.0 is outside -1..1; clamped to 1.0" in message
    wait_until(lambda: fake_engine.get("bend") == 1.0, what="bend clamped")


def test_a_bend_held_by_the_coalescer_lands_before_the_next_note(
    fake_engine: FakeEngine,
) -> None:
    srv = OscServer(fake_engine, port=0, coalesce_s=10.0)  # hold every change after the first
    srv.start()
    try:
        srv.handle_datagram(encode_message("/distill/bend", 0.1))  # first: applied at once
        srv.handle_datagram(encode_message("/distill/bend", 0.7))  # held (10 s interval)...
        srv.handle_datagram(encode_message("/distill/note", 60, 100))  # ...until this note
        assert [name for name, _, _ in fake_engine.events] == ["bend", "bend", "note"]
        assert fake_engine.events[1][1] == pytest.approx(0.7)  # float32 on the wire
        assert fake_engine.notes == [(60, 100, "osc")]
    finally:
        srv.close()
