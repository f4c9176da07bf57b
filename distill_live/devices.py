"""What audio outputs and MIDI ports this machine has (``distill-live devices``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["list_audio_outputs", "list_midi_ports", "midi_backend_names", "quiet_stderr"]


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for a moment: RtMidi, libjack and ALSA print probing noise
    (``Cannot connect to server socket``...) straight to it, bypassing Python."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def list_audio_outputs() -> list[dict[str, Any]]:
    """Every PortAudio device with output channels, as plain dicts.

    sounddevice is imported here, not at module import: its device list is frozen at import,
    so a JACK server started before this call is seen.
    """
    with quiet_stderr():
        import sounddevice as sd

        devices = sd.query_devices()
        apis = sd.query_hostapis()
        try:
            default_out = sd.default.device[1]
        except Exception:  # no default device at all
            default_out = -1
    out = []
    for d in devices:
        if d["max_output_channels"] <= 0:
            continue
        out.append(
            {
                "index": d["index"],
                "name": d["name"],
                "hostapi": apis[d["hostapi"]]["name"],
                "channels": d["max_output_channels"],
                "default_samplerate": d["default_samplerate"],
                "default": d["index"] == default_out,
            }
        )
    return out


def midi_backend_names() -> list[str]:
    """mido backend names for every MIDI API compiled into python-rtmidi (ALSA, JACK, ...)."""
    import rtmidi

    names = {
        rtmidi.API_LINUX_ALSA: "LINUX_ALSA",
        rtmidi.API_UNIX_JACK: "UNIX_JACK",
        rtmidi.API_MACOSX_CORE: "MACOSX_CORE",
        rtmidi.API_WINDOWS_MM: "WINDOWS_MM",
    }
    return [
        f"mido.backends.rtmidi/{names[api]}" for api in rtmidi.get_compiled_api() if api in names
    ]


def list_midi_ports() -> dict[str, list[dict[str, str]]]:
    """MIDI inputs and outputs per backend; a backend that cannot run here is skipped."""
    import mido

    inputs: list[dict[str, str]] = []
    outputs: list[dict[str, str]] = []
    for backend_name in midi_backend_names():
        try:
            with quiet_stderr():
                backend = mido.Backend(backend_name, load=True)
                ins = backend.get_input_names()
                outs = backend.get_output_names()
        except Exception:  # e.g. no ALSA sequencer, no JACK server running
            continue
        api = backend_name.rsplit("/", 1)[-1]
        inputs += [{"name": n, "backend": backend_name, "api": api} for n in ins]
        outputs += [{"name": n, "backend": backend_name, "api": api} for n in outs]
    return {"inputs": inputs, "outputs": outputs}
