"""Starting and stopping live control for a running engine: OSC, OSCQuery and MIDI together.

::

    handle = start_control(engine, control_args(osc_port=9000, midi_in="nano"))
    handle.learn("temperature")            # MIDI learn, for the terminal UI's key
    handle.close()                         # stops all of it, restores the thread switch interval

This room holds the runtime wiring only: :class:`ControlOptions` (what to start),
:func:`start_control` and :class:`ControlHandle`. The command-line flags that fill the options
live with the other flags, in :mod:`distill_live.commands.options`. It may import the rest of
:mod:`distill_live.control` and :mod:`distill_live.errors`; never the engine or the commands.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import ControlError
from .engine_api import EngineLike
from .mapping import MidiMap, default_mapping, load_mapping
from .midi import MidiControl
from .osc import OscServer
from .oscquery import OscQueryServer
from .presets import Presets, load_presets

__all__ = ["ControlHandle", "ControlOptions", "SWITCH_INTERVAL_S", "control_args", "start_control"]

log = logging.getLogger(__name__)

#: Python's thread switch interval while control runs (see start_control).
SWITCH_INTERVAL_S = 0.001


@dataclass(frozen=True)
class ControlOptions:
    """What :func:`start_control` starts: ``play`` fills it from its flags
    (:func:`distill_live.commands.options.control_options`), Python callers with
    :func:`control_args`. The defaults here are the flags' defaults."""

    #: UDP port for OSC (0 picks a free one).
    osc_port: int = 9000
    #: address the OSC (and OSCQuery) servers listen on.
    osc_host: str = "127.0.0.1"
    #: where replies go (None: the sender's address).
    osc_reply_host: str | None = None
    #: port replies go to (None: the sender's port).
    osc_reply_port: int | None = None
    #: send every parameter change that takes effect to the reply address.
    osc_echo: bool = False
    #: no OSC server (and so no OSCQuery).
    no_osc: bool = False
    #: HTTP port for OSCQuery (None: the OSC port + 1).
    oscquery_port: int | None = None
    #: no OSCQuery server or mDNS.
    no_oscquery: bool = False
    #: MIDI input port (a part of its name); None: no MIDI input.
    midi_in: str | None = None
    #: MIDI output for feedback; None: none.
    midi_out: str | None = None
    #: mido backend (e.g. "rtmidi/UNIX_JACK" or "jack"); None: mido's default.
    midi_backend: str | None = None
    #: the keyboard's MIDI channel, 1..16 (notes, pitch bend, sustain pedal, all notes off);
    #: None: any channel.
    midi_channel: int | None = None
    #: MIDI mapping file (TOML); None: the default mapping. MIDI learn saves to it.
    midi_map: Path | None = None
    #: presets file (TOML); None: no presets.
    presets: Path | None = None


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


def start_control(engine: EngineLike, options: ControlOptions) -> ControlHandle:
    """Start OSC, OSCQuery and MIDI as ``options`` ask.

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
        if options.presets is not None:
            h.presets = load_presets(options.presets)
        map_path = options.midi_map
        mapping: MidiMap
        if map_path is not None and Path(map_path).exists():
            mapping = load_mapping(map_path)
        elif map_path is not None and options.midi_in is None:
            mapping = load_mapping(map_path)  # raises: the file is missing
        else:
            mapping = default_mapping()  # learn creates --midi-map if it does not exist yet
        midi_in, midi_out = options.midi_in, options.midi_out
        channel = options.midi_channel
        if channel is not None and not 1 <= channel <= 16:
            raise ControlError(f"the MIDI channel must be in 1..16, got {channel!r}")
        if midi_in or midi_out:
            h.midi = MidiControl(
                engine,
                mapping,
                map_path=map_path,
                presets=h.presets,
                note_channel=None if channel is None else channel - 1,
            )
            h._closers.append(h.midi.close)
            h.midi.open(midi_in, midi_out, options.midi_backend)
        if not options.no_osc:
            presets = h.presets
            h.osc = OscServer(
                engine,
                host=options.osc_host,
                port=options.osc_port,
                reply_host=options.osc_reply_host,
                reply_port=options.osc_reply_port,
                echo=options.osc_echo,
                learn=h.midi.learn if h.midi is not None and midi_in else None,
                preset=(lambda name: presets.apply(engine, name, source="osc").values)
                if presets is not None
                else None,
            )
            h.osc.start()
            h._closers.append(h.osc.close)
            if not options.no_oscquery:
                qport = options.oscquery_port
                if qport is None:
                    qport = h.osc.port + 1 if h.osc.port < 65535 else 0
                h.oscquery = OscQueryServer(
                    engine, osc_port=h.osc.port, host=options.osc_host, port=qport
                )
                h.oscquery.start()
                h._closers.append(h.oscquery.close)
    except BaseException:
        h.close()
        raise
    return h


def control_args(**kw: Any) -> ControlOptions:
    """The :class:`ControlOptions` defaults (those of ``play``'s flags), overridden by ``kw``:
    the Python API's way to say what :func:`start_control` starts."""
    known = {f.name for f in fields(ControlOptions)}
    for k in kw:
        if k not in known:
            raise ControlError(
                f"unknown control option {k!r}; expected one of {', '.join(sorted(known))}"
            )
    return ControlOptions(**kw)
