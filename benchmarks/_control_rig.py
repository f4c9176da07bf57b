"""Shared set-up of the control benchmarks: a JACK dummy server (unless one is configured),
the real Engine with a model, and start_control with OSC on a free port."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any


def rss_mib(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default) in MiB, from /proc."""
    path = f"/proc/{pid or 'self'}/status"
    with open(path) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def running_engine(model: str, **control_options: Any) -> Iterator[tuple[Any, Any]]:
    """``(engine, control_handle)`` with the engine playing into JACK."""
    from distill_live.jack_dummy import DummyJackServer

    jack: Any = None
    if not os.environ.get("JACK_DEFAULT_SERVER"):
        jack = DummyJackServer().start()
    try:
        from distill_live.control import control_args, start_control
        from distill_live.engine import Engine

        if model == "tiny":
            from distill_live.model import build_model

            m: Any = build_model(tiny=True)
        else:
            m = model
        with Engine(m) as eng:
            control_options.setdefault("osc_port", 0)
            control_options.setdefault("no_oscquery", True)
            handle = start_control(eng, control_args(**control_options))
            try:
                yield eng, handle
            finally:
                handle.close()
    finally:
        if jack is not None:
            jack.stop()
