"""Thumbnails and previews live in ``<dir>/ab/<checksum>.jpg``; an older library's ``ab/cd/``
files are found where they are until the ``thumbnails.layout`` job has moved them."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from photodesk.core import Library
from photodesk.core.media.thumbnails import LAYOUT_MARKER, ThumbnailStore
from photodesk.core.media.thumbnails.layout import flatten
from tests.conftest import make_jpeg


def _sum(i: int) -> str:
    return hashlib.sha1(f"asset {i}".encode()).hexdigest()


def _old_file(top: Path, checksum: str, data: bytes) -> Path:
    path = top / checksum[:2] / checksum[2:4] / f"{checksum}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _old_library(root: Path, n: int = 5) -> list[str]:
    """A library whose derivative folders have the old two-level layout and no marker."""
    Library.open(root).close()
    for top in (root / "thumbs", root / "previews"):
        (top / LAYOUT_MARKER).unlink()
    sums = [_sum(i) for i in range(n)]
    for c in sums:
        _old_file(root / "thumbs", c, b"thumb " + c.encode())
        _old_file(root / "previews", c, b"preview " + c.encode())
    return sums


def test_a_new_library_is_flat_and_marked(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        assert not lib.thumbnails.legacy
        assert (lib.thumbs_dir / LAYOUT_MARKER).is_file()
        assert (lib.previews_dir / LAYOUT_MARKER).is_file()
        c = _sum(1)
        assert lib.thumbnails.thumb_path(c) == lib.thumbs_dir / c[:2] / f"{c}.jpg"
        assert lib.thumbnails.thumb_file(c) == str(lib.thumbs_dir / c[:2] / f"{c}.jpg")


def test_imports_write_the_flat_layout(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "a.jpg", seed=1)
    make_jpeg(photos / "b.jpg", seed=2)
    with Library.open(tmp_path / "lib") as lib:
        lib.importer.import_paths([photos])
        files = sorted(p.relative_to(lib.thumbs_dir) for p in lib.thumbs_dir.rglob("*.jpg"))
        assert len(files) == 2 and all(len(p.parts) == 2 for p in files)
        assert all(lib.thumbnails.has(a.checksum) for a in lib.assets.list())


def test_old_files_are_found_until_moved_then_in_the_new_place(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    sums = _old_library(root)
    with Library.open(root) as lib:
        store = lib.thumbnails
        assert store.legacy  # no marker and files there: the move is due
        old = store.thumb_path(sums[0])
        assert old == root / "thumbs" / sums[0][:2] / sums[0][2:4] / f"{sums[0]}.jpg"
        assert old.read_bytes() == b"thumb " + sums[0].encode()
        assert store.has(sums[0])
        # new content goes to the new place even before the move
        fresh = _sum(99)
        assert store.thumb_path(fresh) == root / "thumbs" / fresh[:2] / f"{fresh}.jpg"
        # a file written in the new place since the upgrade wins over the old copy
        newer = root / "thumbs" / sums[1][:2] / f"{sums[1]}.jpg"
        newer.parent.mkdir(parents=True, exist_ok=True)
        newer.write_bytes(b"newer")
        assert store.thumb_path(sums[1]) == newer
        # a dead writer's temporary file in an old folder; something not ours stays
        shard = root / "thumbs" / sums[2][:2] / sums[2][2:4]
        stale = shard / f".{sums[2]}.4242.x1.tmp"
        stale.write_bytes(b"half")
        os.utime(stale, (time.time() - 7200, time.time() - 7200))
        (root / "thumbs" / "faces" / "ab").mkdir(parents=True)  # face crops are not shards

        result = flatten(store)
        assert result.moved == 2 * len(sums) - 1 and result.dropped == 1 and result.left == 0
        assert not store.legacy
        for c in sums:
            t, p = store.thumb_path(c), store.preview_path(c)
            assert t == root / "thumbs" / c[:2] / f"{c}.jpg"
            assert p == root / "previews" / c[:2] / f"{c}.jpg"
            assert t.read_bytes() == (b"newer" if c == sums[1] else b"thumb " + c.encode())
            assert p.read_bytes() == b"preview " + c.encode()
        nested = [p for p in (root / "thumbs").glob("??/??") if p.is_dir()]
        assert nested == [] and not stale.exists()
        assert (root / "thumbs" / "faces" / "ab").is_dir()
        assert flatten(store).as_dict() == {"moved": 0, "dropped": 0, "left": 0}  # idempotent
    with Library.open(root) as again:  # marked: no fallback, no job
        assert not again.thumbnails.legacy


def test_a_cancelled_move_resumes_and_nothing_is_lost(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    sums = _old_library(root, n=40)
    store = ThumbnailStore(root / "thumbs", root / "previews")
    calls = []

    def stop_after_three() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise InterruptedError("cancelled")

    with pytest.raises(InterruptedError):
        flatten(store, stop_after_three)
    assert store.legacy  # not marked: lookups still look in both places
    assert all(store.thumb_path(c).read_bytes() == b"thumb " + c.encode() for c in sums)
    moved = flatten(store).moved
    assert 0 < moved < 2 * len(sums)
    assert all(store.thumb_path(c) == root / "thumbs" / c[:2] / f"{c}.jpg" for c in sums)
    assert all(store.preview_path(c).read_bytes() == b"preview " + c.encode() for c in sums)


def test_the_background_job_moves_an_old_library(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    sums = _old_library(root)
    with Library.open(root) as lib:
        lib.start_background(watch=False)
        try:
            deadline = time.monotonic() + 30
            while lib.thumbnails.legacy and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            lib.stop_background()
        assert not lib.thumbnails.legacy
        assert (root / "thumbs" / LAYOUT_MARKER).is_file()
        assert (root / "previews" / LAYOUT_MARKER).is_file()
        assert all(lib.thumbnails.thumb_path(c).parent.parent == root / "thumbs" for c in sums)
