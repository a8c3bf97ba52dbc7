"""Catalog backups (rotation, verification, when due) and every finding of ``check``."""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlean
from sqlalchemy import delete, select, update

from photodesk.cli import check_cmd
from photodesk.core import InvalidInput, Library, LibraryError
from photodesk.core.catalog.db.schema import Asset, AssetFile
from photodesk.core.maintenance import backups as backups_mod
from photodesk.core.maintenance.check import (
    backup_catalog,
    backup_if_due,
    check,
    integrity_problems,
    list_backups,
)
from tests.conftest import make_jpeg

NOW = timedelta(0)  # grace for files made by the test itself a moment ago
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def filled(library: Library, tmp_path: Path) -> Library:
    for i in range(4):
        make_jpeg(tmp_path / "photos" / f"p{i}.jpg", seed=i)
    assert library.importer.import_paths([tmp_path / "photos"], workers=1).imported == 4
    return library


def _age(path: Path, seconds: float = 3600) -> Path:
    old = time.time() - seconds
    os.utime(path, (old, old))
    return path


def _write(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _originals(lib: Library) -> dict[int, str]:
    with lib.read() as s:
        rows = s.execute(
            select(AssetFile.asset_id, AssetFile.path).where(AssetFile.role == "original")
        )
        return {a: p for a, p in rows}


def _fake_backup(lib: Library, stamp: str) -> Path:
    return _write(lib.root / "backups" / f"catalog-{stamp}.db")


# ----- backups --------------------------------------------------------------------------------


def test_backup_is_a_verified_self_contained_copy(filled: Library) -> None:
    dest = backup_catalog(filled)
    assert dest.parent == filled.root / "backups"
    assert datetime.strptime(dest.name, "catalog-%Y%m%d-%H%M%S.db")
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]  # no temp, no -wal
    assert integrity_problems(dest) == []
    conn = sqlean.connect(str(dest))
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 4
    finally:
        conn.close()
    assert list_backups(filled) == [dest]


def test_backups_are_rotated_keeping_the_newest(library: Library) -> None:
    old = [_fake_backup(library, f"2020010{d}-120000") for d in range(1, 6)]
    _write(library.root / "backups" / "notes.txt")  # not a backup: never touched
    made = backup_catalog(library, keep=3)
    assert list_backups(library) == [old[3], old[4], made]
    assert (library.root / "backups" / "notes.txt").exists()
    with pytest.raises(InvalidInput):
        backup_catalog(library, keep=0)


def test_a_backup_that_fails_verification_keeps_the_older_ones(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = [_fake_backup(library, f"2020010{d}-120000") for d in range(1, 4)]
    monkeypatch.setattr(backups_mod, "integrity_problems", lambda _: ["page 7: btree damaged"])
    with pytest.raises(LibraryError, match="integrity check"):
        backup_catalog(library, keep=1)
    assert list_backups(library) == old
    assert sorted(p.name for p in (library.root / "backups").iterdir()) == [p.name for p in old]


def test_integrity_problems_reads_what_sqlite_says(filled: Library, tmp_path: Path) -> None:
    dest = backup_catalog(filled)
    assert integrity_problems(dest) == []
    _corrupt_index(dest)
    problems = integrity_problems(dest)
    assert problems and all("missing from index ix_assets_owner_taken" in p for p in problems)
    assert integrity_problems(_write(tmp_path / "junk.db", b"not a database" * 100))
    assert integrity_problems(tmp_path / "nope.db") and not (tmp_path / "nope.db").exists()


def test_backup_if_due(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    first = backup_if_due(library)
    assert first is not None and list_backups(library) == [first]
    assert backup_if_due(library) is None  # the newest is less than a day old
    # Two days old, but the catalog has not changed since: not worth a copy.
    stale = first.with_name(f"catalog-{(datetime.now() - timedelta(days=2)):%Y%m%d-%H%M%S}.db")
    first.rename(stale)
    for path in library.root.glob("catalog.db*"):
        _age(path, 3 * 86400)

    def no_copy(*_: object) -> None:
        raise AssertionError("backup_if_due copied the catalog when nothing was due")

    monkeypatch.setattr(backups_mod, "_snapshot", no_copy)
    assert backup_if_due(library) is None
    monkeypatch.undo()
    library.albums.create("Changed")  # a write: now it is due
    made = backup_if_due(library, keep=1)
    assert made is not None and list_backups(library) == [made]


# ----- check ----------------------------------------------------------------------------------


def test_a_sound_library_is_ok(filled: Library) -> None:
    seen: list[tuple[int, int]] = []
    report = check(filled, verify_checksums=True, progress=lambda d, t: seen.append((d, t)))
    assert report.ok and report.catalog_ok and report.unresolved() == 0
    assert report.files_checked == 4 and seen[-1] == (4, 4)
    fixed = check(filled, fix=True, grace=NOW)
    assert fixed.ok and fixed.removed == () and fixed.marked_missing == 0


def test_missing_files_are_marked_offline_and_back_online(filled: Library) -> None:
    originals = _originals(filled)
    asset_id, path = next(iter(originals.items()))
    moved = Path(path).rename(Path(path).with_suffix(".away"))
    report = check(filled)
    assert [(i.asset_id, i.path, i.role) for i in report.missing] == [(asset_id, path, "original")]
    assert report.unresolved() == 1
    fixed = check(filled, fix=True)
    assert fixed.marked_missing == 1 and fixed.marked_offline == (asset_id,)
    assert fixed.unresolved() == 0
    assert filled.assets.get(asset_id).offline
    with filled.read() as s:
        assert s.scalar(select(AssetFile.missing).where(AssetFile.path == path)) is True
    again = check(filled, fix=True)  # still missing, already marked: nothing new to do
    assert len(again.missing) == 1 and again.marked_missing == 0 and again.marked_offline == ()
    moved.rename(path)
    back = check(filled)
    assert [i.path for i in back.reappeared] == [path] and not back.missing
    fixed = check(filled, fix=True)
    assert fixed.back_online == (asset_id,) and not filled.assets.get(asset_id).offline
    assert check(filled).ok


def test_changed_files_and_checksum_mismatches(filled: Library) -> None:
    paths = sorted(_originals(filled).values())
    grown, touched, swapped = Path(paths[0]), Path(paths[1]), Path(paths[2])
    size = grown.stat().st_size
    grown.write_bytes(grown.read_bytes() + b"tail")
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    # Same size and time, other content: only re-reading the file tells.
    st = swapped.stat()
    data = bytearray(swapped.read_bytes())
    data[-3] ^= 0xFF
    swapped.write_bytes(bytes(data))
    os.utime(swapped, ns=(st.st_atime_ns, st.st_mtime_ns))
    report = check(filled)
    details = {Path(i.path).name: i.detail for i in report.changed}
    assert details == {grown.name: f"size {size} -> {size + 4}", touched.name: "modified"}
    assert report.checksum_mismatches == () and not report.verified_checksums
    verified = check(filled, verify_checksums=True, fix=True)
    assert {Path(i.path).name for i in verified.checksum_mismatches} == {grown.name, swapped.name}
    assert verified.unresolved() == 4  # fix re-imports nothing: a re-import does that
    assert all(Path(p).exists() for p in paths)


def test_orphan_derivatives_and_temp_files_are_removed(filled: Library) -> None:
    lib = filled
    kept = sorted(p for p in lib.thumbs_dir.rglob("*.jpg"))
    orphan_thumb = _age(_write(lib.thumbnails.thumb_path(SHA)))
    orphan_preview = _age(_write(lib.thumbnails.preview_path(SHA)))
    temps = [
        _age(_write(lib.thumbs_dir / "ab" / "cd" / ".abcdef0123456789.k2j4h5.tmp")),
        _age(_write(lib.previews_dir / ".0123456789abcdef.x1.tmp")),
        _age(_write(lib.originals_dir / "2023" / "07" / ".p1.jpg.4242.photodesk-tmp")),
        _age(_write(lib.root / "backups" / ".catalog-20240101-000000.77.db.tmp")),
    ]
    fresh = _write(lib.thumbs_dir / "ef" / "01" / ".ef01.in-flight.tmp")  # an import is writing
    unrelated = _age(_write(lib.thumbs_dir / "README.txt"))
    report = check(lib)
    assert set(report.orphan_derivatives) == {str(orphan_thumb), str(orphan_preview)}
    assert set(report.temp_files) == {str(p) for p in temps}
    assert report.unresolved() == 6
    fixed = check(lib, fix=True)
    assert set(fixed.removed) == {str(orphan_thumb), str(orphan_preview), *map(str, temps)}
    assert fixed.unresolved() == 0
    assert not orphan_thumb.exists() and not orphan_thumb.parent.exists()  # its empty shard
    assert fresh.exists() and unrelated.exists()
    assert sorted(p for p in lib.thumbs_dir.rglob("*.jpg")) == kept
    assert all(lib.thumbnails.has(a.checksum) for a in lib.assets.list())
    assert str(fresh) in check(lib, grace=NOW).temp_files


def test_derivatives_claimed_while_checking_are_kept(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import may reuse old derivatives by checksum between the scan and the removal."""
    import photodesk.core.maintenance.check as maintenance

    thumb = _age(_write(filled.thumbnails.thumb_path(SHA)))
    real = maintenance.find_leftovers

    def scan_then_import(*args: object, **kwargs: object) -> object:
        found = real(*args, **kwargs)  # type: ignore[arg-type]
        with filled.write() as s:  # an import commits an asset with that content meanwhile
            s.execute(update(Asset).where(Asset.id == min(_originals(filled))).values(checksum=SHA))
        return found

    monkeypatch.setattr(maintenance, "find_leftovers", scan_then_import)
    report = check(filled, fix=True)
    assert thumb.exists() and report.removed == () and report.orphan_derivatives == ()


def test_untracked_copies_are_reported_never_deleted(library: Library, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "card" / "a.jpg", seed=1)
    library.importer.import_paths([tmp_path / "card"], copy=True, workers=1)
    stray = _age(_write(library.originals_dir / "2023" / "07" / "a_1.jpg", b"\xff\xd8 copy"))
    hidden = _age(_write(library.originals_dir / ".DS_Store"))
    report = check(library, fix=True)
    assert report.untracked_copies == (str(stray),)
    assert report.unresolved() == 1 and report.removed == ()
    assert stray.exists() and hidden.exists()
    # The memory card the copies came from is gone: that is not a problem.
    (tmp_path / "card" / "a.jpg").unlink()
    assert check(library).missing == ()


def test_assets_without_an_original_row_are_reported_and_kept(filled: Library) -> None:
    asset_id = min(_originals(filled))
    with filled.write() as s:
        s.execute(delete(AssetFile).where(AssetFile.asset_id == asset_id))
    report = check(filled, fix=True)
    assert report.assets_without_original == (asset_id,)
    assert report.unresolved() == 1
    assert filled.assets.get(asset_id).id == asset_id


def test_broken_references_and_a_damaged_catalog(filled: Library, tmp_path: Path) -> None:
    conn = sqlean.connect(str(filled.db_path))
    try:
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute(
            "INSERT INTO asset_files (asset_id, role, path, size, mtime_ns, copied, missing) "
            "VALUES (999, 'sidecar', '/nowhere.xmp', 1, 1, 0, 0)"
        )
        conn.commit()
    finally:
        conn.close()
    report = check(filled)
    (problem,) = report.foreign_keys
    assert problem.startswith("asset_files row ") and problem.endswith("-> assets")
    assert not report.catalog_ok and report.unresolved() >= 1
    # A damaged catalog is only reported; nothing is fixed on top of it.
    root = filled.root
    filled.close()
    _corrupt_index(root / "catalog.db")
    orphan = _age(_write(root / "thumbs" / SHA[:2] / f"{SHA}.jpg"))
    lib = Library.open(root)
    try:
        damaged = check(lib, fix=True)
        assert damaged.integrity
        assert all("ix_assets_owner_taken" in line for line in damaged.integrity)
        assert damaged.files_checked == 0 and not damaged.fixed and orphan.exists()
        with pytest.raises(LibraryError, match="integrity"):
            backup_catalog(lib)
        assert list_backups(lib) == []
    finally:
        lib.close()


def test_fix_writes_only_the_rows_it_means(filled: Library) -> None:
    """Marks go through the single writer and touch only the missing file's rows."""
    originals = _originals(filled)
    gone = max(originals)
    Path(originals[gone]).unlink()
    with filled.write() as s:
        s.execute(update(Asset).values(rating=3))
    published: list[object] = []
    filled.events.subscribe(published.append)
    check(filled, fix=True)
    with filled.read() as s:
        flags = {a: bool(f) for a, f in s.execute(select(Asset.id, Asset.offline))}
        ratings = set(s.scalars(select(Asset.rating)))
    assert flags == {a: a == gone for a in originals} and ratings == {3}
    assert [getattr(e, "assets", None) for e in published] == [frozenset({gone})]


# ----- command line ---------------------------------------------------------------------------


def _cli(lib: Library, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="photodesk")
    check_cmd.add_parser(parser.add_subparsers(dest="command"))
    return check_cmd.run(lib, parser.parse_args(argv))


def test_cli_check_and_backup(filled: Library, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(filled, "check") == 0
    assert "no problems found" in capsys.readouterr().out
    path = min(_originals(filled).values())
    Path(path).unlink()
    assert _cli(filled, "check", "--json") == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and [m["path"] for m in out["missing"]] == [path]
    assert _cli(filled, "check", "--fix", "--verify") == 0
    text = capsys.readouterr().out
    assert "missing: 1" in text and "1 photos offline" in text
    assert _cli(filled, "backup", "--keep", "2") == 0
    made = Path(capsys.readouterr().out.strip())
    assert list_backups(filled) == [made]
    assert _cli(filled, "backup", "--keep", "0") == 2


def _corrupt_index(db: Path) -> None:
    """Damage one index page the way a torn write would: integrity_check names the index."""
    conn = sqlean.connect(str(db))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'ix_assets_owner_taken'"
        ).fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    with open(db, "r+b") as fh:
        fh.seek(root * page_size - 8)  # the last cell of the index's only page
        fh.write(b"\x07" * 8)
