"""Terminal UI keys for ``distill-live play``: record, MIDI learn, quit, help.

:class:`KeyReader` puts the terminal (stdin) in cbreak mode and reads keys on a thread;
``close()`` restores the terminal (``play`` calls it in a ``finally``, so Ctrl-C and errors
restore it too; an ``atexit`` hook is the last resort). Nothing happens when stdin is not a
terminal. :class:`KeyCommands` turns keys into actions (pure logic, no terminal).

Keys::

    r        start recording (play's --record folder and options) / stop it
    l        MIDI learn: then a parameter's first letters or its number (Enter, Esc cancels)
    q        quit
    h, ?     show the keys
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import select
import sys
import threading
from collections.abc import Callable
from typing import Any

from ..errors import DistillLiveError
from ..params import PARAMS

__all__ = ["KEYS_HELP", "KeyCommands", "KeyReader", "match_param"]

KEYS_HELP = """\
keys (while playing in a terminal, without --no-ui):
  r      start recording (into --record's folder, with --subtype, --record-container) / stop
  l      MIDI learn: then a parameter's first letters or its number, e.g. `l te` or `l 1`
         (Enter to confirm a prefix, Esc to cancel); then move a control (needs --midi-in)
  q      quit (Ctrl-C also works)
  h, ?   show the keys"""

_ESC = "\x1b"
_ENTER = ("\r", "\n")
_BACKSPACE = ("\x7f", "\b")


def match_param(text: str) -> tuple[str | None, list[str]]:
    """``(name, candidates)`` for what was typed after ``l``: a number (1-based, in the
    parameter table's order) or the first letters of a name. ``name`` is set when exactly one
    parameter matches (or the text is a whole name); ``candidates`` lists what still could."""
    names = list(PARAMS)
    t = text.strip().lower()
    if t.isdigit():
        i = int(t)
        return (names[i - 1], [names[i - 1]]) if 1 <= i <= len(names) else (None, [])
    if t in PARAMS:
        return t, [t]
    cands = [n for n in names if n.startswith(t)]
    return (cands[0] if len(cands) == 1 else None), cands


class KeyCommands:
    """What each key does. ``say(text)`` shows a line to the performer; ``learn(param,
    on_done)`` arms MIDI learn (the control handle's), None when control did not start."""

    def __init__(
        self,
        engine: Any,
        say: Callable[[str], None],
        learn: Callable[..., None] | None = None,
    ) -> None:
        self.engine = engine
        self.say = say
        self.learn = learn
        self.quit = threading.Event()
        self._learn_text: str | None = None  # what was typed after `l`, while choosing

    @property
    def choosing(self) -> bool:
        return self._learn_text is not None

    def key(self, k: str) -> None:
        if self._learn_text is not None:
            self._choose(k)
        elif k == "r":
            self._toggle_record()
        elif k == "l":
            self._learn_text = ""
            listing = ", ".join(f"{i} {n}" for i, n in enumerate(PARAMS, 1))
            self.say(f"MIDI learn: which parameter? ({listing}; Esc cancels)")
        elif k == "q":
            self.say("quitting")
            self.quit.set()
        elif k in ("h", "?"):
            self.say(KEYS_HELP)

    def _toggle_record(self) -> None:
        try:
            if self.engine.stats().get("recording"):
                path = self.engine.record_stop()
                self.say(f"recording stopped: {path}")
            else:
                path = self.engine.record_start()
                self.say(f"recording to {path}")
        except DistillLiveError as exc:
            self.say(f"recording: {exc}")

    def _choose(self, k: str) -> None:
        assert self._learn_text is not None
        if k == _ESC:
            self._learn_text = None
            self.say("MIDI learn cancelled")
            return
        if k in _BACKSPACE:
            self._learn_text = self._learn_text[:-1]
            return
        confirm = k in _ENTER
        if not confirm:
            self._learn_text += k
        text = self._learn_text
        name, cands = match_param(text)
        if not cands:
            self._learn_text = None
            self.say(
                f"MIDI learn: no parameter matches {text!r}; expected one of "
                f"{', '.join(PARAMS)} or 1..{len(PARAMS)}"
            )
            return
        if name is None or (not confirm and len(cands) > 1):
            if confirm:
                self.say(f"MIDI learn: {text!r} could be {', '.join(cands)}; type more")
            return
        self._learn_text = None
        self._arm(name)

    def _arm(self, name: str) -> None:
        if self.learn is None:
            self.say("MIDI learn needs live control with a MIDI input (--midi-in NAME)")
            return

        def done(param: str, details: tuple[object, ...]) -> None:
            self.say(f"MIDI learn: {param} ← " + " ".join(str(d) for d in details))

        try:
            self.learn(name, done)
        except DistillLiveError as exc:
            self.say(f"MIDI learn: {exc}")
            return
        self.say(f"MIDI learn: move a control for {name}")


class KeyReader:
    """Keys from a terminal, one character at a time, on a thread (cbreak mode: no echo, no
    line buffering; Ctrl-C still interrupts). ``get(timeout)`` returns a key or None."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._saved: list[Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def available(fd: int | None = None) -> bool:
        try:
            return os.isatty(sys.stdin.fileno() if fd is None else fd)
        except (OSError, ValueError):
            return False

    def start(self) -> bool:
        """Enter cbreak mode and start reading; False (and nothing done) if not a terminal."""
        if not self.available(self.fd):
            return False
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        atexit.register(self.close)
        tty.setcbreak(self.fd, termios.TCSANOW)
        self._thread = threading.Thread(target=self._read, name="distill-keys", daemon=True)
        self._thread.start()
        return True

    def get(self, timeout: float) -> str | None:
        try:
            return self.keys.get(timeout=timeout)
        except queue.Empty:
            return None

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.fd, 64)
            except (OSError, ValueError):
                return
            if not data:  # end of input
                return
            for ch in data.decode("utf-8", "replace"):
                self.keys.put(ch)

    def close(self) -> None:
        """Stop reading and restore the terminal (safe to call twice)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)
        self._thread = None
        if self._saved is not None:
            import termios

            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
            atexit.unregister(self.close)

    def __enter__(self) -> KeyReader:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
