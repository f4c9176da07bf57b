"""The command line as a user meets it: real processes, real devices, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from distill_live import __version__
from distill_live.cli import main
from distill_live.errors import ModelFileError, UsageError
from distill_live.jack_dummy import DummyJackServer


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "distill_live", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(
    done: subprocess.CompletedProcess[str], code: int, value: str, *fragments: str
) -> None:
    """The command failed with exit status ``code`` (2: a command-line mistake, 1: another
    error of distill_live or the system; never 70, an internal error) and said so in one line
    that names the bad ``value`` and contains every fragment."""
    assert done.returncode == code, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr}"
    assert "Traceback" not in done.stderr
    assert re.match(r"distill-live( \w+)?: error: ", lines[0]), lines[0]
    assert value and value in lines[0], (value, lines[0])
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_version_and_help() -> None:
    done = run_cli("--version")
    assert done.returncode == 0 and __version__ in done.stdout
    done = run_cli("--help")
    assert done.returncode == 0
    for command in ("play", "render", "train", "eval", "info", "devices"):
        assert command in done.stdout


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("distill-live")
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and __version__ in done.stdout


def test_unknown_command_and_bad_flag_are_one_line_errors() -> None:
    assert_one_line_error(run_cli("dance"), 2, "'dance'", "invalid choice")
    assert_one_line_error(run_cli("devices", "--colour"), 2, "--colour", "unrecognized arguments")


def test_devices_json_lists_jack_output_and_virtual_midi_port(
    jack_server: DummyJackServer, jack_midi_out: Any
) -> None:
    done = run_cli("devices", "--json", env=jack_server.env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert any(
        d["hostapi"] == "JACK Audio Connection Kit" and d["channels"] >= 2
        for d in doc["audio_outputs"]
    ), doc["audio_outputs"]
    # Our virtual *output* port is a MIDI *input* to anyone listing ports.
    assert any(
        jack_midi_out.name in p["name"] and p["api"] == "UNIX_JACK" for p in doc["midi_inputs"]
    ), doc["midi_inputs"]


def test_devices_human_readable(jack_server: DummyJackServer) -> None:
    done = run_cli("devices", env=jack_server.env)
    assert done.returncode == 0, done.stderr
    assert "Audio outputs" in done.stdout and "JACK" in done.stdout


def test_play_with_missing_model_is_one_line_error() -> None:
    done = run_cli("play", "--model", "/nonexistent", "--no-ui")
    assert_one_line_error(done, 1, "'/nonexistent'", "does not exist")


def test_info_on_garbage_is_one_line_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(os.urandom(4096))
    assert_one_line_error(
        run_cli("info", str(garbage)), 1, str(garbage), "not a distill_live model"
    )


@pytest.mark.parametrize("command", ["train", "eval"])
def test_data_commands_on_missing_folder_are_one_line_errors(command: str, tmp_path: Path) -> None:
    if command == "train":
        args = ["train", str(tmp_path / "nope"), "--out", str(tmp_path / "m.distill")]
        bad = tmp_path / "nope"  # the training data folder
    else:
        args = ["eval", str(tmp_path / "m.distill"), str(tmp_path / "nope")]
        bad = tmp_path / "m.distill"  # the model file, checked first
    done = run_cli(*args)
    assert_one_line_error(done, 1, f"'{bad}'", "does not exist")


@pytest.mark.parametrize(
    ("flags", "fragments"),
    [
        (["--codec", "codebook_sise=128"], ["--codec codebook_sise", "unknown setting"]),
        (["--codec", "pack=3"], ["--codec pack=3", "divisor of hop"]),
        (["--prior", "dropout=1.5"], ["--prior dropout=1.5", "dropout"]),
        (["--prior-input-noise", "2"], ["--prior-input-noise 2.0", "probability"]),
        (["--restart-prior"], ["--restart-prior needs --resume"]),
    ],
)
def test_train_option_mistakes_are_one_line_errors(
    tmp_path: Path, flags: list[str], fragments: list[str]
) -> None:
    """A typo in a config override is refused (not silently ignored) and reported as the
    user's mistake, not as an internal error, before any audio is read."""
    done = run_cli(
        "train",
        str(tmp_path / "no-audio-here"),
        "--out",
        str(tmp_path / "m.distill"),
        "--minutes",
        "1",
        *flags,
    )
    assert done.returncode == 1
    assert "internal error" not in done.stderr
    assert_one_line_error(done, 1, *fragments)
    assert not (tmp_path / "m.distill").exists()


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (UsageError("--x 3 is out of range; expected 0..1"), 2),
        (type("SubUsageError", (UsageError,), {})("--x 3 is out of range"), 2),
        (ModelFileError("model file 'm.distill' does not exist"), 1),
        (RuntimeError("a bug"), 70),
    ],
)
def test_exit_status_follows_the_kind_of_error(
    error: Exception, status: int, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """A command-line mistake (a UsageError or a subclass) exits 2, another error of
    distill_live 1, anything else is an internal error (70); each as one line."""
    import distill_live.commands.devices as devices

    def fail(args: Any) -> int:
        raise error

    monkeypatch.setattr(devices, "run", fail)
    assert main(["devices"]) == status
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(error) in err[0], err
    assert ("internal error" in err[0]) == (status == 70), err
