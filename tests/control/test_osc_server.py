"""The OSC server over real UDP, against the fake engine (pure control logic)."""

from __future__ import annotations

import math
import socket
import struct
import time
from collections.abc import Iterator

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from distill_live.control.osc import OscServer
from distill_live.control.oscwire import OscDecodeError, decode_packet, encode_message
from distill_live.errors import ControlError
from tests.control.helpers import FakeEngine, wait_until


@pytest.fixture
def server(fake_engine: FakeEngine, osc_listener) -> Iterator[OscServer]:  # type: ignore[no-untyped-def]
    srv = OscServer(fake_engine, port=0, reply_port=osc_listener.port, echo=False)
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


def _send(port: int, data: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(data, ("127.0.0.1", port))


def test_decoder_keeps_bundle_order_and_ignores_timetags() -> None:
    far_future = time.time() + 3600  # a timetag an hour ahead must not delay anything
    bb = OscBundleBuilder(far_future)  # type: ignore[arg-type]  # python-osc takes seconds
    for v in (0.3, 0.7, 0.5):
        m = OscMessageBuilder("/distill/temperature")
        m.add_arg(v)
        bb.add_content(m.build())
    msgs = decode_packet(bb.build().dgram)
    assert [round(float(m.args[0]), 3) for m in msgs] == [0.3, 0.7, 0.5]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"garbage!", "not an OSC"),
        (encode_message("/distill/temperature", 0.5)[:-2], "multiple of 4"),
        (b"/distill/gain\x00\x00\x00,f\x00\x00", "truncated"),
        (b"/a\x00\x00,q\x00\x00", "unknown type tag"),
        (b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 400) + b"/a\x00\x00", "bad size"),
        (encode_message("/a", 1) + b"\x00\x00\x00\x00", "left over"),
    ],
)
def test_decoder_rejects_malformed_datagrams_with_reason(data: bytes, reason: str) -> None:
    with pytest.raises(OscDecodeError, match=reason):
        decode_packet(data)


def test_int_and_float_accepted_for_every_parameter(
    server: OscServer, fake_engine: FakeEngine, osc_client
) -> None:  # type: ignore[no-untyped-def]
    c = osc_client(server.port)
    c.send_message("/distill/temperature", 1)  # int where a float is expected
    c.send_message("/distill/top_k", 40.4)  # float where an int is expected
    c.send_message("/distill/gain", -6)
    wait_until(lambda: fake_engine.params["gain"] == -6.0, what="gain")
    p = fake_engine.params
    assert p["temperature"] == 1.0 and isinstance(p["temperature"], float)
    assert p["top_k"] == 40 and isinstance(p["top_k"], int)
    assert all(src == "osc" for _, _, src in fake_engine.calls)


def test_bundle_applies_in_order_last_wins(server: OscServer, fake_engine: FakeEngine) -> None:
    bb = OscBundleBuilder(IMMEDIATELY)
    for v in (0.2, 1.9, 0.6):
        m = OscMessageBuilder("/distill/temperature")
        m.add_arg(v)
        bb.add_content(m.build())
    _send(server.port, bb.build().dgram)
    wait_until(lambda: server.stats().get("messages", 0) >= 3)
    wait_until(lambda: abs(float(fake_engine.params["temperature"]) - 0.6) < 1e-6, what="0.6")


def test_out_of_range_is_clamped_and_answered(
    server: OscServer, fake_engine: FakeEngine, osc_listener
) -> None:  # type: ignore[no-untyped-def]
    _send(server.port, encode_message("/distill/temperature", 7.5))
    addr, reason = osc_listener.wait_for("/distill/fail")
    assert addr == "/distill/temperature" and "clamped to 2.0" in reason
    wait_until(lambda: fake_engine.params["temperature"] == 2.0)
    assert server.stats()["clamped"] == 1


@pytest.mark.parametrize(
    ("data", "address", "reason"),
    [
        (encode_message("/distill/temperature", math.nan), "/distill/temperature", "finite"),
        (encode_message("/distill/gain", math.inf), "/distill/gain", "finite"),
        (
            encode_message("/distill/temperature", "hot"),
            "/distill/temperature",
            "expected one number",
        ),
        (encode_message("/distill/temperature"), "/distill/temperature", "expected one number"),
        (
            encode_message("/distill/temperature", 0.5, 0.6),
            "/distill/temperature",
            "expected one number",
        ),
        (encode_message("/distill/tempo", 0.5), "/distill/tempo", "unknown address"),
        (b"\x01\x02\x03", "?", "malformed"),
        (encode_message("/distill/get", "tempo"), "/distill/get", "unknown parameter 'tempo'"),
        (encode_message("/distill/learn", "temperature"), "/distill/learn", "--midi-in"),
        (encode_message("/distill/preset", "calm"), "/distill/preset", "--presets"),
        (encode_message("/distill/model", 3), "/distill/model", "string"),
    ],
)
def test_bad_input_is_rejected_counted_and_answered(  # type: ignore[no-untyped-def]
    server: OscServer, fake_engine: FakeEngine, osc_listener, data: bytes, address: str, reason: str
) -> None:
    before = dict(fake_engine.params)
    _send(server.port, data)
    addr, why = osc_listener.wait_for("/distill/fail")
    assert addr == address and reason in why
    assert server.stats()["errors"] == 1
    assert dict(fake_engine.params) == before
    # and the server still works
    _send(server.port, encode_message("/distill/top_p", 0.25))
    wait_until(lambda: fake_engine.params["top_p"] == 0.25)


def test_commands_reply_done(
    server: OscServer, fake_engine: FakeEngine, osc_listener, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "take.wav"
    _send(server.port, encode_message("/distill/record/start", str(target)))
    assert osc_listener.wait_for("/distill/done") == ("/distill/record/start", str(target))
    assert fake_engine.recording == target
    _send(server.port, encode_message("/distill/record/stop"))
    assert osc_listener.wait_for("/distill/done") == ("/distill/record/stop", str(target))
    assert fake_engine.recording is None
    _send(server.port, encode_message("/distill/model", "other.distill"))
    assert osc_listener.wait_for("/distill/done") == ("/distill/model", "other.distill")
    assert fake_engine.models == ["other.distill"]
    _send(server.port, encode_message("/distill/model", "missing.distill"))
    addr, why = osc_listener.wait_for("/distill/fail")
    assert addr == "/distill/model" and "FileNotFoundError" in why


def test_status_and_get(server: OscServer, fake_engine: FakeEngine, osc_listener) -> None:  # type: ignore[no-untyped-def]
    _send(server.port, encode_message("/distill/top_k", 33))
    _send(server.port, encode_message("/distill/status"))
    args = osc_listener.wait_for("/distill/status.reply")
    kv = dict(zip(args[::2], args[1::2], strict=True))
    assert kv["top_k"] == 33 and kv["underruns"] == 0 and kv["buffer_fill"] == 0.5
    assert kv["recording"] == "" and kv["osc_errors"] == 0
    assert set(kv) >= {"temperature", "top_p", "seed", "gain", "width"}
    _send(server.port, encode_message("/distill/get", "top_k"))
    assert osc_listener.wait_for("/distill/top_k") == (33,)


def test_echo_sends_applied_changes(fake_engine: FakeEngine, osc_listener) -> None:  # type: ignore[no-untyped-def]
    with OscServer(fake_engine, port=0, reply_port=osc_listener.port, echo=True) as srv:
        _send(srv.port, encode_message("/distill/width", 1.5))
        assert osc_listener.wait_for("/distill/width") == (1.5,)
        fake_engine.set("gain", -3.0, source="midi")  # changes from elsewhere are echoed too
        assert osc_listener.wait_for("/distill/gain") == (-3.0,)


def test_replies_go_to_sender_without_reply_port(fake_engine: FakeEngine) -> None:
    with (
        OscServer(fake_engine, port=0) as srv,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s,
    ):
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        s.sendto(encode_message("/distill/get", "seed"), ("127.0.0.1", srv.port))
        msgs = decode_packet(s.recvfrom(65536)[0])
        assert msgs[0].address == "/distill/seed" and msgs[0].args == (0,)


def test_port_in_use_is_a_clear_error(fake_engine: FakeEngine) -> None:
    srv = OscServer(fake_engine, port=0).start()
    try:
        with pytest.raises(ControlError, match=f"127.0.0.1:{srv.port}.*--osc-port"):
            OscServer(fake_engine, port=srv.port).start()
    finally:
        srv.close()


def test_flood_is_coalesced(server: OscServer, fake_engine: FakeEngine) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(3000):
            s.sendto(encode_message("/distill/gain", -50.0 + i * 0.01), ("127.0.0.1", server.port))
    wait_until(lambda: server.stats().get("messages", 0) >= 3000, what="all messages")
    wait_until(
        lambda: abs(float(fake_engine.params["gain"]) - (-50.0 + 2999 * 0.01)) < 1e-3,
        what="last value",
    )
    assert len(fake_engine.calls) < 3000  # coalesced: fewer engine calls than messages
