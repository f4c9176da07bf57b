"""The ready-made patches: generated from PARAMS and up to date; Pd runs headless against a
running engine; the Max patch is valid Max JSON; the TouchDesigner script builds its network."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from distill_live.control.osc import COMMANDS
from distill_live.control.patchgen import max_patch, pd_patch, td_script
from distill_live.params import PARAMS
from tests.control.helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
PATCHES = ROOT / "patches"
KNOWN = {p.osc_address for p in PARAMS.values()} | set(COMMANDS)
REPLIES = {"/distill/status.reply", "/distill/done", "/distill/fail"}


def test_committed_patches_are_generated_from_params() -> None:
    assert (PATCHES / "distill_live.pd").read_text() == pd_patch()
    assert json.loads((PATCHES / "distill_live.maxpat").read_text()) == max_patch()
    assert (PATCHES / "touchdesigner" / "build_distill_network.py").read_text() == td_script()
    # (regenerate with: python -m distill_live.control.patchgen)


def test_pd_patch_covers_every_parameter() -> None:
    text = pd_patch()
    sent = {"/" + "/".join(m.split()) for m in re.findall(r"oscformat ([^;]+);", text)}
    assert sent <= KNOWN
    assert {p.osc_address for p in PARAMS.values()} <= sent
    assert {"/distill/record/start", "/distill/record/stop", "/distill/status"} <= sent
    for p in PARAMS.values():
        assert f"distill-{p.name}-in" in text
    assert (
        "netreceive -u -b" in text and "oscparse" in text and "route status.reply done fail" in text
    )


def _max_boxes(patch: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["box"]["id"]: b["box"] for b in patch["patcher"]["boxes"]}


def test_max_patch_is_valid_and_uses_known_addresses() -> None:
    patch = json.loads((PATCHES / "distill_live.maxpat").read_text())
    boxes = _max_boxes(patch)
    assert len(boxes) == len(patch["patcher"]["boxes"])  # unique ids
    for box in boxes.values():
        assert {"id", "maxclass", "numinlets", "numoutlets", "patching_rect"} <= set(box)
        assert len(box["patching_rect"]) == 4
        if box["numoutlets"]:
            assert len(box["outlettype"]) == box["numoutlets"]
    for line in patch["patcher"]["lines"]:
        (src, outlet), (dst, inlet) = line["patchline"]["source"], line["patchline"]["destination"]
        assert src in boxes and dst in boxes
        assert 0 <= outlet < boxes[src]["numoutlets"] and 0 <= inlet < boxes[dst]["numinlets"]
    texts = [b.get("text", "") for b in boxes.values() if b["maxclass"] in ("newobj", "message")]
    used = {w for t in texts for w in t.split() if w.startswith("/distill")}
    assert used - REPLIES <= KNOWN, used - REPLIES - KNOWN
    assert {p.osc_address for p in PARAMS.values()} <= used
    assert any(t.startswith("udpsend 127.0.0.1 9000") for t in texts)
    assert any(t.startswith("udpreceive 9001") for t in texts)
    # every parameter's control feeds [prepend <address>] → [udpsend]
    send_id = next(i for i, b in boxes.items() if b.get("text", "").startswith("udpsend"))
    feeds = {
        (ln["patchline"]["source"][0], ln["patchline"]["destination"][0])
        for ln in patch["patcher"]["lines"]
    }
    for p in PARAMS.values():
        pre = next(i for i, b in boxes.items() if b.get("text") == f"prepend {p.osc_address}")
        assert (pre, send_id) in feeds and any(d == pre for _, d in feeds)


class _Par:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        holder = self

        class _P:
            @property
            def val(self) -> Any:
                return holder.values.get(name)

            @val.setter
            def val(self, v: Any) -> None:
                holder.values[name] = v

        return _P()

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "values":
            object.__setattr__(self, name, value)
        else:
            self.values[name] = value


class _Op:
    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name, self.par = kind, name, _Par()
        self.inputs: list[_Op] = []
        self.nodeX = self.nodeY = 0
        outer = self

        class _Conn:
            def connect(self, other: _Op) -> None:
                outer.inputs.append(other)

        self.inputConnectors = [_Conn()]

    def destroy(self) -> None:
        pass


class _Comp:
    def __init__(self) -> None:
        self.ops: dict[str, _Op] = {}

    def op(self, name: str) -> _Op | None:
        return self.ops.get(name)

    def create(self, kind: str, name: str) -> _Op:
        self.ops[name] = _Op(kind, name)
        return self.ops[name]


def test_touchdesigner_script_builds_network_with_known_addresses() -> None:
    """TouchDesigner is not available here: run the script against a stand-in of the few
    TD calls it makes, and check what it builds."""
    source = (PATCHES / "touchdesigner" / "build_distill_network.py").read_text()
    ast.parse(source)
    strings = {
        n.value
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n.value.startswith("/distill")
    }
    assert strings and strings <= KNOWN
    ns: dict[str, Any] = {
        "__name__": "td_test",
        "constantCHOP": "constantCHOP",
        "oscoutCHOP": "oscoutCHOP",
        "oscinDAT": "oscinDAT",
        "oscinCHOP": "oscinCHOP",
    }
    exec(compile(source, "build_distill_network.py", "exec"), ns)
    comp = _Comp()
    params, out, replies, values = ns["build"](comp)
    names = [params.par.values[f"const{i}name"] for i in range(len(PARAMS))]
    assert names == [p.osc_address for p in PARAMS.values()]  # channel names = addresses
    defaults = [params.par.values[f"const{i}value"] for i in range(len(PARAMS))]
    # a CHOP channel carries numbers: a choice's default is its index into CHOICES
    assert defaults == [
        p.choices.index(str(p.default)) if p.is_choice else p.default for p in PARAMS.values()
    ]
    assert ns["CHOICES"] == {p.osc_address: list(p.choices) for p in PARAMS.values() if p.is_choice}
    sent: list[tuple[str, Any]] = []

    class _Out:
        def sendOSC(self, address: str, args: Any) -> None:  # noqa: N802 (TouchDesigner's name)
            sent.append((address, list(args)))

    ns["op"] = lambda name: _Out()
    ns["send_note"](57, 100)
    ns["send_note"](57.0, 0)
    ns["notes_off"]()
    assert sent == [
        ("/distill/note", [57, 100]),
        ("/distill/note", [57, 0]),
        ("/distill/notes_off", []),
    ]
    with pytest.raises(ValueError, match=r"note must be a whole number in 0..127, got 128"):
        ns["send_note"](128)
    assert out.kind == "oscoutCHOP" and out.inputs == [params] and out.par.values["port"] == 9000
    assert replies.kind == "oscinDAT" and replies.par.values["port"] == 9001
    assert (PATCHES / "touchdesigner" / "README.md").read_text().count("/distill/") >= 3


def _start_pd(messages: str) -> subprocess.Popen[str]:
    """Pure Data, headless, running the committed patch after the ``-send`` messages."""
    return subprocess.Popen(
        ["pd", "-nogui", "-nosound", "-nomidi", "-stderr", "-send", messages, "-open"]
        + [str(PATCHES / "distill_live.pd")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.jack
def test_pd_headless_changes_running_engine(
    engine, control, free_udp_port: int, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # /distill/record/start without a path records into ./recordings/
    reply_port = free_udp_port
    h = control(osc_reply_port=reply_port)
    record = Path(engine.stats().get("recording") or "")
    assert record == Path("")
    messages = "; ".join(
        [
            f"distill-port {h.osc.port}",
            f"distill-reply-port {reply_port}",
            "distill-temperature-in 0.5",
            "distill-top_k-in 40",
            "distill-gain-in -6",
            "distill-width-in 1.5",
            "distill-seed-in 77",
            "distill-record-start bang",
            "distill-status bang",
        ]
    )
    pd = _start_pd(messages)
    try:
        wait_until(
            lambda: engine.get("temperature") == pytest.approx(0.5), 10, "temperature from Pd"
        )
        wait_until(
            lambda: engine.get("top_k") == 40 and engine.get("seed") == 77, 10, "top_k, seed"
        )
        wait_until(
            lambda: engine.get("gain") == -6.0 and engine.get("width") == 1.5, 10, "gain, width"
        )
        wait_until(lambda: engine.stats()["recording"] is not None, 10, "recording from Pd")
        time.sleep(1.0)  # the replies reach Pd's display
    finally:
        pd.terminate()
        out, _ = pd.communicate(timeout=10)
        engine.record_stop()
    # Pd's reply display got the status reply and the done for record/start
    assert "distill-reply: done /distill/record/start" in out, out
    status = re.search(r"distill-reply: status.reply (.*)", out)
    assert status is not None, out
    assert "temperature 0.5 top_k 40" in status.group(1) and "underruns" in status.group(1)
    assert "error:" not in out.lower(), out
    assert list((tmp_path / "recordings").glob("*.wav"))


def test_pd_keyboard_sends_notes_into_a_real_osc_server(fake_engine, free_udp_port: int) -> None:  # type: ignore[no-untyped-def]
    """A real Pure Data runs the committed patch headless and plays its keyboard (a key
    released after the hold time, a raw note-on and note-off, all notes off), the pitch
    bend slider, the sustain toggle and the scale and keys boxes into a real OscServer over
    UDP; the fake engine records what arrived (this tests the OSC path of the patch)."""
    from distill_live.control.osc import OscServer

    with OscServer(fake_engine, port=0, reply_port=free_udp_port) as srv:
        messages = "; ".join(
            [
                f"distill-port {srv.port}",
                f"distill-reply-port {free_udp_port}",
                "distill-bend-in -0.5",
                "distill-sustain-in 1",
                "distill-scale-in 8",  # the index of C minor pentatonic
                "distill-keys-in 1",  # gate
                "distill-velocity 90",
                "distill-hold 200",
                "distill-key 60",  # note-on now, note-off 200 ms later
                "distill-note-in 57 100",
                "distill-note-in 57 0",
                "distill-notes-off bang",
            ]
        )
        pd = _start_pd(messages)
        try:
            wait_until(lambda: (60, 0, "osc") in fake_engine.notes, 10, "the key's release")
            wait_until(lambda: fake_engine.get("keys") == "gate", 10, "keys from Pd")
        finally:
            pd.terminate()
            out, _ = pd.communicate(timeout=10)
    notes = [(n, v) for n, v, _ in fake_engine.notes]
    assert notes[:4] == [(60, 90), (57, 100), (57, 0), (None, 0)], (notes, out)
    assert notes[4:] == [(60, 0)]  # after the hold time
    assert fake_engine.get("bend") == -0.5 and fake_engine.get("sustain") == 1
    assert fake_engine.get("scale") == "C minor pentatonic"
    # (the patch's first listen, on 9001, fails when another test or Pd holds that port)
    errors = [ln for ln in out.splitlines() if "error" in ln.lower() and "listen" not in ln]
    assert errors == [], out
    assert srv.stats().get("rejected", 0) == 0
