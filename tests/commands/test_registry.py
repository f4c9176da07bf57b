"""The registry of sub-commands: every command module has the same face and is cheap to import."""

from __future__ import annotations

import subprocess
import sys

from distill_live.cli import build_parser
from distill_live.commands import COMMANDS, load


def test_every_command_has_help_arguments_and_run() -> None:
    listed = [
        name for name in COMMANDS if name in {"play", "render", "train", "eval", "info", "devices"}
    ]
    assert listed == ["play", "render", "train", "eval", "info", "devices"]  # --help's order
    for name in COMMANDS:
        module = load(name)
        assert isinstance(module.HELP, str) and module.HELP and "\n" not in module.HELP, name
        assert callable(module.add_arguments) and callable(module.run), name
        assert "HELP" in module.__all__ and "run" in module.__all__, name  # type: ignore[attr-defined]


def test_the_chosen_command_gets_its_flags() -> None:
    args = build_parser("devices").parse_args(["devices", "--json"])
    assert args.command == "devices" and args.json is True
    assert args._run is load("devices").run


def test_listing_commands_and_devices_do_not_import_torch() -> None:
    """`distill-live --help` and `distill-live devices` build the parser from every command
    module's HELP: none may import torch (or numpy) at import time."""
    code = (
        "import sys\n"
        "from distill_live.cli import build_parser\n"
        "build_parser()\n"
        "build_parser('devices').parse_args(['devices'])\n"
        "print(sorted(m for m in ('torch', 'numpy', 'scipy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
