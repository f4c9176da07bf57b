"""The play command line: flag checks before any device or model is opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.commands.helpers import assert_usage_error


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["play", "--channels", "0"], "--channels must be >= 1"),
        (["play", "--samplerate", "5"], "--samplerate must be 8000..192000"),
        (["play", "--temperature", "9"], "--temperature 9.0 is out of range"),
        (["play", "--stereo", "quad"], "invalid choice: 'quad'"),
    ],
)
def test_bad_flags_give_one_line_errors(argv: list[str], message: str, capsys: Any) -> None:
    assert_usage_error(argv, message, capsys)


_SIGNALS_SCRIPT = """
import os, signal, sys, threading, time
from distill_live.commands.play import stop_signals

where = sys.argv[1]
with stop_signals() as stop:
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    try:
        if where == "exec":  # as a dataclass or namedtuple being built by a lazy import
            exec("import time\\nwhile not stop.is_set() and time.monotonic() - t0 < 20: pass")
            print("stopped by the event" if stop.is_set() else "not stopped")
        else:
            time.sleep(20)
            print("not interrupted")
    except KeyboardInterrupt:
        print("interrupted")
print(f"after {time.monotonic() - t0:.1f} s")
"""


@pytest.mark.parametrize(
    ("where", "said"), [("exec", "stopped by the event"), ("plain", "interrupted")]
)
def test_ctrl_c_stops_play_and_exits_0(where: str, said: str, tmp_path: Path) -> None:
    """Ctrl-C interrupts a wait at once; inside code that exec() got as a string it sets the
    stop event instead, because there CPython 3.11 would make the process kill itself with
    SIGINT at exit even after the interrupt was caught (exit status -2, not 0)."""
    import subprocess
    import sys

    script = tmp_path / "script.py"  # not -c: its code is a string given to exec itself
    script.write_text(_SIGNALS_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), where], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[0] == said, proc.stdout
    assert float(lines[1].split()[1]) < 5.0, proc.stdout
