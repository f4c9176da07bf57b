"""The ``distill-live`` command line.

The sub-commands live in :mod:`distill_live.commands`, one module each, registered in
:data:`distill_live.commands.COMMANDS`; this module builds the parser from that registry and
runs the chosen command. Only the chosen command's flags are added, and its heavy imports
happen only when it runs, so ``distill-live devices`` does not pay for importing torch.

A user mistake prints one line and exits non-zero (2 for a command-line mistake, a
:class:`~distill_live.errors.UsageError`; 1 for other errors of distill_live and the system);
anything else is an internal error (exit 70). A traceback appears only with ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from . import __version__
from .commands import COMMANDS, load
from .errors import DistillLiveError, UsageError

__all__ = ["main", "build_parser", "PROG"]

PROG = "distill-live"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, not usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s own arguments are loaded (all commands are listed)."""
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = load(name)
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        if name == command:
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    for token in argv:
        if token in COMMANDS:
            return token
        if not token.startswith("-"):
            return None
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Never let a JACK client (PortAudio, rtmidi) start a JACK server as a side effect.
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    debug = "--debug" in argv
    try:
        parser = build_parser(_command_in(argv))
        args = parser.parse_args(argv)
        logging.basicConfig(
            level=logging.WARNING - 10 * min(args.verbose, 2),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        if args.command is None:
            parser.print_help()
            return 2
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except DistillLiveError as exc:
        if debug:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    except OSError as exc:  # a path that does not exist, a full disk, ...
        if debug:
            raise
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if debug:
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            f"(run again with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 70
