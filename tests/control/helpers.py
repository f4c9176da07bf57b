"""Helpers for the control tests: a small fake engine for unit tests of pure control logic."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from distill_live.params import PARAMS, ParamValues, Value, coerce_note


@dataclass(frozen=True)
class Change:
    frame: int
    param: str
    value: Value
    source: str
    velocity: int | None = None  # a note's (param "note"), as the engine's AppliedChange


class FakeEngine:
    """The Engine's control surface, no audio: ``set`` queues, a 'generator' thread applies
    the latest value per parameter every ``block_s`` and calls the listeners, like the real
    engine does at block boundaries. ``note`` and ``all_notes_off`` are recorded in
    ``notes`` (``(note, velocity, source)``; all notes off as ``(None, 0, source)``) and
    passed to the listeners as ``Change(frame, "note", note, source, velocity)``, in order."""

    def __init__(self, block_s: float = 0.005) -> None:
        self._values = ParamValues().as_dict()
        self._pending: dict[str, tuple[Value, str]] = {}
        self._note_queue: list[tuple[int | None, int, str]] = []
        self.notes: list[tuple[int | None, int, str]] = []
        #: every set and note in call order: (name, value, source), a note as ("note",
        #: (note, velocity), source), all notes off as ("notes_off", None, source)
        self.events: list[tuple[str, object, str]] = []
        self._lock = threading.Lock()
        self._listeners: list[Callable[[Any], None]] = []
        self.calls: list[tuple[str, object, str]] = []
        self.recording: Path | None = None
        self.models: list[object] = []
        self.frame = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(block_s,), daemon=True)
        self._thread.start()

    def set(self, name: str, value: object, source: str = "api") -> Value:
        v, _ = PARAMS[name].coerce(value)
        with self._lock:
            self.calls.append((name, v, source))
            self.events.append((name, v, source))
            self._pending[name] = (v, source)
        return v

    def note(self, note: object, velocity: object = 100, source: str = "api") -> tuple[int, int]:
        n, v = coerce_note(note, velocity)  # ControlError as the engine's
        with self._lock:
            self.notes.append((n, v, source))
            self.events.append(("note", (n, v), source))
            self._note_queue.append((n, v, source))
        return n, v

    def all_notes_off(self, source: str = "api") -> None:
        with self._lock:
            self.notes.append((None, 0, source))
            self.events.append(("notes_off", None, source))
            self._note_queue.append((None, 0, source))

    def get(self, name: str) -> Value:
        with self._lock:
            if name in self._pending:
                return self._pending[name][0]
            return self._values[name]

    @property
    def params(self) -> ParamValues:
        with self._lock:
            return ParamValues({**self._values, **{k: v for k, (v, _) in self._pending.items()}})

    def stats(self) -> dict[str, Any]:
        return {
            "underruns": 0,
            "buffer_fill": 0.5,
            "recording": None if self.recording is None else str(self.recording),
            "frames_played": self.frame,
        }

    def record_start(self, path: Any = None) -> Path:
        self.recording = Path(path or "take.wav")
        return self.recording

    def record_stop(self) -> Path | None:
        p, self.recording = self.recording, None
        return p

    def switch_model(self, model: Any) -> None:
        if str(model).endswith("missing.distill"):
            raise FileNotFoundError(model)
        self.models.append(model)

    def add_listener(self, fn: Callable[[Any], None]) -> None:
        self._listeners.append(fn)

    def _run(self, block_s: float) -> None:
        while not self._stop.wait(block_s):
            self.frame += 256
            with self._lock:
                pending, self._pending = self._pending, {}
                notes, self._note_queue = self._note_queue, []
                self._values.update({k: v for k, (v, _) in pending.items()})
            changes = [Change(self.frame, k, v, src) for k, (v, src) in pending.items()]
            changes += [
                Change(self.frame, "note", n, src, vel) for n, vel, src in notes if n is not None
            ]
            for change in changes:
                for fn in self._listeners:
                    fn(change)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def wait_until(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)
