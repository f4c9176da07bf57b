"""The face of the program: one module per ``distill-live`` sub-command, and the terminal UI.

Every command module has the same three names, and :mod:`distill_live.cli` builds the parser
from :data:`COMMANDS` alone:

* ``HELP: str``, the one-line help;
* ``add_arguments(parser)``, its flags;
* ``run(args) -> int``, the command itself, returning the exit status.

Besides the commands this room holds :mod:`.options` (the flags more than one command shares:
live parameters, recording, live control), :mod:`.ui` (the status line and loop of ``play``)
and :mod:`.keys` (its keys). It may import every other room of distill_live; nothing else
imports it except :mod:`distill_live.cli`.

A command module is cheap to import: the parser imports every one of them for its ``HELP``, so
``distill-live devices`` and ``--help`` do not pay for torch. What a command needs beyond the
standard library, :mod:`distill_live.params` and :mod:`distill_live.errors` is imported inside
``add_arguments`` and ``run``.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Protocol, cast

__all__ = ["COMMANDS", "Command", "load"]

#: sub-command → the module that implements it, in the order ``--help`` lists them.
COMMANDS: dict[str, str] = {
    "play": "distill_live.commands.play",
    "render": "distill_live.commands.render",
    "train": "distill_live.commands.train",
    "eval": "distill_live.commands.eval",
    "info": "distill_live.commands.info",
    "codec": "distill_live.commands.codec",
    "devices": "distill_live.commands.devices",
}


class Command(Protocol):
    """What a command module provides (see the module docstring)."""

    HELP: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def load(name: str) -> Command:
    """The module of sub-command ``name`` (a key of :data:`COMMANDS`)."""
    try:
        module_name = COMMANDS[name]
    except KeyError:
        raise KeyError(f"unknown command {name!r}; expected one of {', '.join(COMMANDS)}") from None
    return cast(Command, importlib.import_module(module_name))
