"""The flags more than one sub-command shares, and turning parsed flags into options.

* live parameters (``--temperature``, ``--top-k``, ...), one flag per entry of
  :data:`~distill_live.params.PARAMS`: :func:`add_param_arguments`,
  :func:`param_values_from_args`;
* the model and its sound (``--model``, ``--stereo`` and the parameters), for ``play`` and
  ``render``: :func:`add_model_arguments`;
* recording (``--record``, ``--subtype``, ``--record-container``): :func:`add_record_arguments`,
  :func:`recorder_options`;
* live control (``--osc-port``, ``--midi-in``, ...): :func:`add_control_arguments`,
  :func:`control_options` (a :class:`~distill_live.control.ControlOptions`);
* :func:`fatal` and :func:`positive_float` for one-line command-line errors.

Cheap to import (the command modules import it while the parser is built for any command):
what the engine, recording and control rooms provide is imported inside the functions.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ..errors import ControlError, UsageError
from ..params import PARAMS, Param, ParamValues, Value

if TYPE_CHECKING:
    from ..control.session import ControlOptions

__all__ = [
    "add_control_arguments",
    "add_model_arguments",
    "add_param_arguments",
    "add_record_arguments",
    "control_options",
    "fatal",
    "midi_channel",
    "param_values_from_args",
    "port_number",
    "positive_float",
    "recorder_options",
]


def fatal(message: str) -> NoReturn:
    """Stop the command with a one-line error, exit status 2 (no traceback)."""
    raise UsageError(message)


def positive_float(text: str) -> float:
    """An argparse ``type``: a number > 0."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not x > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return x


def _int_in(text: str, lo: int, hi: int, what: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{what} must be an integer in {lo}..{hi}, got {text!r}"
        ) from None
    if not lo <= n <= hi:
        raise argparse.ArgumentTypeError(f"{what} must be in {lo}..{hi}, got {n}")
    return n


def port_number(text: str) -> int:
    """An argparse ``type``: a UDP or TCP port number, 0..65535."""
    return _int_in(text, 0, 65535, "a port")


def midi_channel(text: str) -> int:
    """An argparse ``type``: a MIDI channel as musicians count them, 1..16."""
    return _int_in(text, 1, 16, "a MIDI channel")


# -- live parameters -------------------------------------------------------------------------


def _param_type(p: Param) -> type:
    """What argparse converts the flag's text with: a choice stays a string (checked and
    normalised by :meth:`Param.coerce` in :func:`param_values_from_args`)."""
    if p.is_choice:
        return str
    return int if p.type is int else float


def _param_help(p: Param) -> str:
    """The flag's help: description, range (or choices) and default. Written without
    ``%`` formatting of the default, which a choice's string default would break."""
    if p.is_choice:
        return f"{p.description} One of: {p.range_text}; default {p.default}.".replace("%", "%%")
    unit = f" {p.unit}" if p.unit else ""
    default = p.default if isinstance(p.default, str) else f"{p.default:g}"
    return f"{p.description} Range {p.range_text}{unit}, default {default}.".replace("%", "%%")


def add_param_arguments(parser: argparse.ArgumentParser, *, exclude: tuple[str, ...] = ()) -> None:
    """Add one flag per live parameter (``--temperature``, ``--top-k``, ...), from PARAMS.

    Defaults are left as None so that :func:`param_values_from_args` can tell what the user set.
    """
    group = parser.add_argument_group("live parameters (also settable over OSC and MIDI)")
    for p in PARAMS.values():
        if p.name in exclude:
            continue
        group.add_argument(
            p.cli_flag,
            dest=p.name,
            type=_param_type(p),
            default=None,
            metavar="CHOICE" if p.is_choice else p.type.__name__.upper(),
            help=_param_help(p),
        )


def param_values_from_args(args: argparse.Namespace) -> ParamValues:
    """The values given on the command line, defaults for the rest.

    An out-of-range value on the command line is an error (not silently clamped): the user
    typed it and can fix it. A choice that is not one of its values is an error naming them.
    """
    given: dict[str, Value] = {}
    for p in PARAMS.values():
        value = getattr(args, p.name, None)
        if value is None:
            continue
        try:
            coerced, clamped = p.coerce(value)
        except ControlError as e:
            reason = str(e).removeprefix(f"{p.name}: ")  # the flag already names it
            fatal(f"{p.cli_flag}: {reason}")
        if clamped:
            unit = f" {p.unit}" if p.unit else ""
            fatal(f"{p.cli_flag} {value} is out of range; expected {p.range_text}{unit}")
        given[p.name] = coerced
    return ParamValues(given)


# -- the model and its sound (play, render) --------------------------------------------------


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--model``, ``--stereo``, the hidden ``--chunk-frames`` and the live parameters."""
    from ..engine.post import STEREO_MODES

    parser.add_argument(
        "--model",
        default="default",
        metavar="PATH",
        help="model file (.distill); default: the shipped default model",
    )
    parser.add_argument(
        "--stereo",
        choices=STEREO_MODES,
        default="mono",
        help="mono; mid-side (side = all-pass-decorrelated mid at half level x --width); "
        "dual-seed (left and right from seeds seed and seed+1, sampled in one batched pass)",
    )
    parser.add_argument("--chunk-frames", type=int, default=None, help=argparse.SUPPRESS)
    add_param_arguments(parser)


# -- recording (play, render) ----------------------------------------------------------------


def add_record_arguments(parser: argparse.ArgumentParser, *, render: bool = False) -> None:
    """Add ``--record`` (not for ``render``: its output is the recording), ``--subtype``,
    ``--record-container`` and the hidden ``--record-split-mb`` to a sub-command parser."""
    from ..record import CONTAINERS, SUBTYPES

    group = parser.add_argument_group("recording")
    if not render:
        group.add_argument(
            "--record",
            metavar="PATH",
            default=None,
            help="record the session to PATH (a .wav file, never overwritten) or into the folder "
            "PATH (a new session_{UTC time}_seed{seed}.wav per start); a PATH.json sidecar "
            "lists model, seed, settings and every control change",
        )
    group.add_argument(
        "--subtype",
        type=str.upper,
        choices=list(SUBTYPES),
        default="PCM_24",
        help="sample format of the recording (default: %(default)s)",
    )
    group.add_argument(
        "--record-container",
        type=str.lower,
        choices=list(CONTAINERS),
        default="wav",
        help="wav: split into numbered parts before 4 GiB; rf64 or w64: one file of any size "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--record-split-mb",
        type=float,
        default=None,
        help=argparse.SUPPRESS,  # part size limit in MB (tests use a few MB)
    )


def recorder_options(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :class:`~distill_live.record.Recorder` (and
    ``Engine.record_start``/``render``) from the parsed options."""
    split = getattr(args, "record_split_mb", None)
    return {
        "subtype": getattr(args, "subtype", "PCM_24"),
        "container": getattr(args, "record_container", "wav"),
        "split_bytes": None if split is None else int(split * 1_000_000),
    }


# -- live control (play) ---------------------------------------------------------------------


def add_control_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the OSC, OSCQuery and MIDI options (group "live control"); their defaults are
    :class:`~distill_live.control.ControlOptions`'s."""
    from ..control.session import ControlOptions

    d = ControlOptions()
    g = parser.add_argument_group("live control (OSC, OSCQuery, MIDI)")
    g.add_argument(
        "--osc-port",
        type=port_number,
        default=d.osc_port,
        metavar="N",
        help=f"UDP port for OSC (default {d.osc_port}; 0 picks a free one)",
    )
    g.add_argument(
        "--osc-host",
        default=d.osc_host,
        metavar="ADDR",
        help=f"address to listen on (default {d.osc_host}; 0.0.0.0 for the network)",
    )
    g.add_argument(
        "--osc-reply-host",
        default=d.osc_reply_host,
        metavar="ADDR",
        help="where replies go (default: the sender's address)",
    )
    g.add_argument(
        "--osc-reply-port",
        type=port_number,
        default=d.osc_reply_port,
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
        type=port_number,
        default=d.oscquery_port,
        metavar="N",
        help="HTTP port for OSCQuery discovery (default: OSC port + 1)",
    )
    g.add_argument("--no-oscquery", action="store_true", help="no OSCQuery server or mDNS")
    g.add_argument(
        "--midi-in",
        default=d.midi_in,
        metavar="NAME",
        help="MIDI input port (a part of its name; see `distill-live devices`)",
    )
    g.add_argument(
        "--midi-out",
        default=d.midi_out,
        metavar="NAME",
        help="MIDI output for feedback to LED rings and motor faders",
    )
    g.add_argument(
        "--midi-backend",
        default=d.midi_backend,
        metavar="API",
        help="mido backend, e.g. rtmidi/UNIX_JACK (or 'jack') for JACK MIDI",
    )
    g.add_argument(
        "--midi-channel",
        type=midi_channel,
        default=d.midi_channel,
        metavar="N",
        help="the keyboard's MIDI channel, 1..16: notes, pitch bend, sustain pedal and all "
        "notes off from other channels are ignored (default: any channel)",
    )
    g.add_argument(
        "--midi-map",
        type=Path,
        default=d.midi_map,
        metavar="FILE",
        help="MIDI mapping file (TOML); MIDI learn saves to it",
    )
    g.add_argument(
        "--presets",
        type=Path,
        default=d.presets,
        metavar="FILE",
        help="presets file (TOML); MIDI program change and /distill/preset select",
    )


def control_options(args: argparse.Namespace) -> ControlOptions:
    """The :class:`~distill_live.control.ControlOptions` that the flags of
    :func:`add_control_arguments` in ``args`` ask for."""
    from ..control.session import ControlOptions

    return ControlOptions(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(ControlOptions)}
    )
