"""Command-line options for recording, shared by ``play`` and ``render``."""

from __future__ import annotations

import argparse
from typing import Any

from .recorder import CONTAINERS, SUBTYPES

__all__ = ["add_record_arguments", "recorder_options"]


def add_record_arguments(parser: argparse.ArgumentParser, *, render: bool = False) -> None:
    """Add ``--record``, ``--subtype``, ``--record-container`` and the hidden
    ``--record-split-mb`` to a ``play`` or ``render`` sub-command parser."""
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
