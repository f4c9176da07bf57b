"""The parameter table: values, clamping, and that every interface agrees with it."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest

from distill_live.cli import build_parser
from distill_live.commands.options import param_values_from_args
from distill_live.errors import ControlError, DistillLiveError
from distill_live.params import PARAMS, ParamValues, get_param, markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_required_parameters_and_ranges() -> None:
    t = PARAMS["temperature"]
    assert (t.type, t.minimum, t.maximum, t.default) == (float, 0.1, 2.0, 1.0)
    k = PARAMS["top_k"]
    assert (k.type, k.minimum, k.maximum, k.default) == (int, 0, 512, 0)
    p = PARAMS["top_p"]
    assert (p.type, p.minimum, p.maximum, p.default) == (float, 0.0, 1.0, 1.0)
    assert PARAMS["seed"].type is int
    assert PARAMS["gain"].unit == "dB"
    assert "width" in PARAMS
    for param in PARAMS.values():
        assert param.minimum <= param.default <= param.maximum, param.name
        assert param.description.endswith("."), param.name


@pytest.mark.parametrize(
    ("name", "given", "expected", "clamped"),
    [
        ("temperature", 0.5, 0.5, False),
        ("temperature", 3, 2.0, True),  # an int where a float is expected, out of range
        ("temperature", 0.0, 0.1, True),
        ("top_k", 40.4, 40, False),  # a float where an int is expected (Max sends either)
        ("top_k", -3, 0, True),
        ("top_p", 1.5, 1.0, True),
        ("gain", -100.0, -60.0, True),
    ],
)
def test_coerce_converts_and_clamps(
    name: str, given: object, expected: float, clamped: bool
) -> None:
    value, was_clamped = get_param(name).coerce(given)
    assert value == expected and type(value) is PARAMS[name].type
    assert was_clamped is clamped


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "0.5", None, True, [1.0]])
def test_coerce_rejects_non_numbers_naming_value_and_range(bad: object) -> None:
    with pytest.raises(ControlError) as err:
        get_param("temperature").coerce(bad)
    message = str(err.value)
    assert "temperature" in message and "0.1..2" in message
    assert repr(bad) in message


def test_unknown_parameter_lists_known_ones() -> None:
    with pytest.raises(ControlError, match="unknown parameter 'tempo'.*temperature, top_k"):
        get_param("tempo")
    with pytest.raises(ControlError, match="tempo"):
        ParamValues(tempo=1.0)


def test_errors_are_also_builtin_errors() -> None:
    assert issubclass(ControlError, ValueError) and issubclass(ControlError, DistillLiveError)


def test_param_values_defaults_replace_and_immutability() -> None:
    v = ParamValues()
    assert dict(v) == {p.name: p.default for p in PARAMS.values()}
    w = v.replace(top_k=40, temperature=9)
    assert w["top_k"] == 40 and w["temperature"] == 2.0 and v["top_k"] == 0
    assert w != v and ParamValues(top_k=40, temperature=2.0) == w
    with pytest.raises(TypeError):
        w["top_k"] = 3  # type: ignore[index]


@pytest.mark.parametrize("name", list(PARAMS))
def test_unit_mapping_round_trips(name: str) -> None:
    p = PARAMS[name]
    assert p.from_unit(0.0) == p.minimum and p.from_unit(1.0) == p.maximum
    for value in (p.minimum, p.default, p.maximum):
        assert p.from_unit(p.to_unit(value)) == pytest.approx(
            value, rel=1e-6, abs=0.5 if p.type is int else 1e-6
        )


def test_top_k_knob_is_exponential() -> None:
    k = PARAMS["top_k"]
    # half-way up the knob is far below half the range: fine control of small k
    assert k.from_unit(0.5) < 64


# -- every interface derives from the table --------------------------------------------------


def _flag_dests(command: str) -> set[str]:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if a.dest == "command")
    choices: Any = sub.choices
    return {a.dest for a in choices[command]._actions}


@pytest.mark.parametrize("command", ["play", "render"])
def test_cli_flags_cover_every_parameter(command: str) -> None:
    dests = _flag_dests(command)
    missing = [name for name in PARAMS if name not in dests]
    assert not missing, f"`{command}` lacks flags for {missing}"


def test_cli_out_of_range_is_an_error_not_a_silent_clamp() -> None:
    args = build_parser("render").parse_args(
        ["render", "x.wav", "--duration", "1", "--temperature", "0.7"]
    )
    assert param_values_from_args(args)["temperature"] == 0.7
    args = build_parser("render").parse_args(
        ["render", "x.wav", "--duration", "1", "--temperature", "7"]
    )
    with pytest.raises(
        DistillLiveError, match=r"--temperature 7.0 is out of range; expected 0.1..2"
    ):
        param_values_from_args(args)


def test_readme_parameter_table_is_generated_from_the_table() -> None:
    text = README.read_text()
    block = re.search(r"<!-- params:start -->\n(.*?)\n<!-- params:end -->", text, re.S)
    assert block, "README lacks the <!-- params:start --> ... <!-- params:end --> block"
    assert block.group(1).strip() == markdown_table().strip(), (
        "README parameter table is stale: run `python -m distill_live.docs` to regenerate"
    )


def test_a_new_parameter_reaches_every_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a parameter to the table alone must make it appear in every derived interface."""
    import distill_live.params as params_mod
    from distill_live.params import Param

    extra = Param("drive", float, 0.0, 1.0, 0.0, "", "Test-only drive.", midi_cc=25)
    table = {**params_mod.PARAMS, "drive": extra}
    monkeypatch.setattr(params_mod, "PARAMS", table)
    monkeypatch.setattr(params_mod, "_TABLE", (*params_mod._TABLE, extra))
    import distill_live.commands.options as options

    monkeypatch.setattr(options, "PARAMS", table)
    assert "drive" in _flag_dests("render")
    assert "`/distill/drive f`" in params_mod.markdown_table()
    assert ParamValues()["drive"] == 0.0
