"""Session names and part names."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from distill_live.record import part_path, resolve_record_path, session_filename


def test_session_filename() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert session_filename(7, when) == "session_20260102T030405Z_seed7.wav"
    assert session_filename(7, when, "w64").endswith("_seed7.w64")


def test_folder_gets_new_names_each_start(tmp_path: Path) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    a = resolve_record_path(tmp_path, seed=3, when=when)
    assert a.parent == tmp_path and a.name == "session_20260102T030405Z_seed3.wav"
    a.write_bytes(b"")
    b = resolve_record_path(tmp_path, seed=3, when=when)
    assert b.name == "session_20260102T030405Z_seed3_2.wav"
    now = resolve_record_path(str(tmp_path), seed=11)
    assert re.fullmatch(r"session_\d{8}T\d{6}Z_seed11\.wav", now.name)


def test_trailing_separator_makes_the_folder(tmp_path: Path) -> None:
    p = resolve_record_path(str(tmp_path / "takes") + "/", seed=1)
    assert p.parent == tmp_path / "takes" and p.parent.is_dir()


def test_file_names_kept_or_given_a_suffix(tmp_path: Path) -> None:
    assert resolve_record_path(tmp_path / "x.wav", seed=0) == tmp_path / "x.wav"
    assert resolve_record_path(tmp_path / "x", seed=0) == tmp_path / "x.wav"
    assert resolve_record_path(tmp_path / "x", seed=0, container="w64") == tmp_path / "x.w64"


def test_part_names(tmp_path: Path) -> None:
    first = tmp_path / "take.wav"
    assert part_path(first, 1) == first
    assert part_path(first, 2) == tmp_path / "take_part002.wav"
    assert part_path(first, 12) == tmp_path / "take_part012.wav"
