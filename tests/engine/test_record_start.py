"""Engine.record_start does its disk I/O outside the engine lock: a slow disk does not stall
the generator, and the recording still holds exactly the frames played from its origin."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from distill_live.engine.engine import Engine
from distill_live.engine.render import render_frames
from distill_live.params import ParamValues

pytestmark = [pytest.mark.jack]

SLOW_START_S = 0.6  # longer than the look-ahead: holding the lock this long empties the ring


def test_slow_recorder_start_does_not_hold_the_lock(
    rt_jack: Any, tiny_model: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distill_live.record import Recorder

    real_start = Recorder.start
    seen: dict[str, Any] = {}

    def slow_start(self: Recorder) -> Recorder:
        eng = seen["engine"]
        got = eng._lock.acquire(timeout=0.5)  # held by this thread's caller? then it times out
        if got:
            eng._lock.release()
        seen["lock_free"] = got
        w0 = eng.stats()["frames_generated"]
        time.sleep(SLOW_START_S)  # a slow disk
        seen["generated_meanwhile"] = eng.stats()["frames_generated"] - w0
        return real_start(self)

    monkeypatch.setattr(Recorder, "start", slow_start)
    with Engine(tiny_model, params=ParamValues(seed=4), lookahead_ms=150) as eng:
        seen["engine"] = eng
        time.sleep(0.3)
        u0 = eng.stats()["underruns"]
        path = eng.record_start(tmp_path / "slow.wav", subtype="FLOAT")
        origin = eng.record_origin
        assert eng.recorder is not None and eng.recorder.origin_frame == origin
        time.sleep(0.8)
        eng.record_stop()
        u1 = eng.stats()["underruns"]
    assert seen["lock_free"], "record_start held the engine lock during Recorder.start"
    assert seen["generated_meanwhile"] > 0.5 * SLOW_START_S * 48000
    assert u1 == u0, "a slow recorder start stalled the generator"
    live, _ = sf.read(path, dtype="float32")
    assert live.shape[0] > 0.6 * 48000
    # No frame lost or repeated: the file is the stream from the origin on, bit for bit.
    ref = render_frames(tiny_model, origin + live.shape[0], params=ParamValues(seed=4), channels=2)
    assert np.array_equal(live, ref[origin:])


def test_concurrent_starts_one_wins(rt_jack: Any, tiny_model: Any, tmp_path: Path) -> None:
    """Two threads starting at once: one records, the other gets a clear error and leaves
    no file behind."""
    from distill_live.errors import RecordingError

    results: list[object] = []

    def start(name: str) -> None:
        try:
            results.append(eng.record_start(tmp_path / name))
        except RecordingError as exc:
            results.append(exc)

    with Engine(tiny_model, params=ParamValues(seed=1)) as eng:
        threads = [threading.Thread(target=start, args=(f"t{i}.wav",)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        time.sleep(0.2)
        stopped = eng.record_stop()
    paths = [r for r in results if isinstance(r, Path)]
    errors = [r for r in results if isinstance(r, RecordingError)]
    assert len(paths) == 1 and len(errors) == 1, results
    assert "already recording" in str(errors[0])
    assert stopped == paths[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [paths[0].name, paths[0].name + ".json"]
    )
