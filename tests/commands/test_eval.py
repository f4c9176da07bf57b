"""The eval command line: JSON and tables, and a folder without audio refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from distill_live.cli import main
from distill_live.model import build_model, save_model


@pytest.fixture
def data_dir(mixed_audio_dir: Path) -> Path:
    return mixed_audio_dir


def test_eval_command(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    torch.manual_seed(0)
    path = save_model(build_model(tiny=True), tmp_path / "tiny.distill")
    args = [
        "eval",
        str(path),
        str(data_dir),
        "--generate-seconds",
        "2",
        "--temperature-seconds",
        "1",
        "--split",
        "all",
        "--threads",
        "1",
    ]
    assert main([*args, "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["data"]["split"] == "all" and r["data"]["files"] == 8
    assert r["prior"]["unigram_fitted_on"].startswith("the evaluated codes")
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "lowpass_4k" in out and "bits/code" in out and "Fréchet" in out
    assert "codec_unquantised" in out and "per file" in out


def test_eval_command_on_a_bad_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = save_model(build_model(tiny=True), tmp_path / "tiny.distill")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["eval", str(path), str(empty)]) == 1
    assert "no usable audio" in capsys.readouterr().err
