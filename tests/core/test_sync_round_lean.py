"""A sync round's lean paths: thumbnails written whole or not at all without a lookup per file,
and the settings a round reads read once (a key the round writes is read again)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from photodesk.core import Library
from photodesk.core.catalog.db import settings
from photodesk.core.sync import service
from photodesk.core.sync.client import CURSOR_KEY, THUMBS_KEY, _ThumbWriter


def _writer(root: Path) -> _ThumbWriter:
    return _ThumbWriter(lambda c: os.path.join(root, c[0:2], c + ".jpg"))


def test_thumbnails_in_new_folders_are_known_without_a_lookup(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    assert not writer.exists("ab" * 20)  # its folder is made here: nothing can be in it
    writer.write("ab" * 20, b"jpeg")
    assert writer.exists("ab" * 20)
    assert (tmp_path / "ab" / ("ab" * 20 + ".jpg")).read_bytes() == b"jpeg"
    # a folder that was there may hold thumbnails made before: those are looked up
    there = tmp_path / "cd"
    there.mkdir(parents=True)
    (there / ("cd" * 20 + ".jpg")).write_bytes(b"old")
    fresh = _writer(tmp_path)
    assert fresh.exists("cd" * 20)
    assert not fresh.exists("cd" + "ef" * 19)
    assert sorted(p.name for p in there.iterdir()) == ["cd" * 20 + ".jpg"]


def test_a_thumbnail_cut_short_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _writer(tmp_path)
    assert not writer.exists("ef" * 20)
    calls: list[int] = []

    def full(fd: int, data: Any) -> int:
        if calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        calls.append(fd)
        return 3  # a part went to disk, then the disk is full

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(OSError, match="No space"):
        writer.write("ef" * 20, b"jpeg bytes")
    monkeypatch.undo()
    assert list((tmp_path / "ef").iterdir()) == []  # neither the file nor a temporary one
    assert not writer.exists("ef" * 20)


def test_a_round_reads_its_settings_once_and_its_own_writes_again(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    with library.write() as s:
        settings.put(s, CURSOR_KEY, 5)
    reads: list[list[str]] = []
    real = settings.read

    def counted(s: Any, keys: Any) -> dict[str, Any]:
        reads.append(list(keys))
        return real(s, keys)

    monkeypatch.setattr(settings, "read", counted)
    sync = library.sync
    sync._round_settings = service._RoundSettings(library)
    try:
        assert len(reads) == 1 and CURSOR_KEY in reads[0]
        for _ in range(3):
            assert sync.setting(CURSOR_KEY, 0) == 5
            assert sync.setting(THUMBS_KEY, True) is True  # not stored: the default
            assert sync.pairing() is None
        assert len(reads) == 1  # from the round's copy
        assert sync.setting("sync.conflicts") is None and len(reads) == 2  # read when asked
        assert sync.setting("sync.conflicts") is None and len(reads) == 2
        with library.write() as s:
            sync.put_setting(s, CURSOR_KEY, 9)
        assert sync.setting(CURSOR_KEY, 0) == 9  # written in the round: read again
        assert len(reads) == 3
        with library.write() as s:
            settings.put(s, THUMBS_KEY, False)
        seen: list[Any] = []  # another thread (the app's) reads the catalog, not the copy
        other = threading.Thread(target=lambda: seen.append(sync.setting(THUMBS_KEY, True)))
        other.start()
        other.join()
        assert seen == [False]
    finally:
        sync._round_settings = None
    assert sync.setting(THUMBS_KEY, True) is False
