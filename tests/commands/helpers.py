"""Helpers the command tests share."""

from __future__ import annotations

from typing import Any

from distill_live.cli import main

__all__ = ["assert_usage_error"]


def assert_usage_error(argv: list[str], message: str, capsys: Any) -> None:
    """``main(argv)`` exits with status 2 and one line on stderr that contains ``message``."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own checks exit from parse_args
        status = int(exc.code or 0)
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
