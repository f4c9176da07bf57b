"""Pieces the sub-commands share: parameter flags derived from PARAMS, and one-line errors."""

from __future__ import annotations

import argparse
from typing import NoReturn

from .errors import DistillLiveError
from .params import PARAMS, Param, ParamValues

__all__ = ["add_param_arguments", "param_values_from_args", "UsageError", "fatal"]


class UsageError(DistillLiveError, ValueError):
    """A command-line mistake: printed as one line, exit status 2."""


def fatal(message: str) -> NoReturn:
    """Stop the command with a one-line error (no traceback)."""
    raise UsageError(message)


def _param_type(p: Param) -> type:
    return int if p.type is int else float


def add_param_arguments(parser: argparse.ArgumentParser, *, exclude: tuple[str, ...] = ()) -> None:
    """Add one flag per live parameter (``--temperature``, ``--top-k``, ...), from PARAMS.

    Defaults are left as None so that :func:`param_values_from_args` can tell what the user set.
    """
    group = parser.add_argument_group("live parameters (also settable over OSC and MIDI)")
    for p in PARAMS.values():
        if p.name in exclude:
            continue
        unit = f" {p.unit}" if p.unit else ""
        group.add_argument(
            p.cli_flag,
            dest=p.name,
            type=_param_type(p),
            default=None,
            metavar=p.type.__name__.upper(),
            help=f"{p.description} Range {p.range_text}{unit}, default {p.default:g}.",
        )


def param_values_from_args(args: argparse.Namespace) -> ParamValues:
    """The values given on the command line, defaults for the rest.

    An out-of-range value on the command line is an error (not silently clamped): the user
    typed it and can fix it.
    """
    given: dict[str, int | float] = {}
    for p in PARAMS.values():
        value = getattr(args, p.name, None)
        if value is None:
            continue
        coerced, clamped = p.coerce(value)
        if clamped:
            unit = f" {p.unit}" if p.unit else ""
            fatal(f"{p.cli_flag} {value} is out of range; expected {p.range_text}{unit}")
        given[p.name] = coerced
    return ParamValues(given)
