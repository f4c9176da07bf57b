"""The coalescer: immediate after a quiet spell, one batch per interval, latest value wins."""

from __future__ import annotations

import time

from distill_live.control.coalesce import MIN_INTERVAL_S, Coalescer, block_seconds
from tests.control.helpers import FakeEngine, wait_until


def test_first_change_is_immediate_then_batched(fake_engine: FakeEngine) -> None:
    c = Coalescer(fake_engine, "osc", interval=0.2)
    try:
        c.submit("gain", -1.0)
        assert fake_engine.calls == [("gain", -1.0, "osc")]  # at once, in the caller's thread
        for v in range(2, 200):
            c.submit("gain", -float(v) / 10)
            c.submit("width", v / 200)
        assert len(fake_engine.calls) == 1 and c.get("gain") == -19.9  # held, readable
        wait_until(lambda: len(fake_engine.calls) == 3, 2)
        assert fake_engine.calls[1:] == [("gain", -19.9, "osc"), ("width", 199 / 200, "osc")]
        time.sleep(0.3)
        assert len(fake_engine.calls) == 3 and c.batches == 2
    finally:
        c.close()


def test_flush_applies_held_changes_now(fake_engine: FakeEngine) -> None:
    c = Coalescer(fake_engine, "midi", interval=10.0)
    try:
        c.submit("top_k", 5)
        c.submit("top_k", 7)
        c.submit("top_p", 0.5)
        assert [v for _, v, _ in fake_engine.calls] == [5]
        c.flush()
        assert [v for _, v, _ in fake_engine.calls] == [5, 7, 0.5]
    finally:
        c.close()


def test_errors_reach_on_error(fake_engine: FakeEngine) -> None:
    errors: list[tuple[str, str, object]] = []
    c = Coalescer(
        fake_engine, "osc", interval=0.0, on_error=lambda n, e, m: errors.append((n, str(e), m))
    )
    try:
        c.submit("temperature", float("nan"), meta="sender")
        assert errors and errors[0][0] == "temperature" and errors[0][2] == "sender"
    finally:
        c.close()


def test_block_seconds_from_engine() -> None:
    class M:
        hop, sample_rate = 1024, 48000

    class E:
        chunk_frames, model = 2, M()

    assert block_seconds(E()) == 2 * 1024 / 48000
    M.hop = 64
    assert block_seconds(E()) == MIN_INTERVAL_S
    assert block_seconds(object()) > 0
