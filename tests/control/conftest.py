"""Fixtures for the control tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.control.helpers import FakeEngine


@pytest.fixture
def fake_engine() -> Iterator[FakeEngine]:
    eng = FakeEngine()
    try:
        yield eng
    finally:
        eng.close()


@pytest.fixture
def engine(jack_server):  # type: ignore[no-untyped-def]
    """The real Engine with an untrained tiny model, playing into the JACK dummy server."""
    from distill_live.engine import Engine
    from distill_live.model import build_model
    from tests.control.helpers import wait_until

    eng = Engine(build_model(tiny=True))
    eng.start()
    try:
        wait_until(lambda: eng.stats()["frames_played"] > 0, 20, "the engine to play")
        yield eng
    finally:
        eng.stop()


@pytest.fixture
def control(engine):  # type: ignore[no-untyped-def]
    """Factory: ``control(**options)`` → start_control(engine, options) (closed after)."""
    from distill_live.control import control_args, start_control

    handles = []

    def make(**options):  # type: ignore[no-untyped-def]
        options.setdefault("osc_port", 0)
        options.setdefault("no_oscquery", True)
        h = start_control(engine, control_args(**options))
        handles.append(h)
        return h

    try:
        yield make
    finally:
        for h in handles:
            h.close()
