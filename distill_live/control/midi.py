"""MIDI control: CC → parameters (7/14-bit, curves, relative encoders, soft takeover),
buttons, MIDI learn, program change → preset, feedback to a MIDI output, and a keyboard.

The keyboard: note-on → ``engine.note(note, velocity, "midi")``; note-off and note-on with
velocity 0 → ``engine.note(note, 0, "midi")``; the pitch wheel (-8192..8191) → the ``bend``
parameter (-1..1; 8191 is exactly 1); CC 64 (sustain pedal, down at 64 and above) → the
``sustain`` parameter (1 or 0); CC 123 (all notes off) and CC 120 (all sound off) →
``engine.all_notes_off("midi")``. Notes come from any channel unless ``note_channel`` is set
(then notes, bend, pedal and all-notes-off from that channel only). With several keys held
the engine plays the last one pressed (last-note priority, as a monophonic synth); control
only reports keys. Notes are never coalesced (every key counts); held parameter changes are
applied before a note, so a bend or a knob moved just before a key takes effect first.

Threading model: rtmidi calls mido's callback from its input thread (with JACK, the JACK
process thread: time spent there makes the client miss cycles and, measured here, delivers
corrupted messages), so the callback only enqueues the message; one worker thread takes
them in order and runs :meth:`MidiControl.handle`. A lock guards the mapping state;
handlers only compute a value and hand it to the coalescer (``Engine.set``). Feedback runs on its own thread, fed by the
engine's change listener: it sends each mapped control's position when it changes, at most
once per ``feedback_interval`` per control (the latest value wins), and never sends back the
value a control has just sent (no feedback loops).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ControlError, DeviceError, DistillLiveError
from ..params import PARAMS, Value
from .coalesce import Coalescer
from .engine_api import EngineLike
from .mapping import ButtonMapping, ControlMapping, MidiMap, default_mapping_path, save_mapping
from .presets import Presets

__all__ = [
    "ALL_NOTES_OFF_CCS",
    "JACK_BACKEND",
    "SUSTAIN_CC",
    "MidiControl",
    "SOFT_TAKEOVER_THRESHOLD",
    "bend_value",
    "decode_relative",
    "find_port",
    "resolve_backend",
]

log = logging.getLogger(__name__)

#: A knob within this distance (in 0..1 of its travel) of the value picks it up (as Mixxx).
SOFT_TAKEOVER_THRESHOLD = 3 / 128
#: mido backend for rtmidi's JACK API.
JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"
#: The sustain (damper) pedal's controller: down at 64 and above.
SUSTAIN_CC = 64
#: All sound off (120) and all notes off (123): both release every key.
ALL_NOTES_OFF_CCS = (120, 123)


def bend_value(pitch: int) -> float:
    """The ``bend`` parameter (-1..1) of a MIDI pitch-wheel value (-8192..8191): each half
    scaled on its own, so both ends and the centre (0) are exact."""
    return pitch / 8192 if pitch < 0 else pitch / 8191


def decode_relative(value: int, mode: str) -> int:
    """Ticks (signed) of one relative-encoder message ``value`` (0..127) in ``mode``."""
    if mode == "relative-signed-bit":  # bit 6 set = negative: 1..63 up, 65..127 down
        return -(value & 0x3F) if value & 0x40 else value & 0x3F
    if mode == "relative-signed-bit-2":  # bit 6 set = positive: 65..127 up, 1..63 down
        return value & 0x3F if value & 0x40 else -(value & 0x3F)
    if mode == "relative-binary-offset":  # 64 = no move: 65 = +1, 63 = -1
        return value - 64
    if mode == "relative-twos-complement":  # 1 = +1, 127 = -1
        return value - 128 if value >= 64 else value
    raise ControlError(f"unknown relative encoder mode {mode!r}")


def resolve_backend(name: str | None) -> str | None:
    """A mido backend module path from ``--midi-backend``: ``rtmidi/UNIX_JACK`` or ``jack``
    → rtmidi's JACK API; a full ``mido.backends...`` path is kept; None → mido's default."""
    if not name:
        return None
    if name.lower() == "jack":
        return JACK_BACKEND
    if name.startswith("mido.backends."):
        return name
    return f"mido.backends.{name}"


def find_port(names: Sequence[str], pattern: str, kind: str) -> str:
    """The one port name equal to ``pattern`` or containing it (case-insensitive)."""
    if pattern in names:
        return pattern
    hits = [n for n in names if pattern.lower() in n.lower()]
    if len(hits) == 1:
        return hits[0]
    available = ", ".join(repr(n) for n in names) or "none"
    if not hits:
        raise DeviceError(
            f"no MIDI {kind} matching {pattern!r}; available: {available} "
            "(see `distill-live devices`)"
        )
    raise DeviceError(
        f"MIDI {kind} {pattern!r} matches several ports: {', '.join(map(repr, hits))}; "
        "give more of the name"
    )


@dataclass
class _ControlState:
    msb: int = 0
    lsb: int = 0
    lsb_seen: bool = False
    last_pos: float | None = None  # last position the knob reported (0..1)
    engaged: bool = False  # soft takeover: the knob has picked up the value
    last_set: Value | None = None  # the value this control last set
    pos: float | None = None  # relative encoders: accumulated position
    received: tuple[int, ...] | None = None  # CC values last received (feedback loop guard)
    sent: tuple[int, ...] | None = None  # CC values last sent as feedback
    sent_at: float = 0.0


@dataclass
class _Learn:
    param: str
    on_done: Callable[[str, tuple[object, ...]], None] | None = None


@dataclass
class MidiControl:
    """Maps MIDI messages to engine calls. ``handle(msg)`` is the whole input path (tests may
    call it directly); ``open(...)`` connects real ports."""

    engine: EngineLike
    mapping: MidiMap
    map_path: Path | None = None
    presets: Presets | None = None
    feedback_interval: float = 0.02
    takeover_threshold: float = SOFT_TAKEOVER_THRESHOLD
    #: at most one engine.set per parameter per this many seconds (None: the engine's block)
    coalesce_s: float | None = None
    #: the keyboard's channel (0..15, the wire value): notes, bend, pedal and all-notes-off
    #: from other channels are ignored; None: any channel.
    note_channel: int | None = None
    counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._states = [_ControlState() for _ in self.mapping.controls]
        self._toggles: dict[int, bool] = {}
        self._learn: _Learn | None = None
        self._in: Any = None
        self._out: Any = None
        self._fb_queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._fb_thread: threading.Thread | None = None
        self._listening = False
        self._coalescer = Coalescer(self.engine, "midi", self.coalesce_s)
        self._inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    # -- ports -----------------------------------------------------------------------------
    def open(
        self, input_name: str | None, output_name: str | None = None, backend: str | None = None
    ) -> MidiControl:
        """Open the input (substring match) with this object as its callback, and the
        feedback output if given. :class:`DeviceError` names what is available."""
        import mido

        module = resolve_backend(backend)
        try:
            be = mido.Backend(module, load=True) if module else mido.Backend(load=True)
            inputs = be.get_input_names() if input_name else []
            outputs = be.get_output_names() if output_name else []
        except Exception as e:  # rtmidi raises plain errors (no ALSA sequencer, no JACK server)
            raise DeviceError(
                f"cannot use MIDI backend {module or 'mido default'}: {e}; "
                f"on JACK try --midi-backend rtmidi/UNIX_JACK"
            ) from None
        try:
            if input_name:
                name = find_port(inputs, input_name, "input")
                self._worker = threading.Thread(target=self._work, name="midi-in", daemon=True)
                self._worker.start()
                self._in = be.open_input(name, callback=self._inbox.put)
                log.info("MIDI input: %s", name)
            if output_name:
                name = find_port(outputs, output_name, "output")
                self._out = be.open_output(name)
                log.info("MIDI feedback output: %s", name)
                self.start_feedback()
        except DistillLiveError:
            self.close()
            raise
        except Exception as e:
            self.close()
            raise DeviceError(f"cannot open MIDI port: {e}") from None
        return self

    def start_feedback(self, port: Any = None) -> None:
        """Start sending feedback to ``port`` (or the opened output): current values now,
        then changes as they take effect."""
        if port is not None:
            self._out = port
        if self._fb_thread is not None:
            return
        if not self._listening:
            self.engine.add_listener(self._on_applied)
            self._listening = True
        self._fb_thread = threading.Thread(
            target=self._feedback_loop, name="midi-feedback", daemon=True
        )
        self._fb_thread.start()
        for name in PARAMS:  # at start: every mapped control's current value
            self._fb_queue.put(name)

    def _work(self) -> None:
        while True:
            msg = self._inbox.get()
            if msg is None:
                return
            self.handle(msg)

    def close(self) -> None:
        if self._in is not None:
            try:
                self._in.close()
            except Exception:
                log.debug("closing MIDI input failed", exc_info=True)
            self._in = None
        if self._worker is not None:
            self._inbox.put(None)
            self._worker.join(timeout=2)
            self._worker = None
        self._coalescer.flush()
        self._coalescer.close()
        if self._fb_thread is not None:
            self._fb_queue.put(None)
            self._fb_thread.join(timeout=2)
            self._fb_thread = None
        for port in (self._in, self._out):
            if port is not None:
                try:
                    port.close()
                except Exception:  # closing must not raise on shutdown
                    log.debug("closing MIDI port failed", exc_info=True)
        self._in = self._out = None

    # -- learn -----------------------------------------------------------------------------
    def learn(
        self, param: str, on_done: Callable[[str, tuple[object, ...]], None] | None = None
    ) -> None:
        """Arm MIDI learn: the next control change received is mapped to ``param`` (replacing
        its previous mapping) and the mapping is saved. ``on_done(param, (cc, channel))``."""
        if param not in PARAMS:
            raise ControlError(f"unknown parameter {param!r}; expected one of: {', '.join(PARAMS)}")
        with self._lock:
            self._learn = _Learn(param, on_done)
        log.info("MIDI learn: move a control for %s", param)

    @property
    def learning(self) -> str | None:
        return None if self._learn is None else self._learn.param

    def _finish_learn(self, cc: int, channel: int) -> None:
        assert self._learn is not None
        req, self._learn = self._learn, None
        new = ControlMapping(param=req.param, cc=cc, channel=channel, bits=14 if cc < 32 else 7)
        self.mapping = self.mapping.with_learned(new)
        self._states = [_ControlState() for _ in self.mapping.controls]
        path = self.map_path or default_mapping_path()
        try:
            save_mapping(self.mapping, path)
            log.info(
                "MIDI learn: CC %d channel %d → %s, saved to %s", cc, channel + 1, req.param, path
            )
            if self.map_path is None:
                log.info("start with --midi-map %s to use the learned mapping next time", path)
        except ControlError as e:
            log.warning("MIDI learn: %s", e)
        self.counts["learned"] += 1
        if req.on_done is not None:
            req.on_done(req.param, (cc, channel + 1))

    # -- input -----------------------------------------------------------------------------
    def handle(self, msg: Any) -> None:
        """Handle one mido message (called on mido's thread)."""
        try:
            with self._lock:
                if msg.type in ("note_on", "note_off", "pitchwheel"):
                    self._keyboard(msg)
                elif msg.type == "control_change":
                    if msg.control in (SUSTAIN_CC, *ALL_NOTES_OFF_CCS) and self._keyboard(msg):
                        return
                    self._control_change(msg.channel, msg.control, msg.value)
                elif msg.type == "program_change":
                    self._program_change(msg.program)
        except DistillLiveError as e:
            self.counts["errors"] += 1
            log.warning("MIDI %s: %s", msg, e)
        except Exception:  # never let a bad message kill the MIDI thread
            self.counts["errors"] += 1
            log.exception("MIDI message %s failed", msg)

    def _keyboard(self, msg: Any) -> bool:
        """Play a keyboard message (note, pitch wheel, sustain pedal, all notes off); False
        if it is on a channel the keyboard does not listen to."""
        if self.note_channel is not None and msg.channel != self.note_channel:
            if msg.type != "control_change":  # a CC goes on to the mapping, which counts it
                self.counts["ignored"] += 1
            return False
        if msg.type == "pitchwheel":
            self._coalescer.submit("bend", bend_value(msg.pitch))  # a wheel floods as a knob
            self.counts["bend"] += 1
            return True
        self._coalescer.flush()  # knob and wheel changes held so far land before this
        if msg.type in ("note_on", "note_off"):
            velocity = msg.velocity if msg.type == "note_on" else 0  # note-off velocity unused
            self.engine.note(msg.note, velocity, source="midi")
            self.counts["notes"] += 1
        elif msg.control == SUSTAIN_CC:
            self.engine.set("sustain", 1 if msg.value >= 64 else 0, source="midi")
            self.counts["sustain"] += 1
        else:  # CC 120 / 123
            self.engine.all_notes_off(source="midi")
            self.counts["notes_off"] += 1
        return True

    def _program_change(self, program: int) -> None:
        if self.presets is None:
            self.counts["ignored"] += 1
            return
        preset = self.presets.apply(self.engine, program, source="midi")
        self.counts["presets"] += 1
        log.info("program change %d → preset %s", program, preset.name)

    def _control_change(self, channel: int, cc: int, value: int) -> None:
        self.counts["cc"] += 1
        if self._learn is not None:
            if 32 <= cc < 64 and any(
                c.lsb_cc == cc and c.param == self._learn.param for c in self.mapping.controls
            ):
                return  # the LSB that follows an MSB being learned
            self._finish_learn(cc, channel)
            return
        used = False
        for c, st in zip(self.mapping.controls, self._states, strict=True):
            if not c.matches(channel):
                continue
            if cc == c.cc:
                st.msb = value
                if c.mode != "absolute":
                    self._relative(c, st, decode_relative(value, c.mode))
                else:
                    st.lsb = 0
                    if c.bits == 14 and st.lsb_seen:
                        self._absolute(c, st, (value << 7) / 16383, (value, 0))
                    else:
                        self._absolute(c, st, value / 127, (value,))
                used = True
            elif cc == c.lsb_cc and c.mode == "absolute":
                st.lsb, st.lsb_seen = value, True
                self._absolute(c, st, ((st.msb << 7) | value) / 16383, (st.msb, value))
                used = True
        for i, b in enumerate(self.mapping.buttons):
            if b.cc == cc and b.matches(channel):
                self._button(i, b, value >= 64)
                used = True
        if not used:
            self.counts["ignored"] += 1

    def _get(self, name: str) -> Value:
        """The parameter's value including changes still held by the coalescer."""
        return self._coalescer.get(name)

    def _set(self, c: ControlMapping, st: _ControlState, pos: float) -> None:
        value = c.scale.from_unit(pos)  # a choice steps through its choices
        st.last_set = PARAMS[c.param].coerce(value)[0]
        self._coalescer.submit(c.param, value)
        self.counts["applied"] += 1

    def _owned(self, c: ControlMapping, st: _ControlState) -> bool:
        """True if the parameter still holds what this control last set (nobody else moved it)."""
        if st.last_set is None:
            return False
        scale = c.scale
        current = self._get(c.param)
        return abs(scale.to_unit(current) - scale.to_unit(st.last_set)) <= self.takeover_threshold

    def _absolute(
        self, c: ControlMapping, st: _ControlState, pos: float, raw: tuple[int, ...]
    ) -> None:
        st.received = raw
        prev, st.last_pos = st.last_pos, pos
        if c.takeover == "soft" and not (st.engaged and self._owned(c, st)):
            st.engaged = False
            cur = c.scale.to_unit(self._get(c.param))
            crossed = prev is not None and (prev - cur) * (pos - cur) <= 0
            if abs(pos - cur) > self.takeover_threshold and not crossed:
                self.counts["takeover_ignored"] += 1
                return
            st.engaged = True
        self._set(c, st, pos)

    def _relative(self, c: ControlMapping, st: _ControlState, ticks: int) -> None:
        if ticks == 0:
            return
        if st.pos is None or not self._owned(c, st):
            st.pos = c.scale.to_unit(self._get(c.param))
        st.pos = min(max(st.pos + ticks * c.step, 0.0), 1.0)
        st.received = None  # an encoder's LED ring needs the new position back
        self._set(c, st, st.pos)

    def _button(self, i: int, b: ButtonMapping, pressed: bool) -> None:
        if not pressed:
            return  # act on press only (trigger), or flip on press (toggle)
        self.counts["buttons"] += 1
        if b.action == "record_start":
            self.engine.record_start()
        elif b.action == "record_stop":
            self.engine.record_stop()
        elif b.action == "record_toggle":
            if self.engine.stats().get("recording"):
                self.engine.record_stop()
            else:
                self.engine.record_start()
        elif b.action == "param" and b.param is not None and b.on is not None:
            self._coalescer.flush()
            if b.mode == "toggle":
                state = not self._toggles.get(i, False)
                self._toggles[i] = state
                value = b.on if state else (b.off if b.off is not None else PARAMS[b.param].default)
            else:
                value = b.on
            self.engine.set(b.param, value, source="midi")

    # -- feedback --------------------------------------------------------------------------
    def _on_applied(self, change: Any) -> None:
        # Engine's generator thread: only enqueue (notes have no feedback).
        if change.param in PARAMS:
            self._fb_queue.put(change.param)

    def feedback_messages(
        self, param: str, now: float | None = None
    ) -> tuple[list[tuple[int, int, int]], bool]:
        """``(messages, deferred)``: the (channel, cc, value) messages due for ``param`` now
        (marked sent), and whether a changed control was held back by the rate limit."""
        now = time.monotonic() if now is None else now
        out: list[tuple[int, int, int]] = []
        deferred = False
        with self._lock:
            if not any(c.param == param for c in self.mapping.controls):
                return out, deferred
            value = self.engine.get(param)
            for c, st in zip(self.mapping.controls, self._states, strict=True):
                if c.param != param:
                    continue
                pos = c.scale.to_unit(value)
                if c.bits == 14 and st.lsb_seen:
                    v14 = round(pos * 16383)
                    cc_values: tuple[int, ...] = (v14 >> 7, v14 & 0x7F)
                else:
                    cc_values = (round(pos * 127),)
                if cc_values == st.received:  # what the control itself just sent: no echo
                    st.sent = cc_values
                    continue
                if cc_values == st.sent:
                    continue
                if now - st.sent_at < self.feedback_interval:
                    deferred = True
                    continue
                st.sent, st.sent_at = cc_values, now
                ch = c.channel or 0
                out.append((ch, c.cc, cc_values[0]))
                if len(cc_values) == 2 and c.lsb_cc is not None:
                    out.append((ch, c.lsb_cc, cc_values[1]))
        return out, deferred

    def _feedback_loop(self) -> None:
        import mido

        pending: set[str] = set()
        while True:
            try:
                item = self._fb_queue.get(timeout=self.feedback_interval / 2 if pending else None)
            except queue.Empty:
                item = ""
            if item is None:
                return
            if item:
                pending.add(item)
            while True:  # coalesce what else is queued
                try:
                    nxt = self._fb_queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    return
                pending.add(nxt)
            for param in list(pending):
                msgs, deferred = self.feedback_messages(param)
                if not deferred:
                    pending.discard(param)
                for ch, cc, v in msgs:
                    out = self._out
                    if out is None:
                        continue
                    try:
                        out.send(mido.Message("control_change", channel=ch, control=cc, value=v))
                        self.counts["feedback"] += 1
                    except Exception:
                        log.debug("MIDI feedback send failed", exc_info=True)
