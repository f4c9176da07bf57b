"""Every interface that names a parameter agrees with the parameter table.

Each interface is read on its own terms (the CLI parser's flags, the OSC server's address map,
the OSCQuery tree, the default MIDI mapping, the sidecar, the shipped patches, the README), and
its set of parameters must equal ``PARAMS``. A parameter added to one interface by hand, and not
to the table (or the reverse, where an interface does not derive from it), fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from distill_live.cli import build_parser
from distill_live.params import OSC_PREFIX, PARAMS, ParamValues

ROOT = Path(__file__).resolve().parents[1]
NAMES = set(PARAMS)


def _cli_param_flags(command: str) -> dict[str, str]:
    parser = build_parser(command)
    choices: Any = next(a for a in parser._actions if a.dest == "command").choices
    sub = choices[command]
    group = next(g for g in sub._action_groups if g.title and "live parameters" in g.title)
    return {a.dest: a.option_strings[0] for a in group._group_actions}


@pytest.mark.parametrize("command", ["play", "render"])
def test_cli(command: str) -> None:
    flags = _cli_param_flags(command)
    assert set(flags) == NAMES
    assert all(flags[n] == PARAMS[n].cli_flag for n in NAMES)


def test_osc_address_space() -> None:
    from distill_live.control import osc

    by_address = osc._ADDR_TO_PARAM
    assert {p.name for p in by_address.values()} == NAMES
    assert set(by_address) == {f"{OSC_PREFIX}/{n}" for n in NAMES}
    assert not set(osc.COMMANDS) & set(by_address), "a command shadows a parameter address"


class _Values:
    params = ParamValues(temperature=0.7)

    def get(self, name: str) -> Any:
        return self.params[name]


def test_oscquery_namespace() -> None:
    from distill_live.control.oscquery import namespace

    tree = namespace(_Values())  # type: ignore[arg-type]
    nodes = tree["CONTENTS"][OSC_PREFIX.strip("/")]["CONTENTS"]
    params = {k: v for k, v in nodes.items() if v.get("ACCESS") == 3}  # read-write: params
    assert set(params) == NAMES
    for name, node in params.items():
        p = PARAMS[name]
        assert node["FULL_PATH"] == p.osc_address and node["TYPE"] == p.osc_typetag
        if p.is_choice:
            assert node["RANGE"] == [{"VALS": list(p.choices)}]
        else:
            assert node["RANGE"] == [{"MIN": p.minimum, "MAX": p.maximum}]
    assert nodes["note"]["TYPE"] == "ii"  # the keyboard: a command, not a parameter
    assert params["temperature"]["VALUE"] == [0.7]


def test_default_midi_mapping() -> None:
    from distill_live.control.mapping import default_mapping

    mapped = {c.param: c.cc for c in default_mapping().controls}
    assert mapped == {p.name: p.midi_cc for p in PARAMS.values() if p.midi_cc is not None}
    assert set(mapped) <= NAMES


def test_sidecar_parameters_at_start() -> None:
    from distill_live.record.sidecar import session_metadata

    meta = session_metadata(params=ParamValues(top_k=40))
    assert set(meta["params_at_start"]) == NAMES
    assert meta["params_at_start"]["top_k"] == 40 and meta["seed"] == 0
    json.dumps(meta)  # a sidecar is JSON


def test_shipped_patches_are_current_and_cover_every_parameter() -> None:
    from distill_live.control import patchgen

    pd = (ROOT / "patches" / "distill_live.pd").read_text()
    assert pd == patchgen.pd_patch(), "patches/ are stale: python -m distill_live.control.patchgen"
    maxpat = json.loads((ROOT / "patches" / "distill_live.maxpat").read_text())
    assert maxpat == patchgen.max_patch()
    top = OSC_PREFIX.strip("/")
    commands = {"record", "status", "note", "notes_off"}
    pd_params = set(re.findall(rf"oscformat {top} (\w+);", pd)) - commands
    assert pd_params == NAMES
    max_params = set(re.findall(rf'prepend {OSC_PREFIX}/(\w+)"', json.dumps(maxpat)))
    assert max_params - commands == NAMES
    td = patchgen.td_script()
    for name in NAMES:
        assert f"{OSC_PREFIX}/{name}" in td, name


def test_readme_tables() -> None:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- params:start -->\n(.*?)\n<!-- params:end -->", text, re.S)
    assert block
    rows = re.findall(r"^\| `(\w+)` \|", block.group(1), re.M)
    assert set(rows) == NAMES
