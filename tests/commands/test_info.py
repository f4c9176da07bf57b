"""The info command line: a model file's header as JSON and as a table, a bad file in one line."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from distill_live.cli import main
from distill_live.model import build_model, save_model

SUMMARY = {"data_seconds": 321.5, "steps": 12, "seconds": 40.0, "metrics": {"mel_l1": 0.3}}


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    return save_model(build_model(tiny=True), tmp_path / "m.distill", SUMMARY)


def test_info_command(saved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(saved), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "distill_live.model" and info["content_hash_ok"] is True
    assert info["training"] == SUMMARY and info["hop"] == 256
    assert main(["info", str(saved)]) == 0
    out = capsys.readouterr().out
    for text in (
        "distill_live.model version 1",
        "48000 Hz",
        "frames/s",
        "2 x 16 codes",
        "data seconds",
        "5.4 min",
        "mel_l1",
    ):
        assert text in out, text


def test_info_names_the_keys_the_model_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = {"low_key": 57, "quality": [0.95, 0.2, 0.85, 0.5], "seconds": 3.0, "seeds": [0]}
    path = save_model(build_model(tiny=True), tmp_path / "k.distill", {"key_quality": table})
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out  # a table: long cells wrap
    for text in ("2 of 4 held at 0.8 or better (A3 to C4)", "poorest A#3 0.20,", "C4 0.50"):
        assert text in out, text


def test_info_command_on_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bad.distill"
    p.write_bytes(pickle.dumps([1, 2, 3]))
    assert main(["info", str(p)]) == 1
    err = capsys.readouterr().err
    assert "bad.distill is a Python pickle" in err and "Traceback" not in err
