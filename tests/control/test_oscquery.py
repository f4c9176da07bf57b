"""OSCQuery over real HTTP, with live values, and its mDNS advertisement."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from distill_live.control.oscquery import OscQueryServer
from distill_live.params import PARAMS
from tests.control.helpers import FakeEngine


def _get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.loads(r.read() or b"null")


def test_namespace_has_every_parameter_with_range_and_live_value(fake_engine: FakeEngine) -> None:
    with OscQueryServer(fake_engine, osc_port=9123, mdns=False) as q:
        root = _get(q.port, "/")
        assert root["FULL_PATH"] == "/"
        nodes = root["CONTENTS"]["distill"]["CONTENTS"]
        for p in PARAMS.values():
            n = nodes[p.name]
            assert n["FULL_PATH"] == p.osc_address and n["TYPE"] == p.osc_typetag
            if p.is_choice:  # a string whose RANGE lists its values (OSCQuery's VALS)
                assert n["TYPE"] == "s" and n["RANGE"] == [{"VALS": list(p.choices)}]
                assert n["CLIPMODE"] == ["none"]
            else:
                assert n["RANGE"] == [{"MIN": p.minimum, "MAX": p.maximum}]
                assert n["CLIPMODE"] == ["both"]
            assert n["VALUE"] == [p.default] and n["ACCESS"] == 3
            assert n["DESCRIPTION"] == p.description
        assert nodes["gain"]["UNIT"] == ["gain.dB"]
        assert nodes["keys"]["RANGE"] == [{"VALS": ["free", "gate"]}]
        note = nodes["note"]  # a command of two ints: note and velocity, each 0..127
        assert note["TYPE"] == "ii" and note["ACCESS"] == 2
        assert note["RANGE"] == [{"MIN": 0, "MAX": 127}, {"MIN": 0, "MAX": 127}]
        assert (
            nodes["notes_off"]["TYPE"] == "N"
            and nodes["record"]["CONTENTS"]["start"]["TYPE"] == "s"
        )
        fake_engine.set("scale", "a minor")
        assert _get(q.port, "/distill/scale?VALUE") == {"VALUE": ["A minor"]}
        assert nodes["record"]["CONTENTS"]["start"]["FULL_PATH"] == "/distill/record/start"
        fake_engine.set("temperature", 0.42)
        assert _get(q.port, "/distill/temperature?VALUE") == {"VALUE": [0.42]}  # live
        assert _get(q.port, "/distill/top_k?RANGE") == {"RANGE": [{"MIN": 0, "MAX": 512}]}
        info = _get(q.port, "/?HOST_INFO")
        assert info["OSC_PORT"] == 9123 and info["OSC_TRANSPORT"] == "UDP"
        assert info["OSC_IP"] == "127.0.0.1" and info["EXTENSIONS"]["VALUE"] is True
        assert info["EXTENSIONS"]["LISTEN"] is False
        with pytest.raises(urllib.error.HTTPError) as err:
            _get(q.port, "/distill/tempo")
        assert err.value.code == 404


def test_mdns_advertises_oscjson_and_osc(fake_engine: FakeEngine) -> None:
    from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

    name = f"distill_test_{time.monotonic_ns() % 100000}"
    with OscQueryServer(fake_engine, osc_port=9321, name=name) as q:
        deadline = time.monotonic() + 15
        while q.mdns_status is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if q.mdns_status is not True:
            pytest.skip(f"no multicast on this machine: {q.mdns_status}")
        zc = Zeroconf()
        found: dict[str, Any] = {}
        try:

            def on_change(
                zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
            ) -> None:
                if state_change is ServiceStateChange.Added:
                    found[name] = zeroconf.get_service_info(service_type, name, timeout=3000)

            ServiceBrowser(zc, ["_oscjson._tcp.local.", "_osc._udp.local."], handlers=[on_change])
            deadline = time.monotonic() + 10
            want = {f"{name}._oscjson._tcp.local.", f"{name}._osc._udp.local."}
            while not want <= set(found) and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            zc.close()
        assert found[f"{name}._oscjson._tcp.local."].port == q.port
        assert found[f"{name}._osc._udp.local."].port == 9321
