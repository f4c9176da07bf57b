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
