"""The test rig: real JACK audio, real UDP for OSC, real JACK MIDI ports, synthesized audio.

Fixtures
--------
jack_server      session-wide JACK server with the dummy driver (48 kHz, 256-frame periods),
                 under a unique name; sets JACK_DEFAULT_SERVER / JACK_NO_START_SERVER so this
                 process and its children use it. Import sounddevice only inside tests that
                 request it (its device list is frozen at import).
free_udp_port    a UDP port on 127.0.0.1 that was free a moment ago.
osc_client       factory: ``osc_client(port)`` → python-osc ``SimpleUDPClient`` to 127.0.0.1.
oscsend          ``oscsend(port, "/distill/temperature", "f", 0.5)`` runs liblo's ``oscsend``.
osc_listener     a real OSC server on a free port collecting every message it gets.
jack_midi_out    a JACK MIDI virtual output port (mido, rtmidi's UNIX_JACK API) to send CC from.
midi_backend     the mido backend for rtmidi's JACK API.
make_audio       factory writing synthetic audio files (sine, noise, one-shots) into tmp_path.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from distill_live.jack_dummy import DummyJackServer
from tests.rig import JACK_MIDI_BACKEND

# Nothing in the test suite may start a JACK server behind our back.
os.environ.setdefault("JACK_NO_START_SERVER", "1")

# A suite started in the background by a non-interactive shell (`make test &`, nohup) inherits
# SIGINT ignored, and so would every `play` it starts (Python keeps an inherited SIG_IGN): the
# Ctrl-C tests would wait for a stop that never comes. Children of a Python handler get SIG_DFL.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} not found: install the Debian package {package} (make test does)")
    return path


@pytest.fixture(scope="session")
def jack_server() -> Iterator[DummyJackServer]:
    _require("jackd", "jackd2")
    server = DummyJackServer(samplerate=48000, period=256)
    server.start()
    try:
        yield server
    finally:
        # PortAudio must let go of the server first: terminating PortAudio after the server
        # is gone aborts the interpreter (pa_jack.c: Terminate: Assertion `err == 0').
        sd = sys.modules.get("sounddevice")
        if sd is not None:
            sd._terminate()
        server.stop()


@pytest.fixture
def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def osc_client() -> Callable[..., Any]:
    from pythonosc.udp_client import SimpleUDPClient

    def make(port: int, host: str = "127.0.0.1") -> SimpleUDPClient:
        return SimpleUDPClient(host, port)

    return make


@pytest.fixture
def oscsend() -> Callable[..., subprocess.CompletedProcess[str]]:
    exe = _require("oscsend", "liblo-tools")

    def send(
        port: int, address: str, types: str = "", *args: object
    ) -> subprocess.CompletedProcess[str]:
        cmd = [exe, "127.0.0.1", str(port), address]
        if types:
            cmd += [types, *map(str, args)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, f"oscsend failed: {done.stderr}"
        return done

    return send


@dataclass
class OscListener:
    """A python-osc server on its own thread that records every message it receives."""

    port: int
    messages: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def _handle(self, address: str, *args: Any) -> None:
        with self._cond:
            self.messages.append((address, args))
            self._cond.notify_all()

    def wait_for(self, address: str, timeout: float = 5.0) -> tuple[Any, ...]:
        """Args of the first message to ``address`` not yet consumed; fails after timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, (addr, args) in enumerate(self.messages):
                    if addr == address:
                        del self.messages[i]
                        return args
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [a for a, _ in self.messages]
                    raise AssertionError(f"no OSC message to {address} in {timeout} s; got {seen}")
                self._cond.wait(left)


@pytest.fixture
def osc_listener() -> Iterator[OscListener]:
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import BlockingOSCUDPServer

    dispatcher = Dispatcher()
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    listener = OscListener(port=int(server.server_address[1]))
    dispatcher.set_default_handler(listener._handle)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield listener
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def midi_backend(jack_server: DummyJackServer) -> Any:
    import mido

    return mido.Backend(JACK_MIDI_BACKEND, load=True)


@dataclass
class JackMidiOut:
    """A virtual JACK MIDI output port; ``name`` is what a substring search finds."""

    port: Any
    name: str
    jack_name: str

    def send_cc(self, control: int, value: int, channel: int = 0) -> None:
        import mido

        self.port.send(
            mido.Message("control_change", channel=channel, control=control, value=value)
        )


@pytest.fixture
def jack_midi_out(midi_backend: Any) -> Iterator[JackMidiOut]:
    name = f"distill-test-out-{uuid.uuid4().hex[:6]}"
    port = midi_backend.open_output(name, virtual=True, client_name="distill-test")
    try:
        yield JackMidiOut(port=port, name=name, jack_name=f"distill-test:{name}")
    finally:
        port.close()


@pytest.fixture
def make_audio(tmp_path: Path) -> Callable[..., Path]:
    """``make_audio("a.wav", seconds=1.0, samplerate=48000, channels=1, kind="sine",
    freq=440.0, fmt=None, amplitude=0.5, seed=0)`` → path of a synthesized file.

    kinds: ``sine``; ``noise`` (white); ``oneshots`` (decaying tones separated by silence,
    like a folder of drum samples).
    """
    import soundfile as sf

    def make(
        name: str,
        seconds: float = 1.0,
        samplerate: int = 48000,
        channels: int = 1,
        kind: str = "sine",
        freq: float = 440.0,
        fmt: str | None = None,
        amplitude: float = 0.5,
        seed: int = 0,
        folder: Path | None = None,
    ) -> Path:
        rng = np.random.default_rng(seed)
        n = int(round(seconds * samplerate))
        t = np.arange(n) / samplerate
        if kind == "sine":
            mono = np.sin(2 * np.pi * freq * t)
        elif kind == "noise":
            mono = rng.uniform(-1, 1, n)
        elif kind == "oneshots":
            mono = np.zeros(n)
            step = max(1, int(0.5 * samplerate))
            for start in range(0, n, step):
                seg = min(int(0.25 * samplerate), n - start)
                tt = np.arange(seg) / samplerate
                f = freq * (1 + (start // step) % 4 * 0.25)
                mono[start : start + seg] = np.sin(2 * np.pi * f * tt) * np.exp(-tt * 12)
        else:
            raise ValueError(f"unknown kind {kind!r}; expected sine, noise or oneshots")
        data = amplitude * np.repeat(mono[:, None], channels, axis=1)
        if channels > 1:  # make channels differ slightly, like real stereo
            data[:, 1:] *= 0.9
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, data.astype(np.float32), samplerate, format=fmt)
        return path

    return make


@pytest.fixture
def mixed_audio_dir(make_audio: Callable[..., Path], tmp_path: Path) -> Path:
    """Eight 2-s files, one-shots, sines and noise in turn (what eval's tests measure)."""
    folder = tmp_path / "data"
    for i in range(8):
        kind = ("oneshots", "sine", "noise")[i % 3]
        make_audio(
            f"f{i}.wav",
            seconds=2.0,
            kind=kind,
            freq=220.0 * (1 + i),
            seed=i,
            amplitude=0.3,
            folder=folder,
        )
    return folder


@pytest.fixture
def shots_audio_dir(tmp_path: Path, make_audio: Callable[..., Path]) -> Path:
    """Six 4-s files of one-shots and a FLAC of noise (what the training tests learn from)."""
    folder = tmp_path / "data"
    for i, freq in enumerate((220.0, 330.0, 440.0, 550.0, 660.0, 880.0)):
        make_audio(f"shots{i}.wav", seconds=4.0, kind="oneshots", freq=freq, folder=folder)
    make_audio("noise.flac", seconds=3.0, kind="noise", amplitude=0.1, folder=folder, fmt="FLAC")
    return folder
