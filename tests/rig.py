"""Helpers for tests that use the real parts (JACK ports, processes); fixtures live in conftest."""

from __future__ import annotations

import subprocess
import time

__all__ = ["JACK_MIDI_BACKEND", "jack_connect", "jack_ports"]

#: mido backend for rtmidi's JACK API (the ALSA sequencer does not exist on these machines).
JACK_MIDI_BACKEND = "mido.backends.rtmidi/UNIX_JACK"


def jack_connect(source: str, destination: str, timeout: float = 5.0) -> None:
    """Connect two JACK ports by (full) name, retrying while they appear."""
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run(["jack_connect", source, destination], capture_output=True, text=True)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"jack_connect {source} {destination}: {done.stderr.strip()}")
        time.sleep(0.1)


def jack_ports(kind: str = "") -> list[str]:
    """Names of the JACK ports on the current server (``jack_lsp``)."""
    done = subprocess.run(["jack_lsp", *([kind] if kind else [])], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if line and not line.startswith("\t")]
