"""Fixtures of the engine tests: a tiny untrained model (noise-like audio, fast)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from distill_live.jack_dummy import DummyJackServer


@pytest.fixture(scope="session")
def tiny_model() -> Any:
    from distill_live.engine.engine import setup_torch
    from distill_live.model import build_model

    setup_torch()
    import torch

    torch.manual_seed(1234)  # the weights of the untrained model
    return build_model(tiny=True)


@pytest.fixture(scope="session")
def rt_jack(jack_server: DummyJackServer) -> Iterator[DummyJackServer]:
    """The session's JACK server, raised to realtime scheduling where allowed (as a JACK
    server on a music machine runs): a non-realtime dummy server misses its own deadlines
    on a loaded machine, and PortAudio reports that as an output underflow to every client."""
    if jack_server.pid is not None:
        subprocess.run(
            ["chrt", "-a", "-f", "-p", "70", str(jack_server.pid)],
            capture_output=True,
            check=False,
        )
    yield jack_server
