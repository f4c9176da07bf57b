"""Command-line options for live control, and starting/stopping it for ``distill-live play``.

::

    add_control_arguments(parser)          # --osc-port, --midi-in, ... on the play parser
    handle = start_control(engine, args)   # OSC server, OSCQuery, MIDI, as asked
    ...
    handle.close()
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ControlError
from .engine_api import EngineLike
from .mapping import MidiMap, default_mapping, load_mapping
from .midi import MidiControl
from .osc import OscServer
from .oscquery import OscQueryServer
from .presets import Presets, load_presets

__all__ = ["ControlHandle", "add_control_arguments", "control_args", "start_control"]

log = logging.getLogger(__name__)

#: Python's thread switch interval while control runs (see start_control).
SWITCH_INTERVAL_S = 0.001


def _port(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a port must be an integer in 0..65535, got {text!r}"
        ) from None
    if not 0 <= n <= 65535:
        raise argparse.ArgumentTypeError(f"a port must be in 0..65535, got {n}")
    return n


def add_control_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the OSC, OSCQuery and MIDI options (group "live control") to ``parser``."""
    g = parser.add_argument_group("live control (OSC, OSCQuery, MIDI)")
    g.add_argument(
        "--osc-port",
        type=_port,
        default=9000,
        metavar="N",
        help="UDP port for OSC (default 9000; 0 picks a free one)",
    )
    g.add_argument(
        "--osc-host",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1; 0.0.0.0 for the network)",
    )
    g.add_argument(
        "--osc-reply-host",
        default=None,
        metavar="ADDR",
        help="where replies go (default: the sender's address)",
    )
    g.add_argument(
        "--osc-reply-port",
        type=_port,
        default=None,
        metavar="N",
        help="port replies go to (default: the sender's port; set it for Max's "
        "[udpsend], which sends from a random port)",
    )
    g.add_argument(
        "--osc-echo",
        action="store_true",
        help="send every parameter change that takes effect to the reply address",
    )
    g.add_argument("--no-osc", action="store_true", help="no OSC server (and no OSCQuery)")
    g.add_argument(
        "--oscquery-port",
        type=_port,
        default=None,
        metavar="N",
        help="HTTP port for OSCQuery discovery (default: OSC port + 1)",
    )
    g.add_argument("--no-oscquery", action="store_true", help="no OSCQuery server or mDNS")
    g.add_argument(
        "--midi-in",
        default=None,
        metavar="NAME",
        help="MIDI input port (a part of its name; see `distill-live devices`)",
    )
    g.add_argument(
        "--midi-out",
        default=None,
        metavar="NAME",
        help="MIDI output for feedback to LED rings and motor faders",
    )
    g.add_argument(
        "--midi-backend",
        default=None,
        metavar="API",
        help="mido backend, e.g. rtmidi/UNIX_JACK (or 'jack') for JACK MIDI",
    )
    g.add_argument(
        "--midi-map",
        type=Path,
        default=None,
        metavar="FILE",
        help="MIDI mapping file (TOML); MIDI learn saves to it",
    )
    g.add_argument(
        "--presets",
        type=Path,
        default=None,
        metavar="FILE",
        help="presets file (TOML); MIDI program change and /distill/preset select",
    )


@dataclass
class ControlHandle:
    """What :func:`start_control` started; ``close()`` stops all of it."""

    osc: OscServer | None = None
    oscquery: OscQueryServer | None = None
    midi: MidiControl | None = None
    presets: Presets | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def learn(
        self, param: str, on_done: Callable[[str, tuple[object, ...]], None] | None = None
    ) -> None:
        """MIDI learn (for a terminal UI key): the next control moved drives ``param``."""
        if self.midi is None:
            raise ControlError("MIDI learn needs a MIDI input: start with --midi-in NAME")
        self.midi.learn(param, on_done)

    def close(self) -> None:
        while self._closers:
            try:
                self._closers.pop()()
            except Exception:
                log.debug("closing control failed", exc_info=True)

    def __enter__(self) -> ControlHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_control(engine: EngineLike, args: argparse.Namespace) -> ControlHandle:
    """Start OSC, OSCQuery and MIDI as ``args`` (from :func:`add_control_arguments`) ask.

    Raises :class:`ControlError` / :class:`DeviceError` for a bad file, a port in use or a
    MIDI port not found, after closing whatever had started.
    """
    h = ControlHandle()
    # The control threads share the engine's process: with Python's default 5 ms thread
    # switch interval, the generator thread can wait that long for the GIL after every torch
    # op while a flood is being handled (measured: underruns during a 5,000 msg/s flood,
    # none with 1 ms). Restored by close().
    previous = sys.getswitchinterval()
    if previous > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)
        h._closers.append(lambda: sys.setswitchinterval(previous))
    try:
        presets_path = getattr(args, "presets", None)
        if presets_path is not None:
            h.presets = load_presets(presets_path)
        map_path = getattr(args, "midi_map", None)
        mapping: MidiMap
        if map_path is not None and Path(map_path).exists():
            mapping = load_mapping(map_path)
        elif map_path is not None and getattr(args, "midi_in", None) is None:
            mapping = load_mapping(map_path)  # raises: the file is missing
        else:
            mapping = default_mapping()  # learn creates --midi-map if it does not exist yet
        midi_in, midi_out = getattr(args, "midi_in", None), getattr(args, "midi_out", None)
        if midi_in or midi_out:
            h.midi = MidiControl(engine, mapping, map_path=map_path, presets=h.presets)
            h._closers.append(h.midi.close)
            h.midi.open(midi_in, midi_out, getattr(args, "midi_backend", None))
        if not getattr(args, "no_osc", False):
            presets = h.presets
            h.osc = OscServer(
                engine,
                host=args.osc_host,
                port=args.osc_port,
                reply_host=getattr(args, "osc_reply_host", None),
                reply_port=getattr(args, "osc_reply_port", None),
                echo=getattr(args, "osc_echo", False),
                learn=h.midi.learn if h.midi is not None and midi_in else None,
                preset=(lambda name: presets.apply(engine, name, source="osc").values)
                if presets is not None
                else None,
            )
            h.osc.start()
            h._closers.append(h.osc.close)
            if not getattr(args, "no_oscquery", False):
                qport = getattr(args, "oscquery_port", None)
                if qport is None:
                    qport = h.osc.port + 1 if h.osc.port < 65535 else 0
                h.oscquery = OscQueryServer(
                    engine, osc_port=h.osc.port, host=args.osc_host, port=qport
                )
                h.oscquery.start()
                h._closers.append(h.oscquery.close)
    except BaseException:
        h.close()
        raise
    return h


def control_args(**kw: Any) -> argparse.Namespace:
    """The defaults of :func:`add_control_arguments`, overridden by ``kw`` (for the Python API)."""
    p = argparse.ArgumentParser()
    add_control_arguments(p)
    ns = p.parse_args([])
    for k, v in kw.items():
        if not hasattr(ns, k):
            raise ControlError(f"unknown control option {k!r}")
        setattr(ns, k, v)
    return ns
