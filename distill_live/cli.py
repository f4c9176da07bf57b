"""The ``distill-live`` command line.

Each sub-command lives with the part it drives (``play``/``render`` in the engine, ``train``,
``eval`` and ``info`` in the model) and plugs in here through two functions,
``add_<x>_arguments(parser)`` and ``cmd_<x>(args) -> int``. A plug-in is imported only when
its command runs, so ``distill-live devices`` does not pay for importing torch.

A user mistake prints one line and exits non-zero; a traceback appears only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__
from .errors import DistillLiveError

__all__ = ["main", "build_parser", "COMMANDS"]

PROG = "distill-live"

#: command → (module, add-arguments function, run function, one-line help)
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "play": (
        "distill_live.engine.commands",
        "add_play_arguments",
        "cmd_play",
        "play a model live (default model unless --model), controlled by OSC and MIDI",
    ),
    "render": (
        "distill_live.engine.commands",
        "add_render_arguments",
        "cmd_render",
        "render a model to audio files offline, deterministically",
    ),
    "train": (
        "distill_live.model.train",
        "add_train_arguments",
        "cmd_train",
        "train a model on a folder of audio",
    ),
    "eval": (
        "distill_live.model.evaluate",
        "add_eval_arguments",
        "cmd_eval",
        "measure a model on a folder of audio",
    ),
    "info": (
        "distill_live.model.files",
        "add_info_arguments",
        "cmd_info",
        "show what a model file holds",
    ),
    "devices": (
        "distill_live.cli",
        "add_devices_arguments",
        "cmd_devices",
        "list audio outputs and MIDI ports",
    ),
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, not usage + error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _load(command: str) -> tuple[Callable[[argparse.ArgumentParser], None], Callable[..., int]]:
    module_name, add_name, run_name, _ = COMMANDS[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise DistillLiveError(
                f"`{PROG} {command}` is not available in this build ({module_name} is missing)"
            ) from None
        raise
    return getattr(module, add_name), getattr(module, run_name)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s own arguments are loaded (all commands are listed)."""
    parser = _Parser(prog=PROG, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (_, _, _, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            add_arguments, run = _load(name)
            add_arguments(p)
            p.set_defaults(_run=run)
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
        return 2 if type(exc).__name__ == "UsageError" else 1
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


# -- devices ------------------------------------------------------------------------------


def add_devices_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def cmd_devices(args: argparse.Namespace) -> int:
    from .devices import list_audio_outputs, list_midi_ports

    audio = list_audio_outputs()
    midi = list_midi_ports()
    if args.json:
        doc: dict[str, Any] = {
            "audio_outputs": audio,
            "midi_inputs": midi["inputs"],
            "midi_outputs": midi["outputs"],
        }
        print(json.dumps(doc, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="Audio outputs", title_justify="left")
    for col in ("index", "name", "host API", "channels", "rate", "default"):
        table.add_column(col)
    for d in audio:
        table.add_row(
            str(d["index"]),
            d["name"],
            d["hostapi"],
            str(d["channels"]),
            f"{d['default_samplerate']:g}",
            "*" if d["default"] else "",
        )
    if audio:
        console.print(table)
    else:
        console.print("No audio outputs found (is a sound server such as JACK running?)")
    for kind in ("inputs", "outputs"):
        ports = midi[kind]
        if not ports:
            console.print(f"No MIDI {kind} found.")
            continue
        t = Table(title=f"MIDI {kind}", title_justify="left")
        t.add_column("name")
        t.add_column("API")
        for port in ports:
            t.add_row(port["name"], port["api"])
        console.print(t)
    return 0
