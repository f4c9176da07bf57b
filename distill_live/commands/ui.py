"""The terminal while ``distill-live play`` runs: the live status line, keys, audio events.

:func:`play_loop` waits until the performer quits (``q``), ``--duration`` is over or the
generator stops, meanwhile showing :func:`status_line` (rich, when stderr is a terminal) or
the audio events as plain lines (``--no-ui`` or a log), and handing keys to
:class:`~distill_live.commands.keys.KeyCommands`. It reads the engine through ``stats()`` and
acts through the key commands; it starts and stops nothing itself.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .keys import KeyCommands, KeyReader

__all__ = ["play_loop", "status_line"]


def status_line(st: dict[str, Any]) -> str:
    """One line from ``Engine.stats()``: parameters, level, buffer, underruns, RTF, recording."""
    p = st["params"]
    rtf = "—" if st["rtf"] is None else f"{st['rtf']:.2f}"
    if st.get("recording_status") == "failed":
        rec = f"REC FAILED: {st.get('recording_error') or 'unknown error'}"
    elif st["recording"] is None:
        rec = "rec off"
    else:
        rec = f"REC {Path(st['recording']).name}"
    audio = "" if st["audio_status"] == "running" else f" [audio {st['audio_status']}]"
    return (
        f"T {p['temperature']:.2f} k {p['top_k']} p {p['top_p']:.2f} seed {p['seed']} "
        f"gain {p['gain']:+.1f} w {p['width']:.2f} | {st['level_db']:5.1f} dBFS | "
        f"buf {st['buffer_ms']:3.0f} ms | underruns {st['underruns']} xruns {st['underflows']} "
        f"| RTF {rtf} | {rec}{audio}"
    )


def play_loop(
    engine: Any,
    args: argparse.Namespace,
    control: Any = None,
    stop: threading.Event | None = None,
) -> None:
    """Run the terminal UI until ``q``, ``args.duration`` seconds, ``stop`` (a signal; see
    :func:`~distill_live.commands.play.stop_signals`) or a generator error.

    ``args`` needs ``duration`` (None: until quit) and ``no_ui``; ``control`` is the
    :class:`~distill_live.control.ControlHandle` (its ``learn`` serves the ``l`` key) or None.
    """
    end = None if args.duration is None else time.monotonic() + args.duration
    seen_events = 0
    reader = KeyReader() if not args.no_ui and KeyReader.available() else None
    plain = args.no_ui or not sys.stderr.isatty()
    live: Any = None

    def say(text: str) -> None:
        if live is not None:
            live.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    keys = KeyCommands(engine, say, learn=None if control is None else control.learn)

    def done() -> bool:
        return (
            keys.quit.is_set()
            or (stop is not None and stop.is_set())
            or (end is not None and time.monotonic() >= end)
        )

    def wait(seconds: float) -> None:
        """Sleep, handling keys as they come."""
        if reader is None:
            time.sleep(seconds)
            return
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0 and not done():
            k = reader.get(left)
            if k is not None:
                keys.key(k)

    try:
        if reader is not None and reader.start():
            say("keys: r record, l MIDI learn, q quit, h help")
        else:
            reader = None
        if plain:
            while not done():
                wait(0.1)
                st = engine.stats()
                for msg in st["audio_events"][seen_events:]:
                    say(f"audio: {msg}")
                seen_events = len(st["audio_events"])
                if st["error"]:
                    return
            return
        from rich.console import Console
        from rich.live import Live

        console = Console(stderr=True)
        with Live(console=console, refresh_per_second=8, transient=False) as lv:
            live = lv
            while not done():
                wait(0.125)
                st = engine.stats()
                lv.update(status_line(st))
                if st["error"]:
                    return
    finally:
        if reader is not None:
            reader.close()
