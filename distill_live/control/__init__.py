"""Live control: OSC (and OSCQuery discovery), MIDI (mapping, learn, feedback), presets.

Handlers validate and call the engine's ``set`` / ``record_start`` / ... (see
:class:`~distill_live.control.engine_api.EngineLike`); they never touch the model. Addresses,
ranges and default CCs all come from :data:`distill_live.params.PARAMS`.
"""

from __future__ import annotations

from .engine_api import EngineLike
from .mapping import MidiMap, default_mapping, load_mapping, save_mapping
from .midi import MidiControl
from .osc import COMMANDS, OscServer
from .oscquery import OscQueryServer
from .presets import Presets, load_presets
from .session import ControlHandle, ControlOptions, control_args, start_control

__all__ = [
    "COMMANDS",
    "ControlHandle",
    "ControlOptions",
    "EngineLike",
    "MidiControl",
    "MidiMap",
    "OscQueryServer",
    "OscServer",
    "Presets",
    "control_args",
    "default_mapping",
    "load_mapping",
    "load_presets",
    "save_mapping",
    "start_control",
]
