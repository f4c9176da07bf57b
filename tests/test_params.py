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
from distill_live.params import PARAMS, ParamValues, coerce_note, get_param, markdown_table

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
        if param.is_choice:  # a choice: a str default among its choices, range = the index
            assert param.type is str and param.default in param.choices, param.name
            assert (param.minimum, param.maximum) == (0, len(param.choices) - 1), param.name
        else:
            assert not param.choices and not isinstance(param.default, str)
            assert param.minimum <= param.default <= param.maximum, param.name
        assert param.description.endswith("."), param.name


def test_keyboard_parameters() -> None:
    t = PARAMS["transpose"]
    assert (t.type, t.minimum, t.maximum, t.default, t.unit) == (int, -24, 24, 0, "semitones")
    assert PARAMS["scale"].default == "off" and "C minor pentatonic" in PARAMS["scale"].choices
    assert PARAMS["keys"].choices == ("free", "gate") and PARAMS["keys"].default == "free"
    assert (PARAMS["glide"].unit, PARAMS["glide"].midi_cc) == ("ms", 25)
    assert PARAMS["bend_range"].unit == "semitones"
    b = PARAMS["bend"]
    assert (b.type, b.minimum, b.maximum, b.default) == (float, -1.0, 1.0, 0.0)
    s = PARAMS["sustain"]
    assert (s.type, s.minimum, s.maximum, s.default) == (int, 0, 1, 0)
    assert [PARAMS[n].osc_typetag for n in ("scale", "keys", "transpose", "bend")] == [
        "s",
        "s",
        "i",
        "f",
    ]


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("scale", "C minor pentatonic", "C minor pentatonic"),
        ("scale", "eb_minor-pentatonic", "D# minor pentatonic"),  # spellings normalised
        ("scale", "OFF", "off"),
        ("scale", 0, "off"),  # an index (a menu's): Max umenu, Pd, TouchDesigner
        ("scale", 2.0, "C major"),  # a whole float index
        ("keys", "Gate", "gate"),
        ("keys", 1, "gate"),
    ],
)
def test_choice_coerce_takes_a_name_or_an_index_and_never_clamps(
    name: str, given: object, expected: str
) -> None:
    assert get_param(name).coerce(given) == (expected, False)


@pytest.mark.parametrize(
    "bad",
    [
        "hold",
        2,
        -1,
        0.5,
        None,
        True,
        math.nan,
    ],
)
def test_choice_coerce_rejects_naming_value_and_choices(bad: object) -> None:
    with pytest.raises(ControlError) as err:
        get_param("keys").coerce(bad)
    message = str(err.value)
    assert "keys must be one of free, gate" in message and "0..1" in message
    assert repr(bad) in message


def test_scale_rejects_an_unknown_scale_naming_the_expected_form() -> None:
    with pytest.raises(ControlError, match=r"scale: scale 'H major' is not 'off' or a root"):
        get_param("scale").coerce("H major")
    assert get_param("scale").range_text.endswith(f"({len(PARAMS['scale'].choices)} choices)")


@pytest.mark.parametrize(
    ("note", "velocity", "expected"),
    [(60, 100, (60, 100)), (0, 0, (0, 0)), (127, 127, (127, 127)), (57.0, 64.0, (57, 64))],
)
def test_coerce_note_takes_whole_numbers_in_0_127(
    note: object, velocity: object, expected: tuple[int, int]
) -> None:
    assert coerce_note(note, velocity) == expected


@pytest.mark.parametrize(
    ("note", "velocity", "what", "bad"),
    [
        (128, 100, "note", "128"),
        (-1, 100, "note", "-1"),
        ("C4", 100, "note", "'C4'"),
        (60.5, 100, "note", "60.5"),
        (60, 200, "velocity", "200"),
        (60, math.nan, "velocity", "nan"),
        (True, 100, "note", "True"),
    ],
)
def test_coerce_note_errors_name_the_value_and_0_127(
    note: object, velocity: object, what: str, bad: str
) -> None:
    with pytest.raises(ControlError) as err:
        coerce_note(note, velocity)
    assert str(err.value).startswith(f"{what} must be a whole number in 0..127")
    assert str(err.value).endswith(f"got {bad}")


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
    assert v.replace(scale="a minor")["scale"] == "A minor"
    assert w != v and ParamValues(top_k=40, temperature=2.0) == w
    with pytest.raises(TypeError):
        w["top_k"] = 3  # type: ignore[index]


@pytest.mark.parametrize("name", list(PARAMS))
def test_unit_mapping_round_trips(name: str) -> None:
    p = PARAMS[name]
    if p.is_choice:  # a knob steps through the choices, ends included, every one reachable
        assert p.from_unit(0.0) == p.choices[0] and p.from_unit(1.0) == p.choices[-1]
        assert [p.from_unit(p.to_unit(c)) for c in p.choices] == list(p.choices)
        n = len(p.choices)
        assert {p.from_unit(v / 127) for v in range(128)} == set(p.choices) or n > 128
        return
    assert p.from_unit(0.0) == p.minimum and p.from_unit(1.0) == p.maximum
    for value in (p.minimum, p.default, p.maximum):
        assert p.from_unit(p.to_unit(value)) == pytest.approx(
            value, rel=1e-6, abs=0.5 if p.type is int else 1e-6
        )


def test_top_k_knob_is_exponential() -> None:
    k = PARAMS["top_k"]
    # half-way up the knob is far below half the range: fine control of small k
    assert float(k.from_unit(0.5)) < 64


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


def test_cli_choice_flags_take_a_name_and_reject_others_naming_the_choices() -> None:
    parser = build_parser("render")
    args = parser.parse_args(
        ["render", "x.wav", "--duration", "1", "--scale", "c_minor-pentatonic", "--keys", "gate"]
    )
    values = param_values_from_args(args)
    assert (values["scale"], values["keys"]) == ("C minor pentatonic", "gate")
    args = parser.parse_args(["render", "x.wav", "--duration", "1", "--keys", "hold"])
    with pytest.raises(DistillLiveError, match=r"^--keys: keys must be one of free, gate"):
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
