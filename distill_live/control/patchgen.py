"""Generate the ready-made patches from PARAMS: Pure Data, Max, and a TouchDesigner script.

``python -m distill_live.control.patchgen [FOLDER]`` rewrites ``patches/``; a test checks the
committed files equal what this module makes, so the patches never drift from the table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..params import OSC_PREFIX, PARAMS, _fmt

__all__ = ["DEFAULT_REPLY_PORT", "max_patch", "pd_patch", "td_script", "write_patches", "main"]

#: Port the patches listen on for replies: start ``distill-live play --osc-reply-port 9001``.
DEFAULT_REPLY_PORT = 9001
DEFAULT_OSC_PORT = 9000
_TOP = OSC_PREFIX.strip("/")


# -- Pure Data -----------------------------------------------------------------------------
class _Pd:
    def __init__(self) -> None:
        self.lines: list[str] = ["#N canvas 40 60 760 620 12;"]
        self.n = 0
        self.conns: list[str] = []

    def add(self, line: str) -> int:
        self.lines.append(line + ";")
        self.n += 1
        return self.n - 1

    def connect(self, a: int, outlet: int, b: int, inlet: int = 0) -> None:
        self.conns.append(f"#X connect {a} {outlet} {b} {inlet};")

    def text(self) -> str:
        return "\n".join(self.lines + self.conns) + "\n"


_COLORS = "#fcfcfc #000000 #000000"


def pd_patch() -> str:
    """patches/distill_live.pd: Pd vanilla, ``[oscformat]`` + ``[netsend -u -b]`` out,
    ``[netreceive -u -b]`` + ``[oscparse]`` in.

    Every control also has a receive name, so the patch can be driven with ``pd -send``:
    ``distill-<param>-in <value>``, ``distill-record-start``, ``distill-record-stop``,
    ``distill-status`` (bangs), ``distill-port <n>`` (reconnect to another OSC port) and
    ``distill-reply-port <n>`` (listen for replies on another port).
    """
    pd = _Pd()
    pd.add(
        f"#X text 20 10 distill_live: sends OSC to localhost:{DEFAULT_OSC_PORT} \\, replies on "
        f"{DEFAULT_REPLY_PORT} (start: distill-live play --osc-reply-port {DEFAULT_REPLY_PORT})"
    )
    load = pd.add("#X obj 20 40 loadbang")
    conn = pd.add(f"#X msg 20 70 connect localhost {DEFAULT_OSC_PORT}")
    net = pd.add("#X obj 560 70 netsend -u -b")
    rport = pd.add("#X obj 300 40 r distill-port")
    reconn = pd.add("#X msg 300 70 disconnect \\, connect localhost \\$1")
    pd.connect(load, 0, conn)
    pd.connect(conn, 0, net)
    pd.connect(rport, 0, reconn)
    pd.connect(reconn, 0, net)

    y = 110
    for p in PARAMS.values():
        if p.type is int and p.maximum - p.minimum > 10000:  # seed: a number box, not a slider
            ui = pd.add(
                f"#X floatatom 20 {y} 12 {_fmt(p.minimum)} {_fmt(p.maximum)} 1 {p.name} "
                f"distill-{p.name}-in - 0"
            )
        else:
            label = f"{p.name} ({p.range_text}{' ' + p.unit if p.unit else ''})".replace(" ", "\\ ")
            ui = pd.add(
                f"#X obj 20 {y + 16} hsl 220 16 {_fmt(p.minimum)} {_fmt(p.maximum)} 0 0 empty "
                f"distill-{p.name}-in {label} 0 -9 0 11 {_COLORS} 0 1"
            )
        fmt = pd.add(f"#X obj 300 {y + 16} oscformat {_TOP} {p.name}")
        pd.connect(ui, 0, fmt)
        pd.connect(fmt, 0, net)
        y += 50

    for i, (label, parts) in enumerate(
        (("record-start", "record start"), ("record-stop", "record stop"), ("status", "status"))
    ):
        x = 20 + i * 150
        b = pd.add(
            f"#X obj {x} {y} bng 22 250 50 0 empty distill-{label} {label} 0 -9 0 11 {_COLORS}"
        )
        f = pd.add(f"#X obj {x} {y + 40} oscformat {_TOP} {parts}")
        pd.connect(b, 0, f)
        pd.connect(f, 0, net)
        if label == "status":
            status_fmt = f
    y += 80
    poll = pd.add(
        f"#X obj 470 {y - 80} tgl 22 0 empty empty poll\\ status 26 11 0 11 {_COLORS} 0 1"
    )
    metro = pd.add(f"#X obj 470 {y - 40} metro 500")
    pd.connect(poll, 0, metro)
    pd.connect(metro, 0, status_fmt)

    # replies
    recv = pd.add(f"#X obj 20 {y} netreceive -u -b {DEFAULT_REPLY_PORT}")
    rrp = pd.add(f"#X obj 300 {y - 30} r distill-reply-port")
    listen = pd.add(f"#X msg 300 {y} listen \\$1")
    pd.connect(rrp, 0, listen)
    pd.connect(listen, 0, recv)
    parse = pd.add(f"#X obj 20 {y + 30} oscparse")
    trim = pd.add(f"#X obj 20 {y + 60} list trim")
    top = pd.add(f"#X obj 20 {y + 90} route {_TOP}")
    printer = pd.add(f"#X obj 300 {y + 90} print distill-reply")
    pd.connect(recv, 0, parse)
    pd.connect(parse, 0, trim)
    pd.connect(trim, 0, top)
    pd.connect(top, 0, printer)
    names = list(PARAMS)
    route = pd.add(f"#X obj 20 {y + 120} route status.reply done fail {' '.join(names)}")
    pd.connect(top, 0, route)
    for i, label in enumerate(("status", "done", "fail")):
        pre = pd.add(f"#X obj {20 + i * 240} {y + 150} list prepend set")
        tr = pd.add(f"#X obj {20 + i * 240} {y + 175} list trim")
        box = pd.add(f"#X msg {20 + i * 240} {y + 200} {label}")
        pd.connect(route, i, pre)
        pd.connect(pre, 0, tr)
        pd.connect(tr, 0, box)
    for i, name in enumerate(names):  # /distill/<param> v (get / echo): move the slider
        s = pd.add(f"#X msg {20 + i * 110} {y + 240} set \\$1")
        snd = pd.add(f"#X obj {20 + i * 110} {y + 270} s distill-{name}-in")
        pd.connect(route, 3 + i, s)
        pd.connect(s, 0, snd)
    return pd.text()


# -- Max -----------------------------------------------------------------------------------
class _Max:
    def __init__(self) -> None:
        self.boxes: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []

    def add(self, maxclass: str, rect: list[float], ins: int, outs: int, **attrs: Any) -> str:
        box_id = f"obj-{len(self.boxes) + 1}"
        box = {
            "id": box_id,
            "maxclass": maxclass,
            "numinlets": ins,
            "numoutlets": outs,
            "patching_rect": rect,
            **attrs,
        }
        if outs and "outlettype" not in attrs:
            box["outlettype"] = [""] * outs
        self.boxes.append({"box": box})
        return box_id

    def obj(self, text: str, rect: list[float], ins: int, outs: int) -> str:
        return self.add("newobj", rect, ins, outs, text=text)

    def connect(self, a: str, outlet: int, b: str, inlet: int = 0) -> None:
        self.lines.append({"patchline": {"source": [a, outlet], "destination": [b, inlet]}})


def max_patch() -> dict[str, Any]:
    """patches/distill_live.maxpat: sliders/number boxes → ``[prepend /distill/<p>]`` →
    ``[udpsend 127.0.0.1 9000]``; ``[udpreceive 9001]`` → ``[route ...]`` → displays."""
    m = _Max()
    m.add(
        "comment",
        [20, 10, 640, 20],
        1,
        0,
        text=f"distill_live: OSC to 127.0.0.1:{DEFAULT_OSC_PORT}, replies on {DEFAULT_REPLY_PORT} "
        f"(distill-live play --osc-reply-port {DEFAULT_REPLY_PORT})",
    )
    send = m.obj(f"udpsend 127.0.0.1 {DEFAULT_OSC_PORT}", [20, 560, 160, 22], 1, 0)
    y = 50.0
    for p in PARAMS.values():
        m.add("comment", [20, y, 200, 20], 1, 0, text=f"{p.name} ({p.range_text} {p.unit})".strip())
        is_int = p.type is int
        if is_int and p.maximum - p.minimum > 10000:
            ui = m.add(
                "number",
                [20, y + 22, 100, 22],
                1,
                2,
                minimum=int(p.minimum),
                maximum=int(p.maximum),
                outlettype=["", "bang"],
            )
        else:
            ui = m.add(
                "slider",
                [20, y + 22, 200, 20],
                1,
                1,
                floatoutput=0 if is_int else 1,
                min=p.type(p.minimum),
                size=p.type(p.maximum - p.minimum) + (1 if is_int else 0),
                orientation=1,
                parameter_enable=0,
            )
        pre = m.obj(f"prepend {p.osc_address}", [260, y + 22, 200, 22], 1, 1)
        m.connect(ui, 0, pre)
        m.connect(pre, 0, send)
        y += 60
    for i, (label, address) in enumerate(
        (
            ("record start", f"{OSC_PREFIX}/record/start"),
            ("record stop", f"{OSC_PREFIX}/record/stop"),
            ("status", f"{OSC_PREFIX}/status"),
        )
    ):
        x = 20 + i * 140
        b = m.add("button", [x, y, 24, 24], 1, 1, outlettype=["bang"])
        m.add("comment", [x + 28, y, 100, 20], 1, 0, text=label)
        msg = m.add("message", [x, y + 30, 130, 22], 2, 1, text=address)
        m.connect(b, 0, msg)
        m.connect(msg, 0, send)
    y += 70
    recv = m.obj(f"udpreceive {DEFAULT_REPLY_PORT}", [20, y + 60, 140, 22], 1, 1)
    names = " ".join(PARAMS)
    addrs = [f"{OSC_PREFIX}/status.reply", f"{OSC_PREFIX}/done", f"{OSC_PREFIX}/fail"]
    route = m.obj(f"route {' '.join(addrs)}", [20, y + 90, 460, 22], 1, len(addrs) + 1)
    m.connect(recv, 0, route)
    for i, label in enumerate(("status", "done", "fail")):
        pre = m.obj("prepend set", [20 + i * 200, y + 120, 90, 22], 1, 1)
        box = m.add("message", [20 + i * 200, y + 150, 190, 22], 2, 1, text=label)
        m.connect(route, i, pre)
        m.connect(pre, 0, box)
    pr = m.obj("print distill", [20, y + 180, 100, 22], 1, 0)
    m.connect(route, len(addrs), pr)
    m.add("comment", [500, y + 90, 240, 20], 1, 0, text=f"parameters: {names}")
    return {
        "patcher": {
            "fileversion": 1,
            "appversion": {
                "major": 8,
                "minor": 5,
                "revision": 0,
                "architecture": "x64",
                "modernui": 1,
            },
            "classnamespace": "box",
            "rect": [60.0, 80.0, 760.0, 700.0],
            "bglocked": 0,
            "openinpresentation": 0,
            "default_fontsize": 12.0,
            "gridsize": [15.0, 15.0],
            "boxes": m.boxes,
            "lines": m.lines,
            "dependency_cache": [],
            "autosave": 0,
        }
    }


# -- TouchDesigner -------------------------------------------------------------------------
def td_script() -> str:
    """patches/touchdesigner/build_distill_network.py, run inside TouchDesigner."""
    rows = "\n".join(
        f"    ({p.osc_address!r}, {p.type.__name__}({_fmt(p.minimum)}), "
        f"{p.type.__name__}({_fmt(p.maximum)}), {p.type.__name__}({_fmt(p.default)})),"
        for p in PARAMS.values()
    )
    return f'''"""Build a TouchDesigner network that plays distill_live over OSC.

Run it in TouchDesigner's Textport (Alt+T); it builds in the network shown in the current
pane (or /project1):

    exec(open('/path/to/patches/touchdesigner/build_distill_network.py').read())

It makes:
  distill_params   Constant CHOP, one channel per parameter; the channel NAME is the OSC
                   address (/distill/temperature ...), the value starts at the default.
  distill_out      OSC Out CHOP -> 127.0.0.1:{DEFAULT_OSC_PORT}: sends each channel name as the address.
  distill_replies  OSC In DAT on port {DEFAULT_REPLY_PORT}: /distill/done, /distill/fail, /distill/status.reply.
  distill_values   OSC In CHOP on port {DEFAULT_REPLY_PORT + 1}: echoed values (start distill-live with
                   --osc-echo --osc-reply-port {DEFAULT_REPLY_PORT + 1} to use it instead of the DAT).

Start distill_live with:  distill-live play --osc-reply-port {DEFAULT_REPLY_PORT}
The OSC Out CHOP sends every frame; distill_live coalesces to the latest value per block.
Generated from distill_live's parameter table (python -m distill_live.control.patchgen).
"""

OSC_HOST = "127.0.0.1"
OSC_PORT = {DEFAULT_OSC_PORT}
REPLY_PORT = {DEFAULT_REPLY_PORT}

#: (OSC address = channel name, minimum, maximum, default), from distill_live.params.PARAMS
PARAMETERS = [
{rows}
]

COMMANDS = ["{OSC_PREFIX}/record/start", "{OSC_PREFIX}/record/stop", "{OSC_PREFIX}/status"]


def build(parent_comp):
    """Create (or replace) the distill_live operators inside ``parent_comp``."""
    for name in ("distill_params", "distill_out", "distill_replies", "distill_values"):
        old = parent_comp.op(name)
        if old is not None:
            old.destroy()
    params = parent_comp.create(constantCHOP, "distill_params")
    for i, (address, lo, hi, default) in enumerate(PARAMETERS):
        getattr(params.par, "const%dname" % i).val = address
        getattr(params.par, "const%dvalue" % i).val = default
    params.nodeX, params.nodeY = 0, 0

    out = parent_comp.create(oscoutCHOP, "distill_out")
    out.par.netaddress = OSC_HOST
    out.par.port = OSC_PORT
    out.inputConnectors[0].connect(params)
    out.nodeX, out.nodeY = 200, 0

    replies = parent_comp.create(oscinDAT, "distill_replies")
    replies.par.port = REPLY_PORT
    replies.nodeX, replies.nodeY = 0, -200

    values = parent_comp.create(oscinCHOP, "distill_values")
    values.par.port = REPLY_PORT + 1
    values.nodeX, values.nodeY = 200, -200
    return params, out, replies, values


def send_command(address, *args):
    """Send a command such as /distill/record/start (uses the OSC Out CHOP's sendOSC)."""
    if address not in COMMANDS:
        raise ValueError("unknown distill_live command %r; expected one of %s" % (address, COMMANDS))
    op("distill_out").sendOSC(address, args)


if "ui" in globals() and "op" in globals():  # inside TouchDesigner: build in the open network
    build(ui.panes.current.owner if ui.panes.current is not None else op("/project1"))  # noqa: F821
'''


def write_patches(folder: str | Path) -> list[Path]:
    """Write all three patches into ``folder`` (normally ``patches/``)."""
    folder = Path(folder)
    (folder / "touchdesigner").mkdir(parents=True, exist_ok=True)
    outputs = {
        folder / "distill_live.pd": pd_patch(),
        folder / "distill_live.maxpat": json.dumps(max_patch(), indent=2) + "\n",
        folder / "touchdesigner" / "build_distill_network.py": td_script(),
    }
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    return list(outputs)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "patches"
    for path in write_patches(folder):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
