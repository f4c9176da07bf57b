"""The shared flags: live control and recording options, their defaults and what they become."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from distill_live.commands.options import (
    add_control_arguments,
    add_record_arguments,
    control_options,
    recorder_options,
)
from distill_live.control import ControlOptions, control_args
from distill_live.errors import ControlError


def test_control_flag_defaults() -> None:
    p = argparse.ArgumentParser()
    add_control_arguments(p)
    a = p.parse_args([])
    assert (a.osc_port, a.osc_host, a.osc_reply_port, a.osc_echo, a.no_osc) == (
        9000,
        "127.0.0.1",
        None,
        False,
        False,
    )
    assert (a.midi_in, a.midi_out, a.midi_map, a.presets, a.oscquery_port) == (
        None,
        None,
        None,
        None,
        None,
    )
    a = p.parse_args(
        [
            "--osc-port",
            "9100",
            "--midi-in",
            "nano",
            "--midi-backend",
            "rtmidi/UNIX_JACK",
            "--osc-echo",
        ]
    )
    assert (a.osc_port, a.midi_in, a.midi_backend, a.osc_echo) == (
        9100,
        "nano",
        "rtmidi/UNIX_JACK",
        True,
    )
    with pytest.raises(SystemExit):
        p.parse_args(["--osc-port", "70000"])


def test_control_flags_fill_every_control_option_with_its_default() -> None:
    p = argparse.ArgumentParser()
    add_control_arguments(p)
    assert control_options(p.parse_args([])) == ControlOptions() == control_args()
    a = p.parse_args(["--osc-port", "9100", "--no-oscquery", "--midi-map", "m.toml"])
    options = control_options(a)
    assert (options.osc_port, options.no_oscquery, str(options.midi_map)) == (
        9100,
        True,
        "m.toml",
    )
    dests = {action.dest for action in p._actions} - {"help"}
    assert dests == {f.name for f in dataclasses.fields(ControlOptions)}


def test_control_args_refuses_an_unknown_option() -> None:
    assert control_args(osc_port=0).osc_port == 0
    with pytest.raises(ControlError, match="unknown control option 'osc_prot'; expected one of"):
        control_args(osc_prot=0)


def test_record_flags() -> None:
    parser = argparse.ArgumentParser()
    add_record_arguments(parser)
    args = parser.parse_args(
        [
            "--record",
            "takes/",
            "--subtype",
            "float",
            "--record-container",
            "RF64",
            "--record-split-mb",
            "3",
        ]
    )
    assert args.record == "takes/"
    assert recorder_options(args) == {
        "subtype": "FLOAT",
        "container": "rf64",
        "split_bytes": 3_000_000,
    }
    defaults = recorder_options(parser.parse_args([]))
    assert defaults == {"subtype": "PCM_24", "container": "wav", "split_bytes": None}
    assert "--record-split-mb" not in parser.format_help()  # hidden
    with pytest.raises(SystemExit):
        parser.parse_args(["--subtype", "PCM_8"])


def test_param_flags_help_shows_choices_and_defaults() -> None:
    from distill_live.commands.options import add_param_arguments

    parser = argparse.ArgumentParser()
    add_param_arguments(parser)
    text = " ".join(parser.format_help().split())  # a choice's str default formats too
    assert "--scale CHOICE" in text and "One of: off, C chromatic, ..., B whole tone" in text
    assert "--keys CHOICE" in text and "One of: free, gate; default free." in text
    assert "--transpose INT" in text and "Range -24..24 semitones, default 0." in text
    args = parser.parse_args(["--keys", "gate", "--bend", "-0.25"])
    assert (args.keys, args.bend) == ("gate", -0.25)


def test_midi_channel_flag() -> None:
    p = argparse.ArgumentParser()
    add_control_arguments(p)
    assert p.parse_args([]).midi_channel is None
    assert control_options(p.parse_args(["--midi-channel", "10"])).midi_channel == 10
    with pytest.raises(SystemExit):
        p.parse_args(["--midi-channel", "0"])
