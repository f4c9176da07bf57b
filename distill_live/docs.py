"""Regenerate the generated parts of README.md: ``python -m distill_live.docs``.

Blocks between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` are replaced by the output of
the matching generator, so the README can never drift from the parameter table.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from .params import markdown_table

__all__ = ["GENERATORS", "render_readme", "main"]


def _control_tables() -> str:
    from .control.docs import readme_block

    return readme_block()


GENERATORS: dict[str, Callable[[], str]] = {"params": markdown_table, "control": _control_tables}


def render_readme(text: str) -> str:
    """``text`` with every generated block brought up to date."""
    for name, generate in GENERATORS.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n)(.*?)(\n<!-- {name}:end -->)", re.S)
        match = pattern.search(text)
        if match is None:
            continue
        body = generate().strip()
        text = text[: match.start(2)] + body + text[match.end(2) :]
    return text


def main(argv: list[str] | None = None) -> int:
    path = Path(argv[0] if argv else Path(__file__).resolve().parents[1] / "README.md")
    old = path.read_text()
    new = render_readme(old)
    if new != old:
        path.write_text(new)
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
