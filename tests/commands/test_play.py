"""The play command line: flag checks before any device or model is opened."""

from __future__ import annotations

from typing import Any

import pytest

from tests.commands.helpers import assert_usage_error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["play", "--channels", "0"], "--channels must be >= 1"),
        (["play", "--samplerate", "5"], "--samplerate must be 8000..192000"),
        (["play", "--temperature", "9"], "--temperature 9.0 is out of range"),
        (["play", "--stereo", "quad"], "invalid choice: 'quad'"),
    ],
)
def test_bad_flags_give_one_line_errors(argv: list[str], message: str, capsys: Any) -> None:
    assert_usage_error(argv, message, capsys)
