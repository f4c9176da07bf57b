"""Fixtures of the engine tests: a tiny untrained model (noise-like audio, fast)."""

from __future__ import annotations

from typing import Any

import pytest

from distill_live.jack_dummy import DummyJackServer


@pytest.fixture(scope="session")
def tiny_model() -> Any:
    from distill_live.model import build_model
    from distill_live.model.runtime import setup_torch

    setup_torch()
    import torch

    torch.manual_seed(1234)  # the weights of the untrained model
    return build_model(tiny=True)


@pytest.fixture(scope="session")
def rt_jack(jack_server: DummyJackServer) -> DummyJackServer:
    """The session's JACK server (DummyJackServer already raises it to realtime scheduling
    where allowed, as a JACK server on a music machine runs)."""
    return jack_server
