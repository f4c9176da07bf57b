"""The shared ring and the callback that reads it (pure logic, no device)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from distill_live.engine.audio import make_callback
from distill_live.engine.ring import H, Ring, sweep_stale_rings


@pytest.fixture
def ring() -> Iterator[Ring]:
    r = Ring.create(1024, 2)
    yield r
    r.close()


def _status(underflow: bool = False) -> SimpleNamespace:
    return SimpleNamespace(output_underflow=underflow)


def _frames(start: int, n: int) -> np.ndarray:
    v = np.arange(start, start + n, dtype=np.float32)
    return np.stack([v, -v], axis=1)


def test_write_and_read_across_the_wrap(ring: Ring) -> None:
    cb = make_callback(ring)
    out = np.empty((256, 2), np.float32)
    pos = 0
    for _ in range(20):  # 20 x 300 frames through a 1024-frame ring
        ring.write(_frames(pos, 300))
        pos += 300
        while ring.fill() >= 256:
            r = ring.read_pos
            cb(out, 256, None, _status())
            np.testing.assert_array_equal(out, _frames(r, 256))
    assert ring.header[H.EMPTY] == 0
    assert ring.header[H.CALLBACKS] > 0


def test_empty_callback_plays_silence_and_counts_only_when_primed(ring: Ring) -> None:
    cb = make_callback(ring)
    out = np.ones((256, 2), np.float32)
    cb(out, 256, None, _status(underflow=True))
    assert not out.any()
    assert ring.header[H.EMPTY] == 0 and ring.header[H.PREROLL_UNDERFLOW] == 1
    ring.header[H.PRIMED] = 1
    ring.write(_frames(0, 100))  # fewer than a block
    cb(out, 256, None, _status(underflow=True))
    assert not out.any()
    assert ring.header[H.EMPTY] == 1 and ring.header[H.UNDERFLOW] == 1
    assert ring.read_pos == 0  # the partial block stays for later


def test_overflow_is_refused(ring: Ring) -> None:
    ring.write(_frames(0, 1000))
    with pytest.raises(BufferError):
        ring.write(_frames(1000, 100))


def test_rewrite_replaces_queued_frames_but_not_those_near_the_reader(ring: Ring) -> None:
    cb = make_callback(ring)
    out = np.empty((256, 2), np.float32)
    ring.write(_frames(0, 900))
    cb(out, 256, None, _status())  # reader at 256
    # replace from 300 on, guard 40: allowed (300 >= 256 + 40); write position follows
    assert ring.rewrite(300, _frames(10_000, 300), guard=40) == 300
    assert ring.write_pos == 600
    # replace from 280 on: 280..295 are within the guard and stay; the rest is replaced
    assert ring.rewrite(280, _frames(20_000, 300), guard=40) == 296
    assert ring.write_pos == 580
    cb(out, 256, None, _status())
    np.testing.assert_array_equal(out[:40], _frames(256, 40))  # old frames 256..295
    np.testing.assert_array_equal(out[40:], _frames(20_016, 216))  # new from 296 on


def test_a_late_rewrite_fades_from_the_queued_frames(ring: Ring) -> None:
    cb = make_callback(ring)
    out = np.empty((256, 2), np.float32)
    ring.write(_frames(0, 900))
    cb(out, 256, None, _status())  # reader at 256
    # the new frames should have started at 300 (same_until) but can only start at 296 + ...:
    # from 280 with guard 40 they start at 296 > same_until 290: 8 frames fade in
    new = _frames(20_000, 300)
    assert ring.rewrite(280, new, guard=40, fade=8, same_until=290) == 296
    cb(out, 256, None, _status())
    w = (np.arange(1, 9, dtype=np.float32) / 9)[:, None]
    np.testing.assert_allclose(out[40:48], _frames(296, 8) * (1 - w) + new[16:24] * w, rtol=1e-6)
    np.testing.assert_array_equal(out[48:], new[24:232])
    # starting at or before same_until (the frames there are the same): no fade
    read = ring.read_pos
    start = ring.rewrite(read + 50, _frames(5, 300), guard=40, fade=8, same_until=10**6)
    assert start == read + 50
    cb(out, 256, None, _status())
    np.testing.assert_array_equal(out[50:], _frames(5, 206))


def test_attach_sees_the_same_memory(ring: Ring) -> None:
    other = Ring.attach(ring.name)
    try:
        ring.write(_frames(0, 10))
        assert other.write_pos == 10
        np.testing.assert_array_equal(other.data[:10], _frames(0, 10))
    finally:
        other.close()


def test_rings_of_dead_engines_are_swept(tmp_path: Path) -> None:
    """A ring left behind by a killed engine (its creator pid is gone) is removed when the
    next ring is made; a live engine's ring and other files stay."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for name in (
        f"dl_ring_{dead.pid}_0123abcd",  # dead creator: removed
        f"dl_ring_{os.getpid()}_0123abcd",  # live creator: kept
        "dl_ring_0123456789ab",  # older name without a pid: kept
        "other_file",
    ):
        (tmp_path / name).write_bytes(b"\0" * 64)
    assert sweep_stale_rings(str(tmp_path)) == [f"dl_ring_{dead.pid}_0123abcd"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"dl_ring_{os.getpid()}_0123abcd", "dl_ring_0123456789ab", "other_file"]
    )


def test_ring_names_carry_the_creator_pid(ring: Ring) -> None:
    assert ring.name.startswith(f"dl_ring_{os.getpid()}_")
    assert os.path.exists(f"/dev/shm/{ring.name}")
