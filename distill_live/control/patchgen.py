"""Generate the ready-made patches from PARAMS: Pure Data, Max, and a TouchDesigner script.

``python -m distill_live.control.patchgen [FOLDER]`` rewrites ``patches/``; a test checks the
committed files equal what this module makes, so the patches never drift from the table.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..params import OSC_PREFIX, PARAMS, Param, _fmt
from .osc import NOTE_ADDRESS, NOTES_OFF_ADDRESS

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
        fmt = pd.add(f"#X obj 300 {y + 16} oscformat {_TOP} {p.name}")
        if p.is_choice:
            # a number box for the index (the server takes a menu's number), and a message
            # box per choice, spaces written as _ (the server reads "C_minor_pentatonic")
            ui = pd.add(
                f"#X floatatom 20 {y + 16} 5 0 {len(p.choices) - 1} 1 {p.name}\\ index "
                f"distill-{p.name}-in - 0"
            )
            for i, choice in enumerate(_shown_choices(p.choices)):
                box = pd.add(f"#X msg {460 + i * 90} {y + 16} symbol {choice.replace(' ', '_')}")
                pd.connect(box, 0, fmt)
        elif p.type is int and p.maximum - p.minimum > 10000:  # seed: a number box
            ui = pd.add(
                f"#X floatatom 20 {y} 12 {_fmt(p.minimum)} {_fmt(p.maximum)} 1 {p.name} "
                f"distill-{p.name}-in - 0"
            )
        elif p.type is int and p.maximum - p.minimum == 1:  # the sustain pedal: a toggle
            ui = pd.add(
                f"#X obj 20 {y + 16} tgl 22 0 empty distill-{p.name}-in {p.name} 26 11 0 11 "
                f"{_COLORS} 0 1"
            )
        else:
            label = f"{p.name} ({p.range_text}{' ' + p.unit if p.unit else ''})".replace(" ", "\\ ")
            ui = pd.add(
                f"#X obj 20 {y + 16} hsl 220 16 {_fmt(p.minimum)} {_fmt(p.maximum)} 0 0 empty "
                f"distill-{p.name}-in {label} 0 -9 0 11 {_COLORS} 0 1"
            )
        pd.connect(ui, 0, fmt)
        pd.connect(fmt, 0, net)
        y += 50

    y = _pd_keyboard(pd, net, load, y)

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
        x = 20 + i * 110
        if PARAMS[name].is_choice:  # a name: shown in a box (a number box takes no name)
            pre = pd.add(f"#X obj {x} {y + 240} list prepend set")
            tr = pd.add(f"#X obj {x} {y + 270} list trim")
            box = pd.add(f"#X msg {x} {y + 300} {name}")
            pd.connect(route, 3 + i, pre)
            pd.connect(pre, 0, tr)
            pd.connect(tr, 0, box)
            continue
        s = pd.add(f"#X msg {x} {y + 240} set \\$1")
        snd = pd.add(f"#X obj {x} {y + 270} s distill-{name}-in")
        pd.connect(route, 3 + i, s)
        pd.connect(s, 0, snd)
    return pd.text()


#: The scale choices the Pd patch has a message box for (its number box reaches them all).
_PD_SCALES = ("off", "C major", "C minor pentatonic", "A minor")
#: The Pd keyboard's keys: an octave from middle C.
PD_KEYS = tuple(range(60, 73))


def _shown_choices(choices: tuple[str, ...]) -> tuple[str, ...]:
    """Every choice when there are a few; a handful of examples of a long list (scale)."""
    return choices if len(choices) <= 4 else tuple(c for c in _PD_SCALES if c in choices)


def _pd_keyboard(pd: _Pd, net: int, load: int, y: int) -> int:
    """A row of key message boxes (an octave from middle C) that play a note for ``hold``
    ms (note-on, then note-off from a [pipe]), velocity and hold number boxes, and an all
    notes off button. Receive names: ``distill-key <note>`` (a key, released after the hold
    time), ``distill-note-in <note> <velocity>`` (a raw note-on or, velocity 0, note-off),
    ``distill-velocity <v>``, ``distill-hold <ms>``, ``distill-notes-off`` (bang). Returns
    the next free y."""
    pd.add(f"#X text 20 {y} keyboard: click a key (held for hold ms) \\, or send note velocity")
    key_in = pd.add(f"#X obj 20 {y + 30 + 30} t f f")
    for i, note in enumerate(PD_KEYS):
        box = pd.add(f"#X msg {20 + i * 36} {y + 30} {note}")
        pd.connect(box, 0, key_in)
    r_key = pd.add(f"#X obj 500 {y + 60} r distill-key")
    pd.connect(r_key, 0, key_in)
    on = pd.add(f"#X obj 20 {y + 90} pack f 100")
    hold = pd.add(f"#X obj 200 {y + 90} pipe 500")
    off = pd.add(f"#X obj 200 {y + 120} pack f 0")
    pd.connect(key_in, 1, hold)  # [t f f]: right first, so the release is scheduled...
    pd.connect(key_in, 0, on)  # ...then the note-on goes out
    pd.connect(hold, 0, off)
    vel = pd.add(f"#X floatatom 20 {y + 150} 5 1 127 1 velocity distill-velocity - 0")
    pd.connect(vel, 0, on, 1)
    hold_ms = pd.add(f"#X floatatom 200 {y + 150} 6 0 60000 1 hold\\ ms distill-hold - 0")
    pd.connect(hold_ms, 0, hold, 1)
    for box, start, x in ((vel, 100, 110), (hold_ms, 500, 290)):  # show the start values
        init = pd.add(f"#X msg {x} {y + 120} {start}")
        pd.connect(load, 0, init)
        pd.connect(init, 0, box)
    note_fmt = pd.add(f"#X obj 20 {y + 180} oscformat {_TOP} note")
    r_note = pd.add(f"#X obj 360 {y + 150} r distill-note-in")
    for src in (on, off, r_note):
        pd.connect(src, 0, note_fmt)
    pd.connect(note_fmt, 0, net)
    panic = pd.add(
        f"#X obj 500 {y + 150} bng 22 250 50 0 empty distill-notes-off all\\ notes\\ off "
        f"0 -9 0 11 {_COLORS}"
    )
    panic_fmt = pd.add(f"#X obj 500 {y + 180} oscformat {_TOP} notes_off")
    pd.connect(panic, 0, panic_fmt)
    pd.connect(panic_fmt, 0, net)
    return y + 220


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
    send = m.obj(f"udpsend 127.0.0.1 {DEFAULT_OSC_PORT}", [520, 50, 160, 22], 1, 0)
    y = 50.0
    for p in PARAMS.values():
        m.add("comment", [20, y, 200, 20], 1, 0, text=f"{p.name} ({p.range_text} {p.unit})".strip())
        is_int = p.type is int
        if p.is_choice:  # a menu: its index goes out, which the server takes
            ui = m.add(
                "umenu",
                [20, y + 22, 200, 22],
                1,
                3,
                items=[x for c in p.choices for x in (c, ",")][:-1],
                outlettype=["int", "", ""],
                parameter_enable=0,
            )
        elif is_int and p.maximum - p.minimum == 1:  # the sustain pedal
            ui = m.add("toggle", [20, y + 22, 24, 24], 1, 1, outlettype=["int"], parameter_enable=0)
        elif is_int and p.maximum - p.minimum > 10000:
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
    # the keyboard: [kslider] (polyphonic: a click holds a key, a second click releases it
    # with velocity 0) → [pack 0 0] (note, velocity) → [prepend /distill/note]
    m.add("comment", [20, y, 400, 20], 1, 0, text="keyboard (click to hold, again to release)")
    keys = m.add(
        "kslider",
        [20, y + 22, 336, 53],
        2,
        2,
        mode=1,
        offset=48,
        range=37,
        outlettype=["int", "int"],
        parameter_enable=0,
    )
    pack = m.obj("pack 0 0", [20, y + 85, 70, 22], 2, 1)
    m.connect(keys, 0, pack, 0)
    m.connect(keys, 1, pack, 1)  # kslider sends velocity (right) before the note (left)
    note = m.obj(f"prepend {NOTE_ADDRESS}", [20, y + 115, 160, 22], 1, 1)
    m.connect(pack, 0, note)
    m.connect(note, 0, send)
    off_button = m.add("button", [380, y + 22, 24, 24], 1, 1, outlettype=["bang"])
    m.add("comment", [408, y + 22, 120, 20], 1, 0, text="all notes off")
    off_msg = m.add("message", [380, y + 52, 140, 22], 2, 1, text=NOTES_OFF_ADDRESS)
    m.connect(off_button, 0, off_msg)
    m.connect(off_msg, 0, send)
    y += 150
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
def _td_row(p: Param) -> str:
    """One PARAMETERS row: a CHOP channel carries numbers, so a choice is its index."""
    if p.is_choice:
        index = p.choices.index(str(p.default))
        return f"    ({p.osc_address!r}, 0, {len(p.choices) - 1}, {index}),  # CHOICES"
    t = p.type.__name__
    lo, hi, default = _fmt(p.minimum), _fmt(p.maximum), _fmt(float(p.default))
    return f"    ({p.osc_address!r}, {t}({lo}), {t}({hi}), {t}({default})),"


def td_script() -> str:
    """patches/touchdesigner/build_distill_network.py, run inside TouchDesigner."""
    rows = "\n".join(_td_row(p) for p in PARAMS.values())
    choices = "\n".join(
        f"    {p.osc_address!r}: {list(p.choices)!r}," for p in PARAMS.values() if p.is_choice
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

Keys: send_note(60, 100) plays middle C, send_note(60, 0) releases it; notes_off() releases
all (a choice parameter's channel, scale or keys, is an index into CHOICES).

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

#: A choice parameter's channel is an index into its list here (distill_live takes it).
CHOICES = {{
{choices}
}}

COMMANDS = [
    "{OSC_PREFIX}/record/start",
    "{OSC_PREFIX}/record/stop",
    "{OSC_PREFIX}/status",
    "{NOTES_OFF_ADDRESS}",
]


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


def send_note(note, velocity=100):
    """A key: note 0..127, velocity 0..127 (0 releases it). distill_live plays the last key
    held; pair every note-on with a velocity-0 note-off (or call notes_off())."""
    for what, x in (("note", note), ("velocity", velocity)):
        if int(x) != x or not 0 <= x <= 127:
            raise ValueError("%s must be a whole number in 0..127, got %r" % (what, x))
    op("distill_out").sendOSC("{NOTE_ADDRESS}", [int(note), int(velocity)])


def notes_off():
    """Release every key (all notes off)."""
    send_command("{NOTES_OFF_ADDRESS}")


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
