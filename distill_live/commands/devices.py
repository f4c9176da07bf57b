"""``distill-live devices``: list the audio outputs and MIDI ports ``play`` can use.

The listing itself is :mod:`distill_live.devices`; this module prints it as tables (rich) or
as JSON. It never imports torch: listing devices must be quick on any machine.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["HELP", "add_arguments", "run"]

HELP = "list audio outputs and MIDI ports"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``distill-live devices``."""
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def run(args: argparse.Namespace) -> int:
    """``distill-live devices``: returns the exit status."""
    from ..devices import list_audio_outputs, list_midi_ports

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
