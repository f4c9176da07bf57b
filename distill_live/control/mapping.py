"""MIDI mapping files (TOML): which controller moves which parameter, and how.

A mapping file holds ``[[control]]`` tables (a knob, fader or encoder driving a parameter)
and ``[[button]]`` tables (record start/stop, or a parameter toggle)::

    version = 1

    [[control]]
    param = "temperature"   # a name from the parameter table
    cc = 20                 # 0..127; 0..31 for 14-bit (CC n = MSB, CC n+32 = LSB)
    channel = 1             # 1..16; leave out for any channel
    bits = 14               # 7, or 14 (7-bit controllers still work: see below)
    mode = "absolute"       # or relative-signed-bit | relative-signed-bit-2 |
                            #    relative-binary-offset | relative-twos-complement
    takeover = "soft"       # soft: ignore the knob until it crosses the value; or "jump"
    min = 0.1               # optional: a narrower range than the parameter's
    max = 2.0
    curve = "linear"        # optional: linear | exp (default: the parameter's curve)
    step = 0.0078125        # relative encoders: fraction of the range per tick

    [[control]]
    param = "scale"         # a choice (scale, keys): the knob steps through its choices;
    cc = 26                 # no min, max or curve; an encoder moves one choice per tick
    bits = 7

    [[button]]
    cc = 80
    action = "record_start" # record_start | record_stop | record_toggle | param
    mode = "trigger"        # trigger (on press) | toggle (press alternates on/off)
    # action = "param" also takes: param = "width", on = 2.0, off = 1.0
    #                      or a choice: param = "keys", on = "gate", off = "free"

The keyboard's controllers (CC 64 sustain, CC 120 and 123 all notes off) are not mapped:
:mod:`~distill_live.control.midi` plays them.

With ``bits = 14`` a control whose LSB (CC n+32) has never arrived scales its MSB as a 7-bit
value, so 7-bit controllers reach the whole range; once an LSB arrives it is 14-bit.

:func:`load_mapping` reads with :mod:`tomllib` and raises :class:`ControlError` naming the
file, the table, its line and the bad value; :func:`save_mapping` writes with ``tomli_w``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from ..errors import ControlError
from ..params import PARAMS, Param, Value

__all__ = [
    "BUTTON_ACTIONS",
    "ButtonMapping",
    "ControlMapping",
    "DEFAULT_BUTTONS",
    "MODES",
    "MidiMap",
    "default_mapping",
    "default_mapping_path",
    "load_mapping",
    "save_mapping",
]

#: Absolute, and the four relative encoder encodings.
MODES = (
    "absolute",
    "relative-signed-bit",
    "relative-signed-bit-2",
    "relative-binary-offset",
    "relative-twos-complement",
)
BUTTON_ACTIONS = ("record_start", "record_stop", "record_toggle", "param")
BUTTON_MODES = ("trigger", "toggle")
TAKEOVERS = ("soft", "jump")
CURVES = ("linear", "exp")
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ControlMapping:
    """A continuous control (knob, fader, encoder) driving one parameter."""

    param: str
    cc: int
    channel: int | None = None  # 0..15 (MIDI wire value), None = any channel
    bits: int = 14
    mode: str = "absolute"
    takeover: str = "soft"
    minimum: float | None = None  # None: the parameter's own range
    maximum: float | None = None
    curve: str | None = None  # None: the parameter's curve
    step: float = 1 / 128

    @property
    def scale(self) -> Param:
        """The parameter with this mapping's range and curve (for from_unit / to_unit)."""
        p = PARAMS[self.param]
        return dataclasses.replace(
            p,
            minimum=p.minimum if self.minimum is None else self.minimum,
            maximum=p.maximum if self.maximum is None else self.maximum,
            curve=p.curve if self.curve is None else self.curve,  # type: ignore[arg-type]
        )

    @property
    def lsb_cc(self) -> int | None:
        return self.cc + 32 if self.bits == 14 else None

    def matches(self, channel: int) -> bool:
        return self.channel is None or self.channel == channel


@dataclass(frozen=True)
class ButtonMapping:
    """A button: record start/stop/toggle, or a parameter toggled between two values."""

    cc: int
    action: str
    channel: int | None = None
    mode: str = "trigger"
    param: str | None = None
    on: Value | None = None  # a choice parameter's name for a choice (keys = "gate")
    off: Value | None = None

    def matches(self, channel: int) -> bool:
        return self.channel is None or self.channel == channel


@dataclass(frozen=True)
class MidiMap:
    """A whole mapping: controls and buttons. Program changes select presets (presets.py)."""

    controls: tuple[ControlMapping, ...] = ()
    buttons: tuple[ButtonMapping, ...] = ()
    source: Path | None = field(default=None, compare=False)

    def with_learned(self, new: ControlMapping) -> MidiMap:
        """A copy where ``new`` replaces whatever used its CC (and channel) or its parameter."""

        def clash(c: ControlMapping) -> bool:
            same_channel = c.channel is None or new.channel is None or c.channel == new.channel
            ccs = {c.cc} | ({c.lsb_cc} if c.lsb_cc is not None else set())
            new_ccs = {new.cc} | ({new.lsb_cc} if new.lsb_cc is not None else set())
            return c.param == new.param or (same_channel and bool(ccs & new_ccs))

        controls = tuple(c for c in self.controls if not clash(c)) + (new,)
        buttons = tuple(
            b
            for b in self.buttons
            if b.cc not in ({new.cc} | ({new.lsb_cc} if new.lsb_cc else set()))
        )
        return MidiMap(controls, buttons, self.source)


#: Buttons of the default mapping (record start and stop as triggers).
DEFAULT_BUTTONS = (
    ButtonMapping(cc=80, action="record_start", mode="trigger"),
    ButtonMapping(cc=81, action="record_stop", mode="trigger"),
)


def default_mapping() -> MidiMap:
    """The mapping for a generic controller: each parameter's ``midi_cc`` from PARAMS
    (absolute, 14-bit capable, soft takeover, any channel) and the record buttons."""
    controls = tuple(
        ControlMapping(param=p.name, cc=p.midi_cc) for p in PARAMS.values() if p.midi_cc is not None
    )
    return MidiMap(controls, DEFAULT_BUTTONS)


def default_mapping_path() -> Path:
    """Where MIDI learn saves when no ``--midi-map`` was given."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "distill_live" / "midi-map.toml"


# -- reading -------------------------------------------------------------------------------
class _Where:
    """Names a table in error messages: file, table kind, index and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines: dict[str, list[int]] = {}
        for kind in ("control", "button"):
            pat = re.compile(rf"^[ \t]*\[\[[ \t]*{kind}[ \t]*\]\]", re.M)
            self.lines[kind] = [text.count("\n", 0, m.start()) + 1 for m in pat.finditer(text)]

    def __call__(self, kind: str, i: int) -> str:
        lines = self.lines.get(kind, [])
        line = f" (line {lines[i]})" if i < len(lines) else ""
        return f"{self.path}: [[{kind}]] #{i + 1}{line}"


def _int(t: Mapping[str, Any], key: str, lo: int, hi: int, where: str, default: Any = ...) -> Any:
    if key not in t:
        if default is ...:
            raise ControlError(f"{where}: missing {key} (an integer in {lo}..{hi})")
        return default
    v = t[key]
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ControlError(f"{where}: {key} must be an integer in {lo}..{hi}, got {v!r}")
    return v


def _choice(
    t: Mapping[str, Any], key: str, options: Iterable[str], where: str, default: Any
) -> Any:
    options = tuple(options)
    v = t.get(key, default)
    if v is not default and v not in options:
        raise ControlError(f"{where}: {key} must be one of {', '.join(options)}; got {v!r}")
    return v


def _number(t: Mapping[str, Any], key: str, where: str, default: Any = None) -> Any:
    v = t.get(key, default)
    if v is default:
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ControlError(f"{where}: {key} must be a number, got {v!r}")
    return float(v)


def _check_keys(t: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(t) - allowed)
    if unknown:
        raise ControlError(
            f"{where}: unknown key {unknown[0]!r}; expected some of: {', '.join(sorted(allowed))}"
        )


def _param_name(t: Mapping[str, Any], where: str) -> str:
    name = t.get("param")
    if name not in PARAMS:
        raise ControlError(f"{where}: param must be one of: {', '.join(PARAMS)}; got {name!r}")
    return str(name)


def _parse_control(t: Mapping[str, Any], where: str) -> ControlMapping:
    _check_keys(
        t,
        {"param", "cc", "channel", "bits", "mode", "takeover", "min", "max", "curve", "step"},
        where,
    )
    name = _param_name(t, where)
    bits = t.get("bits", 14)
    if bits not in (7, 14) or isinstance(bits, bool):
        raise ControlError(f"{where}: bits must be 7 or 14, got {bits!r}")
    cc = _int(t, "cc", 0, 31 if bits == 14 else 127, where)
    channel = _int(t, "channel", 1, 16, where, None)
    mode = _choice(t, "mode", MODES, where, "absolute")
    takeover = _choice(t, "takeover", TAKEOVERS, where, "soft")
    curve = _choice(t, "curve", CURVES, where, None)
    lo, hi = _number(t, "min", where), _number(t, "max", where)
    p = PARAMS[name]
    if p.is_choice:
        # a knob or encoder steps through every choice: no narrower range, no curve
        for key in ("min", "max", "curve"):
            if key in t:
                raise ControlError(
                    f"{where}: {key} does not apply to {name}, a choice ({p.range_text}); "
                    "the control steps through every choice"
                )
    for key, v in (("min", lo), ("max", hi)):
        if v is not None and not p.minimum <= v <= p.maximum:
            raise ControlError(f"{where}: {key} = {v!r} is outside {name}'s range {p.range_text}")
    if lo is not None and hi is not None and lo == hi:
        raise ControlError(f"{where}: min and max are both {lo!r}; give a range")
    # an encoder moves a choice by one per tick unless told otherwise
    step = _number(t, "step", where, 1 / max(1, len(p.choices) - 1) if p.is_choice else 1 / 128)
    if not 0 < step <= 1:
        raise ControlError(
            f"{where}: step must be in (0, 1] (a fraction of the range), got {step!r}"
        )
    return ControlMapping(
        param=name,
        cc=cc,
        channel=None if channel is None else channel - 1,
        bits=bits,
        mode=mode,
        takeover=takeover,
        minimum=lo,
        maximum=hi,
        curve=curve,
        step=step,
    )


def _parse_button(t: Mapping[str, Any], where: str) -> ButtonMapping:
    _check_keys(t, {"cc", "channel", "action", "mode", "param", "on", "off"}, where)
    cc = _int(t, "cc", 0, 127, where)
    channel = _int(t, "channel", 1, 16, where, None)
    if "action" not in t:
        raise ControlError(f"{where}: missing action (one of {', '.join(BUTTON_ACTIONS)})")
    action = _choice(t, "action", BUTTON_ACTIONS, where, None)
    mode = _choice(t, "mode", BUTTON_MODES, where, "trigger")
    param = on = off = None
    if action == "param":
        param = _param_name(t, where)
        if PARAMS[param].is_choice:  # a name (or an index), stored as the canonical name
            on, off = t.get("on"), t.get("off")
        else:
            on, off = _number(t, "on", where), _number(t, "off", where)
        if on is None:
            raise ControlError(f'{where}: action = "param" needs on = <value>')
        checked: list[Value | None] = []
        for key, v in (("on", on), ("off", off)):
            try:
                checked.append(None if v is None else PARAMS[param].coerce(v)[0])
            except ControlError as e:
                raise ControlError(f"{where}: {key}: {e}") from None
        if PARAMS[param].is_choice:
            on, off = checked
    return ButtonMapping(
        cc=cc,
        action=action,
        channel=None if channel is None else channel - 1,
        mode=mode,
        param=param,
        on=on,
        off=off,
    )


def load_mapping(path: str | os.PathLike[str]) -> MidiMap:
    """Read a mapping file; :class:`ControlError` naming the file, table, line and value."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ControlError(
            f"MIDI mapping file {path} does not exist; check --midi-map "
            "(MIDI learn creates it when you learn a control)"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ControlError(f"cannot read MIDI mapping file {path}: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ControlError(f"{path}: not valid TOML: {e}") from None
    where = _Where(path, text)
    unknown = sorted(set(data) - {"version", "control", "button"})
    if unknown:
        raise ControlError(
            f"{path}: unknown top-level key {unknown[0]!r}; expected version, "
            "[[control]] and [[button]] tables"
        )
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ControlError(f"{path}: version must be {FORMAT_VERSION}, got {version!r}")
    controls, buttons = data.get("control", []), data.get("button", [])
    if not isinstance(controls, list) or not isinstance(buttons, list):
        raise ControlError(f"{path}: control and button must be arrays of tables ([[control]])")
    return MidiMap(
        tuple(_parse_control(t, where("control", i)) for i, t in enumerate(controls)),
        tuple(_parse_button(t, where("button", i)) for i, t in enumerate(buttons)),
        source=path,
    )


# -- writing -------------------------------------------------------------------------------
def _control_table(c: ControlMapping) -> dict[str, Any]:
    t: dict[str, Any] = {"param": c.param, "cc": c.cc}
    if c.channel is not None:
        t["channel"] = c.channel + 1
    t.update(bits=c.bits, mode=c.mode, takeover=c.takeover)
    if c.minimum is not None:
        t["min"] = c.minimum
    if c.maximum is not None:
        t["max"] = c.maximum
    if c.curve is not None:
        t["curve"] = c.curve
    if c.mode != "absolute":
        t["step"] = c.step
    return t


def _button_table(b: ButtonMapping) -> dict[str, Any]:
    t: dict[str, Any] = {"cc": b.cc, "action": b.action, "mode": b.mode}
    if b.channel is not None:
        t["channel"] = b.channel + 1
    if b.param is not None:
        t["param"] = b.param
    if b.on is not None:
        t["on"] = b.on
    if b.off is not None:
        t["off"] = b.off
    return t


def save_mapping(mapping: MidiMap, path: str | os.PathLike[str]) -> Path:
    """Write ``mapping`` to ``path`` (atomically: a temporary file, then rename)."""
    path = Path(path)
    doc = {
        "version": FORMAT_VERSION,
        "control": [_control_table(c) for c in mapping.controls],
        "button": [_button_table(b) for b in mapping.buttons],
    }
    text = "# distill_live MIDI mapping (see docs/control.md)\n" + tomli_w.dumps(doc)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise ControlError(f"cannot write MIDI mapping file {path}: {e}") from None
    return path
