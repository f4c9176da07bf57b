"""The one declaration of every live parameter.

Each :class:`Param` states a parameter's name, type, range, default, unit and description, and
how an out-of-range value is treated (clamped to the range and reported). CLI flags, OSC
addresses, MIDI mappings, OSCQuery, the recording sidecar and the README table are all derived
from :data:`PARAMS`; ``tests/test_params.py`` checks that they agree.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from .errors import ControlError
from .scales import SCALE_CHOICES, parse_scale

__all__ = [
    "OSC_PREFIX",
    "SOURCES",
    "Value",
    "Param",
    "PARAMS",
    "ParamValues",
    "get_param",
    "coerce",
    "coerce_note",
    "markdown_table",
]

#: Every OSC address of distill_live starts with this.
OSC_PREFIX = "/distill"

#: Where a change can come from (``Engine.set(..., source=)``, the recording sidecar's
#: events): the interfaces that drive the parameters below.
SOURCES = ("osc", "midi", "cli", "api", "automation")

Curve = Literal["linear", "exp"]

#: A parameter's value: a number, or one of a choice parameter's names.
Value = int | float | str


@dataclass(frozen=True)
class Param:
    """A live parameter: what it is called, what it takes, and how it maps to controllers.

    A number (``type`` int or float, clamped to ``minimum..maximum``) or a choice (``type``
    str: one of ``choices``; its range is the index ``0..len(choices) - 1``, which is what a
    MIDI knob or a menu index steps through).
    """

    name: str
    type: type  # int, float, or str for a choice
    minimum: float
    maximum: float
    default: float | str
    unit: str
    description: str
    #: CC number (0-31, so CC n+32 can carry the 14-bit LSB) in the default MIDI mapping,
    #: or None if the default mapping leaves it out.
    midi_cc: int | None = None
    #: How a 0..1 controller position maps onto the range: linear, or exponential (equal
    #: ratios per equal knob travel; needs minimum > 0 or maps position 0 to minimum).
    curve: Curve = "linear"
    #: A choice parameter's values, in knob order (``type`` is str).
    choices: tuple[str, ...] = ()
    #: Turns a user's spelling into one of ``choices`` (raises ValueError); default: the
    #: choice whatever its case.
    parse: Callable[[str], str] | None = None

    @property
    def is_choice(self) -> bool:
        return self.type is str

    @property
    def osc_address(self) -> str:
        return f"{OSC_PREFIX}/{self.name}"

    @property
    def osc_typetag(self) -> str:
        return "s" if self.is_choice else "i" if self.type is int else "f"

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def range_text(self) -> str:
        if self.is_choice:
            if len(self.choices) > 4:
                c = self.choices
                return f"{c[0]}, {c[1]}, ..., {c[-1]} ({len(c)} choices)"
            return ", ".join(self.choices)
        return f"{_fmt(self.minimum)}..{_fmt(self.maximum)}"

    def _choice(self, value: object) -> str:
        if isinstance(value, bool):
            pass  # not an index: falls through to the error
        elif isinstance(value, str):
            try:
                name = self.parse(value) if self.parse is not None else value.strip().lower()
            except ValueError as exc:
                raise ControlError(f"{self.name}: {exc}") from None
            if name in self.choices:
                return name
        elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
            if 0 <= int(value) < len(self.choices):  # a menu index (Max umenu, Pd, TD)
                return self.choices[int(value)]
        elif isinstance(value, numbers.Real) and float(value).is_integer():
            return self._choice(int(float(value)))
        raise ControlError(
            f"{self.name} must be one of {self.range_text} (or its index 0.."
            f"{len(self.choices) - 1}), got {value!r}"
        )

    def coerce(self, value: object) -> tuple[Value, bool]:
        """Return ``(value, clamped)``: ``value`` converted to this parameter's type and
        clamped to its range; ``clamped`` tells whether clamping changed it.

        Ints are accepted where floats are expected and floats (rounded) where ints are
        (Max and TouchDesigner send either). Raises :class:`ControlError` for anything
        that is not a finite real number. A choice takes one of its names (in any spelling
        ``parse`` understands) or an index, and is never clamped.
        """
        if self.is_choice:
            return self._choice(value), False
        if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy scalars too
            raise ControlError(
                f"{self.name} must be a number in {self.range_text} {self.unit}".rstrip()
                + f", got {value!r} ({type(value).__name__})"
            )
        x = float(value)
        if not math.isfinite(x):
            raise ControlError(
                f"{self.name} must be a finite number in {self.range_text}, got {value!r}"
            )
        clamped_x = min(max(x, self.minimum), self.maximum)
        out: int | float = int(round(clamped_x)) if self.type is int else clamped_x
        return out, clamped_x != x

    def from_unit(self, position: float) -> Value:
        """Map a controller position in 0..1 onto the range, following :attr:`curve`."""
        p = min(max(float(position), 0.0), 1.0)
        if self.is_choice:
            return self.choices[int(round(p * (len(self.choices) - 1)))]
        if self.curve == "exp":
            lo = self.minimum if self.minimum > 0 else 1.0
            x = self.minimum if p == 0.0 and self.minimum <= 0 else lo * (self.maximum / lo) ** p
        else:
            x = self.minimum + p * (self.maximum - self.minimum)
        return self.coerce(x)[0]

    def to_unit(self, value: Value) -> float:
        """Inverse of :meth:`from_unit`: the controller position (0..1) of a value."""
        if self.is_choice:
            i = self.choices.index(self._choice(value))
            return i / max(1, len(self.choices) - 1)
        assert not isinstance(value, str)
        v = min(max(float(value), self.minimum), self.maximum)
        if self.curve == "exp":
            lo = self.minimum if self.minimum > 0 else 1.0
            if v <= lo:
                return 0.0
            return math.log(v / lo) / math.log(self.maximum / lo)
        span = self.maximum - self.minimum
        return 0.0 if span == 0 else (v - self.minimum) / span


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


_TABLE = (
    Param(
        "temperature",
        float,
        0.1,
        2.0,
        1.0,
        "",
        "Sampling temperature: below 1 sharper and more repetitive, above 1 wilder.",
        midi_cc=20,
    ),
    Param(
        "top_k",
        int,
        0,
        512,
        0,
        "codes",
        "Keep only the k most likely codes per codebook (0 = no top-k filter).",
        midi_cc=21,
        curve="exp",
    ),
    Param(
        "top_p",
        float,
        0.0,
        1.0,
        1.0,
        "",
        "Nucleus filter on what top-k kept (1 = off, 0 = only the most likely code).",
        midi_cc=22,
    ),
    Param(
        "seed",
        int,
        0,
        2**31 - 1,
        0,
        "",
        "Random seed; setting it restarts the random stream (dual-seed uses seed and seed+1).",
    ),
    Param(
        "gain",
        float,
        -60.0,
        12.0,
        0.0,
        "dB",
        "Output gain before the limiter.",
        midi_cc=23,
    ),
    Param(
        "width",
        float,
        0.0,
        2.0,
        1.0,
        "",
        "Stereo width in mid-side mode (0 = mono, 1 = as generated, 2 = widest).",
        midi_cc=24,
    ),
    Param(
        "transpose",
        int,
        -24,
        24,
        0,
        "semitones",
        "Shifts every pitch the model plays, held notes included.",
    ),
    Param(
        "scale",
        str,
        0,
        len(SCALE_CHOICES) - 1,
        "off",
        "",
        "Generated pitches snap to this scale: off, or a root and a mode such as "
        "'C minor pentatonic' (modes: chromatic, major, minor, harmonic minor, dorian, "
        "mixolydian, pentatonic, minor pentatonic, blues, whole tone).",
        choices=SCALE_CHOICES,
        parse=parse_scale,
    ),
    Param(
        "keys",
        str,
        0,
        1,
        "free",
        "",
        "With no key held: free (the model plays what it likes) or gate (silence, as a synth).",
        choices=("free", "gate"),
    ),
    Param(
        "glide",
        float,
        0.0,
        2000.0,
        0.0,
        "ms",
        "Time the pitch takes to slide from one held note to the next (0 = jump).",
        midi_cc=25,
        curve="exp",
    ),
    Param(
        "bend_range",
        float,
        0.0,
        24.0,
        2.0,
        "semitones",
        "How far the pitch bend moves the pitch at full bend.",
    ),
    Param(
        "bend",
        float,
        -1.0,
        1.0,
        0.0,
        "",
        "Pitch bend (the MIDI pitch wheel): -1..1 moves every pitch by up to bend_range.",
    ),
    Param(
        "sustain",
        int,
        0,
        1,
        0,
        "",
        "Sustain pedal (MIDI CC 64): while 1, released keys keep sounding.",
    ),
)

#: Every live parameter, by name, in a stable order.
PARAMS: Mapping[str, Param] = {p.name: p for p in _TABLE}


def get_param(name: str) -> Param:
    """The parameter called ``name``; :class:`ControlError` naming the known ones otherwise."""
    try:
        return PARAMS[name]
    except (KeyError, TypeError):
        raise ControlError(
            f"unknown parameter {name!r}; expected one of: {', '.join(PARAMS)}"
        ) from None


def coerce(name: str, value: object) -> tuple[Value, bool]:
    """Shorthand for ``get_param(name).coerce(value)``."""
    return get_param(name).coerce(value)


def coerce_note(note: object, velocity: object = 100) -> tuple[int, int]:
    """A MIDI note and velocity, each a whole number in 0..127 (velocity 0 is a note-off);
    :class:`ControlError` naming the value and the range otherwise. Floats that are whole
    numbers are accepted (Max and TouchDesigner send either)."""
    out = []
    for what, x in (("note", note), ("velocity", velocity)):
        ok = isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))
        if not ok or not float(x).is_integer() or not 0 <= float(x) <= 127:  # type: ignore[arg-type]
            raise ControlError(
                f"{what} must be a whole number in 0..127"
                + (" (0 = note-off)" if what == "velocity" else "")
                + f", got {x!r}"
            )
        out.append(int(float(x)))  # type: ignore[arg-type]
    return out[0], out[1]


class ParamValues(Mapping[str, Value]):
    """An immutable set of values, one per parameter; missing names take their defaults.

    >>> v = ParamValues(temperature=0.8)
    >>> v["temperature"], v["top_p"]
    (0.8, 1.0)
    >>> v.replace(top_k=40)["top_k"]
    40
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object] | None = None, **kw: object) -> None:
        merged: dict[str, object] = {**(values or {}), **kw}
        out: dict[str, Value] = {}
        for p in _TABLE:
            out[p.name] = p.coerce(merged.pop(p.name))[0] if p.name in merged else p.type(p.default)
        if merged:
            get_param(next(iter(merged)))  # raises with the list of known names
        self._values = out

    def __getitem__(self, name: str) -> Value:
        try:
            return self._values[name]
        except KeyError:
            get_param(name)
            raise

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"ParamValues({inner})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ParamValues):
            return self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def replace(self, **changes: object) -> ParamValues:
        """A copy with some values changed (coerced and clamped)."""
        return ParamValues(self._values, **changes)

    def as_dict(self) -> dict[str, Value]:
        return dict(self._values)


def markdown_table() -> str:
    """The README's parameter table, generated from :data:`PARAMS`."""
    rows = [
        "| parameter | type | range | default | unit | OSC | CLI | MIDI CC | description |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in _TABLE:
        cc = "—" if p.midi_cc is None else f"{p.midi_cc} (+{p.midi_cc + 32} LSB)"
        kind = "choice" if p.is_choice else p.type.__name__
        default = p.default if isinstance(p.default, str) else _fmt(p.default)
        rows.append(
            f"| `{p.name}` | {kind} | {p.range_text} | {default} | "
            f"{p.unit or '—'} | `{p.osc_address} {p.osc_typetag}` | `{p.cli_flag}` | {cc} | "
            f"{p.description} |"
        )
    return "\n".join(rows)
