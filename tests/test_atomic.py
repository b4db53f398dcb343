"""Atomic outputs (dsc.atomic): concurrent writers of one file, durability of the rename."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dsc.atomic import write_json, write_with


def test_two_writers_of_the_same_file_do_not_share_a_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "result.json"

    def first(tmp: Path) -> None:
        tmp.write_text("first")
        # A retry of the same task writes the same file while the first is still at work.
        write_json({"writer": "second"}, target)

    write_with(first, target)
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.json"]


def test_a_failed_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    def failing(tmp: Path) -> None:
        tmp.write_text("partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_with(failing, tmp_path / "result.json")
    assert list(tmp_path.iterdir()) == []


def test_the_file_and_its_directory_are_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_json({"a": 1}, tmp_path / "result.json")
    assert synced == ["file", "dir"]
