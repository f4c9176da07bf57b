"""The control documentation is generated from the parameter table and stays in sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from distill_live.control.docs import midi_table, osc_table, readme_block, replies_table
from distill_live.control.osc import COMMANDS
from distill_live.params import PARAMS

ROOT = Path(__file__).resolve().parents[2]


def _block(text: str) -> str | None:
    m = re.search(r"<!-- control:start -->\n(.*?)\n<!-- control:end -->", text, re.S)
    return None if m is None else m.group(1).strip()


def test_tables_come_from_params() -> None:
    osc = osc_table()
    for p in PARAMS.values():
        assert f"`{p.osc_address}` | {p.osc_typetag} " in osc and p.range_text in osc
    for address in COMMANDS:
        assert f"`{address}`" in osc
    midi = midi_table()
    for p in PARAMS.values():
        if p.midi_cc is not None:
            assert f"`{p.name}` | CC {p.midi_cc} | CC {p.midi_cc + 32} |" in midi
    assert "/distill/fail" in replies_table() and "/distill/status.reply" in replies_table()


def test_docs_control_md_matches_generated_tables() -> None:
    text = (ROOT / "docs" / "control.md").read_text()
    assert _block(text) == readme_block().strip(), (
        "run: python -m distill_live.docs docs/control.md"
    )


def test_readme_control_block_matches_if_present() -> None:
    readme = ROOT / "README.md"
    block = _block(readme.read_text()) if readme.exists() else None
    if block is None:
        pytest.skip("README.md has no <!-- control:start --> block yet")
    assert block == readme_block().strip(), "run: python -m distill_live.docs"
