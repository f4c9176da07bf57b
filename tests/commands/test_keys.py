"""Terminal UI keys of `distill-live play`: `r` records and stops, `q` quits, the terminal
is restored; run under a real pseudo-terminal against the JACK test server."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from distill_live.commands.keys import KeyCommands, KeyReader, match_param
from distill_live.errors import ControlError
from distill_live.record import read_sidecar, sidecar_path

REPO = Path(__file__).resolve().parents[2]


def test_match_param_by_number_and_prefix() -> None:
    assert match_param("1") == ("temperature", ["temperature"])
    assert match_param("6") == ("width", ["width"])
    assert match_param("99") == (None, [])
    assert match_param("te") == ("temperature", ["temperature"])
    assert match_param("t") == (None, ["temperature", "top_k", "top_p", "transpose"])
    assert match_param("top_p") == ("top_p", ["top_p"])
    assert match_param("x") == (None, [])


def test_learn_key_chooses_a_parameter() -> None:
    said: list[str] = []
    armed: list[str] = []

    def learn(param: str, on_done: Any) -> None:
        armed.append(param)
        on_done(param, (21, 1))

    keys = KeyCommands(engine=None, say=said.append, learn=learn)
    for k in "lt":  # `t` is still ambiguous
        keys.key(k)
    assert keys.choosing and armed == []
    keys.key("e")  # unique: armed at once
    assert armed == ["temperature"] and not keys.choosing
    assert any("temperature ← 21 1" in s for s in said), said
    for k in "l3":
        keys.key(k)
    assert armed[-1] == "top_p"
    for k in "ltop\r":  # Enter on an ambiguous prefix: asks for more
        keys.key(k)
    assert keys.choosing and "could be" in said[-1]
    keys.key("\x1b")
    assert not keys.choosing and armed == ["temperature", "top_p"]
    keys.key("q")
    assert keys.quit.is_set()

    def no_midi(param: str, on_done: Any) -> None:
        raise ControlError("MIDI learn needs a MIDI input: start with --midi-in NAME")

    keys = KeyCommands(engine=None, say=said.append, learn=no_midi)
    for k in "l1":
        keys.key(k)
    assert "--midi-in" in said[-1]


def test_no_terminal_no_keys() -> None:
    r, w = os.pipe()
    try:
        reader = KeyReader(fd=r)
        assert not reader.start()
        reader.close()
    finally:
        os.close(r)
        os.close(w)


@pytest.fixture(scope="module")
def tiny_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from distill_live.model import build_model, save_model

    path = tmp_path_factory.mktemp("model") / "tiny.distill"
    save_model(build_model(tiny=True), path)
    return path


class PtyPlay:
    """`distill-live play` with a pseudo-terminal as its controlling terminal."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        self.before = termios.tcgetattr(slave)
        self.slave = slave

        def setup() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "distill_live", "play", *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=dict(
                os.environ,
                PYTHONPATH=str(REPO),
                COLUMNS="200",
                TERM="xterm",
                PYTHONFAULTHANDLER="1",
            ),
            preexec_fn=setup,
        )
        self.out = bytearray()
        self._lock = threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                self.out += data

    def text(self) -> str:
        with self._lock:
            return self.out.decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in the output:\n{self.text()[-3000:]}")
            time.sleep(0.05)

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.proc.poll() is None:
            # still running (a failed test): SIGABRT makes faulthandler print every thread's
            # stack, so the failure shows where it hung
            self.proc.send_signal(signal.SIGABRT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            time.sleep(0.2)
            print(self.text()[-12000:])
        os.close(self.slave)
        os.close(self.master)


@pytest.mark.jack
def test_keys_record_and_quit_under_a_terminal(
    jack_server: Any, tiny_model_file: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "takes"
    argv = ["--model", str(tiny_model_file), "--osc-port", "0", "--no-oscquery"]
    argv += ["--record-container", "wav", "--subtype", "PCM_16", "--seed", "3"]
    play = PtyPlay(argv, cwd=tmp_path)
    try:
        play.wait_for("keys: r record", 90)
        play.press(b"h")
        play.wait_for("MIDI learn: then", 10)
        play.press(b"r")
        play.wait_for("recording to ", 10)
        time.sleep(0.6)
        play.press(b"r")
        play.wait_for("recording stopped: ", 10)
        play.press(b"q")
        assert play.proc.wait(30) == 0, play.text()[-3000:]
        after = termios.tcgetattr(play.slave)
    finally:
        play.close()
    # The terminal is back as it was (echo and line mode on again).
    assert after[3] & (termios.ECHO | termios.ICANON) == play.before[3] & (
        termios.ECHO | termios.ICANON
    )
    assert after == play.before
    # Without --record the `r` key records into ./recordings/ with play's options.
    files = sorted((tmp_path / "recordings").glob("session_*_seed3.wav"))
    assert len(files) == 1, list(tmp_path.rglob("*"))
    info = sf.info(str(files[0]))
    doc = read_sidecar(sidecar_path(files[0]))
    assert doc["status"] == "complete" and info.subtype == "PCM_16"
    assert doc["frames_written"] == info.frames > 0.4 * 48000
    assert not folder.exists()


@pytest.mark.jack
def test_ctrl_c_restores_the_terminal(
    jack_server: Any, tiny_model_file: Path, tmp_path: Path
) -> None:
    argv = ["--model", str(tiny_model_file), "--osc-port", "0", "--no-oscquery"]
    argv += ["--record", f"{tmp_path}/takes/"]
    play = PtyPlay(argv, cwd=tmp_path)
    try:
        play.wait_for("keys: r record", 90)
        play.press(b"\x03")  # Ctrl-C: SIGINT to the foreground process group
        assert play.proc.wait(30) == 0, play.text()[-3000:]
        after = termios.tcgetattr(play.slave)
    finally:
        play.close()
    assert after == play.before
    [wav] = (tmp_path / "takes").glob("*.wav")
    assert read_sidecar(sidecar_path(wav))["status"] == "complete"
