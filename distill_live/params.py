"""The one declaration of every live parameter.

Each :class:`Param` states a parameter's name, type, range, default, unit and description, and
how an out-of-range value is treated (clamped to the range and reported). CLI flags, OSC
addresses, MIDI mappings, OSCQuery, the recording sidecar and the README table are all derived
from :data:`PARAMS`; ``tests/test_params.py`` checks that they agree.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from .errors import ControlError

__all__ = [
    "OSC_PREFIX",
    "SOURCES",
    "Param",
    "PARAMS",
    "ParamValues",
    "get_param",
    "coerce",
    "markdown_table",
]

#: Every OSC address of distill_live starts with this.
OSC_PREFIX = "/distill"

#: Where a change can come from (``Engine.set(..., source=)``, the recording sidecar's
#: events): the interfaces that drive the parameters below.
SOURCES = ("osc", "midi", "cli", "api", "automation")

Curve = Literal["linear", "exp"]


@dataclass(frozen=True)
class Param:
    """A live parameter: what it is called, what it takes, and how it maps to controllers."""

    name: str
    type: type  # int or float
    minimum: float
    maximum: float
    default: float
    unit: str
    description: str
    #: CC number (0-31, so CC n+32 can carry the 14-bit LSB) in the default MIDI mapping,
    #: or None if the default mapping leaves it out.
    midi_cc: int | None = None
    #: How a 0..1 controller position maps onto the range: linear, or exponential (equal
    #: ratios per equal knob travel; needs minimum > 0 or maps position 0 to minimum).
    curve: Curve = "linear"

    @property
    def osc_address(self) -> str:
        return f"{OSC_PREFIX}/{self.name}"

    @property
    def osc_typetag(self) -> str:
        return "i" if self.type is int else "f"

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def range_text(self) -> str:
        return f"{_fmt(self.minimum)}..{_fmt(self.maximum)}"

    def coerce(self, value: object) -> tuple[int | float, bool]:
        """Return ``(value, clamped)``: ``value`` converted to this parameter's type and
        clamped to its range; ``clamped`` tells whether clamping changed it.

        Ints are accepted where floats are expected and floats (rounded) where ints are
        (Max and TouchDesigner send either). Raises :class:`ControlError` for anything
        that is not a finite real number.
        """
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

    def from_unit(self, position: float) -> int | float:
        """Map a controller position in 0..1 onto the range, following :attr:`curve`."""
        p = min(max(float(position), 0.0), 1.0)
        if self.curve == "exp":
            lo = self.minimum if self.minimum > 0 else 1.0
            x = self.minimum if p == 0.0 and self.minimum <= 0 else lo * (self.maximum / lo) ** p
        else:
            x = self.minimum + p * (self.maximum - self.minimum)
        return self.coerce(x)[0]

    def to_unit(self, value: float) -> float:
        """Inverse of :meth:`from_unit`: the controller position (0..1) of a value."""
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


def coerce(name: str, value: object) -> tuple[int | float, bool]:
    """Shorthand for ``get_param(name).coerce(value)``."""
    return get_param(name).coerce(value)


class ParamValues(Mapping[str, int | float]):
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
        out: dict[str, int | float] = {}
        for p in _TABLE:
            out[p.name] = p.coerce(merged.pop(p.name))[0] if p.name in merged else p.type(p.default)
        if merged:
            get_param(next(iter(merged)))  # raises with the list of known names
        self._values = out

    def __getitem__(self, name: str) -> int | float:
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

    def as_dict(self) -> dict[str, int | float]:
        return dict(self._values)


def markdown_table() -> str:
    """The README's parameter table, generated from :data:`PARAMS`."""
    rows = [
        "| parameter | type | range | default | unit | OSC | CLI | MIDI CC | description |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in _TABLE:
        cc = "—" if p.midi_cc is None else f"{p.midi_cc} (+{p.midi_cc + 32} LSB)"
        rows.append(
            f"| `{p.name}` | {p.type.__name__} | {p.range_text} | {_fmt(p.default)} | "
            f"{p.unit or '—'} | `{p.osc_address} {p.osc_typetag}` | `{p.cli_flag}` | {cc} | "
            f"{p.description} |"
        )
    return "\n".join(rows)
