"""The keyboard: which note sounds, and the plan (:class:`Steer`) that makes the model play it.

:class:`Keyboard` is pure logic over note events: **last-note priority** (the most recently
pressed key that still sounds is the note; releasing it returns to the one held before it, as
on a monophonic synth), and the sustain pedal (a key released while the pedal is down keeps
sounding until the pedal comes up).

:func:`plan` turns the keyboard and the parameters into a :class:`Steer`, fixed from the code
frame where a change takes effect:

* **which pitch codes the prior may draw** (codebook 0, the pitch grid): a held key allows the
  codes within :data:`NOTE_CENTS` of its note (the timbre codebooks stay free); with no key
  held in ``free`` mode a ``scale`` allows the grid codes on that scale (and "unpitched");
  otherwise every code;
* **a pitch offset added at decoding** (semitones per code frame): ``transpose``, the bend
  (``bend * bend_range``), the octaves that bring a key outside the grid into it, and the
  glide, which starts at the distance from the pitch that sounded and falls linearly to 0
  over ``glide`` ms. The prior always works in the pitches it was trained on;
* **which key the codes come from**: a model file with a key table (:class:`KeyMap`, from
  :func:`~distill_live.model.keymap.key_quality`) names keys the model holds poorly; such a
  key is drawn as a better key at most :data:`KEY_REACH` semitones away and moved to its
  pitch at decoding (the oscillators follow the moved pitch, so it sounds at the key);
* **a gain**: the key's velocity (:func:`~distill_live.scales.velocity_gain`), 0 in ``gate``
  mode with no key held (the last note's pitch is kept while it fades), 1 otherwise.

Everything is a function of the events and the frame they land on, so live play, a render
of the same automation, and a rollback replaying a stretch all give the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..model.keymap import KEY_GOOD
from ..model.pitch import PitchGrid
from ..model.steering import KEY_CENTS
from ..params import ParamValues
from ..scales import scale_pitch_classes, velocity_gain

__all__ = [
    "Keyboard",
    "Steer",
    "KeyMap",
    "plan",
    "NOTE_CENTS",
    "SCALE_CENTS",
    "KEYBOARD_PARAMS",
    "KEY_GOOD",
    "KEY_REACH",
]

#: A held key allows the pitch codes this close to its note (the grid steps 25 cents).
NOTE_CENTS = KEY_CENTS
#: With a scale, a pitch code is allowed when it lies this close to a note of the scale.
SCALE_CENTS = 25.0
#: Parameters that change the plan.
KEYBOARD_PARAMS = ("transpose", "scale", "keys", "glide", "bend_range", "bend", "sustain")
#: How far (semitones) the key a poorly held key is drawn as may lie.
KEY_REACH = 2
#: What each semitone between a key and the key it is drawn as costs a candidate.
KEY_STEP_COST = 0.05


@dataclass(frozen=True)
class KeyMap:
    """A model's key table: how well it holds each whole MIDI note from ``low_key`` on (the
    share of pitched frames at the key, :func:`~distill_live.model.keymap.key_quality`)."""

    low_key: int
    quality: tuple[float, ...]

    @classmethod
    def of(cls, model: Any) -> KeyMap | None:
        """The table in ``model``'s file header (``training.key_quality``), or None."""
        header = getattr(model, "header", None) or {}
        return cls.from_table((header.get("training") or {}).get("key_quality"))

    @classmethod
    def from_table(cls, table: Any) -> KeyMap | None:
        """A stored table (:func:`~distill_live.model.keymap.key_quality`'s dict), or None
        for one this version cannot read (then keys are drawn as themselves)."""
        if not isinstance(table, dict):
            return None
        try:
            low = int(table["low_key"])
            quality = tuple(float(q) for q in table["quality"])
        except (KeyError, TypeError, ValueError):
            return None
        return cls(low, quality) if quality else None

    def get(self, key: int) -> float | None:
        i = int(key) - self.low_key
        return self.quality[i] if 0 <= i < len(self.quality) else None

    def source(self, key: int) -> int:
        """The key ``key``'s codes are drawn as: itself when held well (or unknown), else the
        best within :data:`KEY_REACH` semitones, each semitone away costing
        :data:`KEY_STEP_COST` (ties: the nearer, then the lower)."""
        own = self.get(key)
        if own is None or own >= KEY_GOOD:
            return key
        best, best_score = key, own
        for d in sorted(range(-KEY_REACH, KEY_REACH + 1), key=lambda d: (abs(d), d)):
            q = self.get(key + d)
            if q is not None and q - KEY_STEP_COST * abs(d) > best_score:
                best, best_score = key + d, q - KEY_STEP_COST * abs(d)
        return best


@dataclass
class Keyboard:
    """Held keys (last-note priority) and the sustain pedal."""

    sounding: list[int] = field(default_factory=list)  # in press order, each once
    down: set[int] = field(default_factory=set)  # keys physically held
    velocity: dict[int, int] = field(default_factory=dict)
    sustain: bool = False

    def copy(self) -> Keyboard:
        return Keyboard(list(self.sounding), set(self.down), dict(self.velocity), self.sustain)

    def note(self, note: int, velocity: int) -> None:
        """A key event: velocity > 0 presses ``note``, 0 releases it."""
        if velocity > 0:
            if note in self.sounding:
                self.sounding.remove(note)
            self.sounding.append(note)
            self.down.add(note)
            self.velocity[note] = velocity
        else:
            self.down.discard(note)
            if not self.sustain and note in self.sounding:
                self.sounding.remove(note)

    def set_sustain(self, on: bool) -> None:
        self.sustain = bool(on)
        if not self.sustain:
            self.sounding = [n for n in self.sounding if n in self.down]

    def all_off(self) -> None:
        self.sounding.clear()
        self.down.clear()

    @property
    def current(self) -> tuple[int, int] | None:
        """The sounding note and its velocity, or None."""
        if not self.sounding:
            return None
        n = self.sounding[-1]
        return n, self.velocity.get(n, 100)


@dataclass(frozen=True)
class Steer:
    """What the generator does from code frame ``start`` on (see the module docstring)."""

    start: int = 0
    #: the note the prior is held to (moved into the grid's range), or None
    note: float | None = None
    #: semitones from ``note`` to the held key, added back at decoding: the octaves of a key
    #: beyond the grid, and the distance to the key it is drawn as (:class:`KeyMap`)
    octaves: float = 0.0
    #: the pitch codes the prior may draw in codebook 0; None: all
    allowed: tuple[int, ...] | None = None
    #: transpose plus bend (semitones), added at decoding at every frame
    shift: float = 0.0
    #: the glide's extra offset at ``start`` (semitones), falling to 0 over glide_frames
    glide_from: float = 0.0
    glide_frames: float = 0.0
    gain: float = 1.0

    def glide(self, frames: np.ndarray) -> np.ndarray:
        """The glide's part of the offset at these code frames (>= start): (n,) semitones."""
        if self.glide_from == 0.0 or self.glide_frames <= 0:
            return np.zeros(len(frames))
        left = 1.0 - (np.asarray(frames, dtype=np.float64) - self.start) / self.glide_frames
        return self.glide_from * np.clip(left, 0.0, 1.0)

    def offsets(self, frames: np.ndarray) -> np.ndarray:
        """Semitones added at decoding at these code frames: (n,) float64."""
        return self.shift + self.octaves + self.glide(frames)

    def key_pitch(self, frame: int) -> float | None:
        """The held key's pitch at ``frame`` with the glide, before transpose and bend."""
        if self.note is None:
            return None
        return self.note + self.octaves + float(self.glide(np.array([frame]))[0])

    @property
    def shifts_pitch(self) -> bool:
        return self.shift + self.octaves != 0.0 or (self.glide_from != 0 and self.glide_frames > 0)


def _in_grid(note: float, grid: PitchGrid) -> tuple[float, float]:
    """``note`` moved by whole octaves into the grid, and the semitones it was moved by
    (negated: what decoding adds back)."""
    moved = 0.0
    while note + moved < grid.low_note:
        moved += 12.0
    while note + moved > grid.high_note and note + moved - 12.0 >= grid.low_note:
        moved -= 12.0
    # a grid narrower than an octave: its nearest end, the rest of the way at decoding
    inside = min(max(note + moved, grid.low_note), grid.high_note)
    return inside, note - inside


def _scale_codes(grid: PitchGrid, scale: str, transpose: int) -> tuple[int, ...] | None:
    """Code 0 and the grid codes whose pitch (after ``transpose``) is on ``scale``."""
    pcs = scale_pitch_classes(scale)
    if pcs is None:
        return None
    pitch = grid.low_note + np.arange(grid.n_pitches) * grid.step_cents / 100.0 + transpose
    nearest = np.round(pitch)
    on = np.isin(nearest.astype(np.int64) % 12, sorted(pcs))
    close = np.abs(pitch - nearest) * 100.0 <= SCALE_CENTS + 1e-9
    return (0, *(int(c) + 1 for c in np.nonzero(on & close)[0]))


def plan(
    keyboard: Keyboard,
    params: ParamValues,
    start: int,
    previous: Steer | None,
    grid: PitchGrid | None,
    frame_rate: float,
    keymap: KeyMap | None = None,
) -> Steer:
    """The :class:`Steer` from code frame ``start`` on. ``previous`` is the plan before (for
    the glide and the release); ``grid`` is None for a model without a pitch codebook (then
    only the gain applies); ``frame_rate`` is code frames per second; ``keymap`` the model's
    key table (None: every key is drawn as itself)."""
    current = keyboard.current
    gate = params["keys"] == "gate"
    transpose = int(params["transpose"])
    shift = transpose + float(params["bend"]) * float(params["bend_range"])
    if current is None:
        if grid is None:
            return Steer(start=start, gain=0.0 if gate else 1.0)
        if gate:
            if previous is not None and previous.note is not None:
                # released: the last note keeps its pitch (and glide) while the gain fades
                return replace(previous, shift=shift, gain=0.0)
            return Steer(start=start, shift=shift, gain=0.0)
        return Steer(
            start=start, allowed=_scale_codes(grid, str(params["scale"]), transpose), shift=shift
        )
    key, velocity = current
    gain = velocity_gain(velocity)
    if grid is None:
        return Steer(start=start, gain=gain)
    note, octaves = _in_grid(float(key), grid)
    if keymap is not None and note == round(note):
        # a key the model holds poorly: drawn as a better one nearby, moved back at decoding
        source = float(keymap.source(int(note)))
        if grid.low_note <= source <= grid.high_note:
            octaves += note - source
            note = source
    if previous is not None and previous.note == note and previous.octaves == octaves:
        return replace(previous, shift=shift, gain=gain)  # the same key: its glide goes on
    before = None if previous is None else previous.key_pitch(start)
    glide_ms = float(params["glide"])
    glide_from = before - key if glide_ms > 0 and before is not None else 0.0
    return Steer(
        start=start,
        note=note,
        octaves=octaves,
        allowed=tuple(int(c) for c in grid.note_codes(note, NOTE_CENTS)),
        shift=shift,
        glide_from=glide_from,
        glide_frames=glide_ms / 1000.0 * frame_rate,
        gain=gain,
    )
