"""Note names, scales and keyboard pitch: the music theory the keyboard parameters use.

A scale is written ``"ROOT MODE"`` (``"C minor pentatonic"``, ``"F# dorian"``) or ``"off"``.
Roots take sharps or flats (``"Eb"`` is stored as ``"D#"``), case and ``_``/``-`` between
words do not matter, and a few common aliases are understood (``"ionian"`` is major,
``"aeolian"`` minor, ``"major pentatonic"`` pentatonic). :data:`SCALE_CHOICES` lists every
canonical spelling, in the order a MIDI knob or a menu steps through them.

Velocity follows the MIDI DLS convention: a velocity ``v`` plays at ``40 log10(v / 127)`` dB,
that is an amplitude of ``(v / 127) ** 2``.
"""

from __future__ import annotations

import re

__all__ = [
    "NOTE_NAMES",
    "MODES",
    "SCALE_CHOICES",
    "parse_scale",
    "scale_pitch_classes",
    "note_name",
    "velocity_gain",
]

#: Pitch-class names, sharps only (the spelling :func:`parse_scale` stores).
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

#: Modes and their semitone steps above the root.
MODES: dict[str, tuple[int, ...]] = {
    "chromatic": tuple(range(12)),
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "harmonic minor": (0, 2, 3, 5, 7, 8, 11),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "minor pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "whole tone": (0, 2, 4, 6, 8, 10),
}

_MODE_ALIASES = {
    "ionian": "major",
    "aeolian": "minor",
    "natural minor": "minor",
    "major pentatonic": "pentatonic",
    "pentatonic major": "pentatonic",
    "pentatonic minor": "minor pentatonic",
    "wholetone": "whole tone",
}

_FLATS = {"db": "C#", "eb": "D#", "fb": "E", "gb": "F#", "ab": "G#", "bb": "A#", "cb": "B"}

#: Every value the ``scale`` parameter takes: ``"off"``, then each root with each mode.
SCALE_CHOICES: tuple[str, ...] = ("off",) + tuple(
    f"{root} {mode}" for root in NOTE_NAMES for mode in MODES
)


def _root(token: str) -> str | None:
    t = token.lower()
    if t in _FLATS:
        return _FLATS[t]
    for name in NOTE_NAMES:
        if name.lower() == t:
            return name
    if t.endswith("#") and t[:-1] == "b":  # B# is C, E# is F
        return "C"
    if t == "e#":
        return "F"
    return None


def parse_scale(text: str) -> str:
    """The canonical spelling of a scale (one of :data:`SCALE_CHOICES`); ValueError naming
    the text and the expected form otherwise.

    >>> parse_scale("eb_minor-pentatonic")
    'D# minor pentatonic'
    """
    words = re.sub(r"[\s_\-]+", " ", str(text)).strip().lower()
    if words == "off" or words == "none":
        return "off"
    root, _, mode = words.partition(" ")
    name = _root(root)
    mode = _MODE_ALIASES.get(mode, mode)
    if name is None or mode not in MODES:
        raise ValueError(
            f"scale {text!r} is not 'off' or a root and a mode, like 'C minor pentatonic'; "
            f"roots C..B with # or b, modes: {', '.join(MODES)}"
        )
    return f"{name} {mode}"


def scale_pitch_classes(scale: str) -> frozenset[int] | None:
    """The pitch classes (0 = C) of a scale, or None for ``"off"``."""
    canonical = parse_scale(scale)
    if canonical == "off":
        return None
    root, _, mode = canonical.partition(" ")
    r = NOTE_NAMES.index(root)
    return frozenset((r + step) % 12 for step in MODES[mode])


def note_name(note: float) -> str:
    """``57`` → ``"A3"`` (MIDI note 60 is C4); a fractional note is rounded."""
    n = int(round(note))
    return f"{NOTE_NAMES[n % 12]}{n // 12 - 1}"


def velocity_gain(velocity: int) -> float:
    """Amplitude of a MIDI velocity 0..127 (the DLS curve, ``(v / 127) ** 2``)."""
    v = min(max(int(velocity), 0), 127)
    return (v / 127.0) ** 2
