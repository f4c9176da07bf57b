"""Each fixture of the test rig works, with the real parts."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from distill_live.jack_dummy import DummyJackServer
from tests.rig import jack_connect, jack_ports


def test_jack_server_is_up_with_playback_ports(jack_server: DummyJackServer) -> None:
    assert jack_server.alive()
    ports = jack_ports()
    assert "system:playback_1" in ports and "system:playback_2" in ports


def test_sine_through_sounddevice_to_jack_without_underflows(jack_server: DummyJackServer) -> None:
    import sounddevice as sd  # only now: its device list is frozen at import

    devices = [d for d in sd.query_devices() if d["max_output_channels"] > 0]
    jack_api = [i for i, api in enumerate(sd.query_hostapis()) if "JACK" in api["name"]]
    assert jack_api, f"PortAudio has no JACK host API: {sd.query_hostapis()}"
    jack_devices = [d for d in devices if d["hostapi"] == jack_api[0]]
    assert jack_devices, f"no JACK output device among {[d['name'] for d in devices]}"

    samplerate = 48000
    phase = [0]
    underflows = [0]
    callbacks = [0]
    peak = [0.0]
    two_pi_f = 2 * np.pi * 440.0 / samplerate

    def callback(outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            underflows[0] += 1
        n = np.arange(phase[0], phase[0] + frames)
        outdata[:, 0] = 0.2 * np.sin(two_pi_f * n)
        outdata[:, 1] = outdata[:, 0]
        phase[0] += frames
        callbacks[0] += 1
        peak[0] = max(peak[0], float(np.abs(outdata).max()))

    # PortAudio passes each xrun of jackd itself (its dummy driver woke a period late: a
    # machine hiccup, seen in CI) to every client as an underflow: the client adds none
    server_xruns = jack_server.xruns()
    with sd.OutputStream(
        device=jack_devices[0]["index"], samplerate=samplerate, channels=2, callback=callback
    ):
        time.sleep(2.0)
    assert underflows[0] <= jack_server.xruns() - server_xruns, (underflows, jack_server.xruns())
    # 2 s at 48 kHz in 256-frame periods is 375 callbacks; the real clock must have driven them.
    assert callbacks[0] >= 300, callbacks[0]
    assert 0.19 < peak[0] <= 0.2 + 1e-6


def test_cc_through_jack_midi(jack_midi_out: Any, midi_backend: Any) -> None:
    import mido

    inport = midi_backend.open_input("distill-test-in", virtual=True, client_name="distill-test-rx")
    try:
        jack_connect(jack_midi_out.jack_name, "distill-test-rx:distill-test-in")
        time.sleep(0.2)
        jack_midi_out.send_cc(20, 99, channel=3)
        deadline = time.monotonic() + 5
        got = None
        while got is None and time.monotonic() < deadline:
            got = inport.poll()
            time.sleep(0.01)
        assert got == mido.Message("control_change", channel=3, control=20, value=99)
    finally:
        inport.close()


def test_osc_from_oscsend_is_received(oscsend: Any, osc_listener: Any) -> None:
    oscsend(osc_listener.port, "/distill/temperature", "f", 0.75)
    oscsend(osc_listener.port, "/distill/top_k", "i", 40)
    assert osc_listener.wait_for("/distill/temperature") == (0.75,)
    assert osc_listener.wait_for("/distill/top_k") == (40,)


def test_osc_client_fixture_talks_real_udp(osc_client: Any, osc_listener: Any) -> None:
    osc_client(osc_listener.port).send_message("/distill/top_p", 0.5)
    assert osc_listener.wait_for("/distill/top_p") == (0.5,)


def test_free_udp_port_can_be_bound(free_udp_port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", free_udp_port))


def test_make_audio_writes_what_was_asked(make_audio: Any) -> None:
    path: Path = make_audio(
        "x.flac", seconds=0.5, samplerate=44100, channels=2, kind="sine", freq=1000.0
    )
    data, rate = sf.read(path)
    assert rate == 44100 and data.shape == (22050, 2)
    spectrum = np.abs(np.fft.rfft(data[:, 0]))
    assert abs(np.argmax(spectrum) * rate / len(data) - 1000.0) < 5
    gaps = make_audio("g.wav", seconds=2.0, kind="oneshots")
    mono, _ = sf.read(gaps)
    assert np.mean(np.abs(mono) < 1e-4) > 0.3  # one-shots leave silence between them


def test_jackd_stops_by_pid() -> None:
    server = DummyJackServer(set_env=False).start()
    pid = server.pid
    assert pid is not None and server.alive()
    server.stop()
    assert not server.alive()
    done = subprocess.run(["ps", "-p", str(pid)], capture_output=True)
    assert done.returncode != 0  # the process is gone
