"""Presets: named sets of parameter values in a TOML file, selected by name or program change.

::

    [calm]
    program = 0          # MIDI program change number (0..127); default: position in the file
    temperature = 0.7
    top_k = 40

    [wild]
    temperature = 1.4
    top_p = 0.95
    scale = "D dorian"   # a choice takes its name (any spelling the parameter understands)
    keys = "gate"
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ControlError
from ..params import PARAMS, Value
from .engine_api import EngineLike

__all__ = ["Preset", "Presets", "load_presets"]


@dataclass(frozen=True)
class Preset:
    name: str
    program: int
    values: Mapping[str, Value]


class Presets:
    """The presets of one file; ``apply(engine, name_or_program)`` sets their values."""

    def __init__(self, presets: list[Preset], source: Path | None = None) -> None:
        self.presets = presets
        self.source = source
        self._by_name = {p.name: p for p in presets}
        self._by_program = {p.program: p for p in presets}

    def __len__(self) -> int:
        return len(self.presets)

    def get(self, key: str | int) -> Preset:
        if isinstance(key, int):
            if key in self._by_program:
                return self._by_program[key]
            raise ControlError(
                f"no preset for program {key}; programs in {self.source}: "
                f"{', '.join(str(p) for p in sorted(self._by_program)) or 'none'}"
            )
        if key in self._by_name:
            return self._by_name[key]
        raise ControlError(
            f"no preset named {key!r}; presets in {self.source}: "
            f"{', '.join(self._by_name) or 'none'}"
        )

    def apply(self, engine: EngineLike, key: str | int, source: str = "api") -> Preset:
        """Set every value of the preset on the engine (applied at the next block)."""
        preset = self.get(key)
        for name, value in preset.values.items():
            engine.set(name, value, source=source)
        return preset


def load_presets(path: str | os.PathLike[str]) -> Presets:
    """Read a presets file; :class:`ControlError` naming the file, preset, line and value."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ControlError(f"presets file {path} does not exist; check --presets") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ControlError(f"cannot read presets file {path}: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ControlError(f"{path}: not valid TOML: {e}") from None
    presets: list[Preset] = []
    programs: dict[int, str] = {}
    for i, (name, table) in enumerate(data.items()):
        m = re.search(rf"^[ \t]*\[[ \t]*[\"']?{re.escape(name)}[\"']?[ \t]*\]", text, re.M)
        line = f" (line {text.count(chr(10), 0, m.start()) + 1})" if m else ""
        where = f"{path}: preset [{name}]{line}"
        if not isinstance(table, dict):
            raise ControlError(f"{where}: expected a table of parameter values, got {table!r}")
        values: dict[str, Value] = {}
        program = table.get("program", i)
        if isinstance(program, bool) or not isinstance(program, int) or not 0 <= program <= 127:
            raise ControlError(f"{where}: program must be an integer in 0..127, got {program!r}")
        if program in programs:
            raise ControlError(
                f"{where}: program {program} is already used by preset [{programs[program]}]"
            )
        programs[program] = name
        for key, value in table.items():
            if key == "program":
                continue
            if key not in PARAMS:
                raise ControlError(
                    f"{where}: unknown parameter {key!r}; expected one of: {', '.join(PARAMS)}"
                )
            try:
                values[key], clamped = PARAMS[key].coerce(value)
            except ControlError as e:
                raise ControlError(f"{where}: {e}") from None
            if clamped:
                raise ControlError(
                    f"{where}: {key} = {value!r} is outside {PARAMS[key].range_text}"
                )
        presets.append(Preset(name, program, values))
    return Presets(presets, path)
