"""Copies of a citizen's data on disk: readable by their owner only, gone once their link expired."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

from bot.privacy.exports import FilesystemExportStore


def age(path: Path, minutes: float) -> None:
    then = time.time() - minutes * 60
    os.utime(path, (then, then))


def test_a_copy_is_the_owners_only_whatever_the_umask(tmp_path: Path) -> None:
    store = FilesystemExportStore(tmp_path / "exportes")
    previous = os.umask(0o000)  # the most permissive process there could be
    try:
        token = store.put({"cedula": "1710034065"})
    finally:
        os.umask(previous)
    path = tmp_path / "exportes" / f"{token}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.get(token) == path.read_bytes()


def test_the_purge_removes_exactly_the_copies_whose_link_expired(tmp_path: Path) -> None:
    store = FilesystemExportStore(tmp_path, minutes=30)
    old, fresh = store.put({"n": 1}), store.put({"n": 2})
    age(tmp_path / f"{old}.json", 31)
    age(tmp_path / f"{fresh}.json", 29)

    assert store.purge() == 1
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == [fresh]
    assert store.get(old) is None and store.get(fresh) is not None


def test_an_expired_copy_is_not_handed_out_even_before_the_purge(tmp_path: Path) -> None:
    store = FilesystemExportStore(tmp_path, minutes=30)
    token = store.put({"n": 1})
    age(tmp_path / f"{token}.json", 31)
    assert store.get(token) is None
    assert not (tmp_path / f"{token}.json").exists()
    assert store.get("../../etc/passwd") is None  # a malformed token never reaches the disk
