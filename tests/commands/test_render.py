"""The render command line: flag checks, and a missing model refused before any file is made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from distill_live.cli import main
from distill_live.commands.render import batch_paths
from tests.commands.helpers import assert_usage_error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["render", "x.wav", "--duration", "1", "--samplerate", "22050"], "invalid choice"),
        (["render", "x.wav", "--duration", "1", "--batch", "0"], "--batch must be >= 1"),
        (["render", "x.wav", "--duration", "-1"], "must be > 0"),
    ],
)
def test_bad_flags_give_one_line_errors(argv: list[str], message: str, capsys: Any) -> None:
    assert_usage_error(argv, message, capsys)


def test_render_refuses_a_missing_model(tmp_path: Path, capsys: Any) -> None:
    out = tmp_path / "x.wav"
    assert main(["render", str(out), "--duration", "1", "--model", str(tmp_path / "no")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert not out.exists()


def test_batch_paths() -> None:
    out = Path("takes/x.wav")
    assert batch_paths(out, 7, 1) == [(7, out)]
    assert batch_paths(out, 7, 2) == [
        (7, Path("takes/x_seed7.wav")),
        (8, Path("takes/x_seed8.wav")),
    ]


def test_replay_refuses_a_sidecar_without_a_stream_block(tmp_path: Path, capsys: Any) -> None:
    """A render's sidecar has no live stream to replay: a one-line error says what can be."""
    side = tmp_path / "r.wav.json"
    side.write_text(json.dumps({"audio": {"samplerate": 48000, "channels": 1}, "events": []}))
    assert main(["render", str(tmp_path / "o.wav"), "--replay", str(side)]) == 1
    err = capsys.readouterr().err
    assert "no 'stream' block" in err and "distill-live play" in err
    assert main(["render", str(tmp_path / "o.wav")]) == 2
    assert "--duration" in capsys.readouterr().err
