"""Import says what it could not read, --copy copies what was referenced in place before, and
a BigTIFF is a photo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from photodesk.cli.main import main
from photodesk.core import Library
from photodesk.core.ingest import scanner
from tests.conftest import make_jpeg


def _unreadable(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    """Make ``folders`` unlistable: chmod 000, and where that does not stop us (root, as in CI)
    the same PermissionError the kernel would give."""
    for folder in folders:
        folder.chmod(0)
    try:
        os.listdir(folders[0])
    except PermissionError:
        return
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path) in folders:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(scanner.os, "scandir", scandir)


def test_unreadable_folders_are_listed_as_failed(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "card"
    make_jpeg(src / "ok.jpg", seed=1)
    make_jpeg(src / "locked" / "hidden.jpg", seed=2)
    make_jpeg(src / "open" / "deeper" / "locked2" / "x.jpg", seed=3)
    locked = [src / "locked", src / "open" / "deeper" / "locked2"]
    _unreadable(monkeypatch, *locked)
    try:
        report = library.importer.import_paths([src], workers=1)
    finally:
        for folder in locked:
            folder.chmod(0o755)
    assert report.imported == 1
    assert sorted((f.path, f.error) for f in report.failed) == [
        (str(folder), "cannot read the folder: Permission denied") for folder in locked
    ]


def test_an_unreadable_top_folder_is_a_failure_too(tmp_path: Path, monkeypatch, capsys) -> None:
    src = tmp_path / "share"
    make_jpeg(src / "a.jpg")
    _unreadable(monkeypatch, src)
    try:
        code = main(["--library", str(tmp_path / "lib"), "import", str(src)])
    finally:
        src.chmod(0o755)
    assert code == 1  # nothing imported, and it says why
    out = capsys.readouterr().out
    assert f"failed: {src}: cannot read the folder: Permission denied" in out


def test_copy_takes_a_copy_of_a_file_imported_in_place(library: Library, tmp_path: Path) -> None:
    src = make_jpeg(tmp_path / "card" / "a.jpg", when="2022:05:06 07:08:09")
    first = library.importer.import_paths([src.parent], workers=1)
    assert first.imported == 1
    (aid,) = first.asset_ids
    assert library.assets.get(aid).path == str(src)  # referenced where it is

    again = library.importer.import_paths([src.parent], copy=True, workers=1)
    assert (again.copied, again.imported, again.unchanged, again.failed) == (1, 0, 0, ())
    copy = Path(library.assets.get(aid).path)
    assert copy == library.originals_dir / "2022" / "05" / "a.jpg"
    assert copy.read_bytes() == src.read_bytes() and src.exists()  # the original stays
    assert library.assets.ids() == [aid]  # the same asset, not a duplicate

    third = library.importer.import_paths([src.parent], copy=True, workers=1)
    assert third.copied == 0  # copied once: the library holds it now
    assert sorted(p.name for p in library.originals_dir.rglob("*.jpg")) == ["a.jpg"]


def test_a_bigtiff_is_imported_as_a_photo(library: Library, tmp_path: Path) -> None:
    """tests/data/big.tif starts "II+" (BigTIFF, 64-bit offsets): it was "not a photo"."""
    from tests.conftest import DATA

    src = tmp_path / "scans" / "scan.tif"
    src.parent.mkdir()
    src.write_bytes((DATA / "big.tif").read_bytes())
    report = library.importer.import_paths([src.parent], workers=1)
    assert (report.imported, report.failed) == (1, ())
    (aid,) = report.asset_ids
    asset = library.assets.get(aid)
    assert (asset.file_type, asset.width, asset.height, asset.make) == ("TIFF", 48, 32, "EPSON")
    assert asset.has_thumbnail


def test_a_truncated_heic_is_said(library: Library, tmp_path: Path) -> None:
    """Cut short, a HEIC keeps its metadata; its picture is incomplete and the import says so
    (a single-image one cannot be shown at all, so it fails with the decoder's reason)."""
    from photodesk.core.media.metadata import read_metadata
    from tests.conftest import DATA

    data = (DATA / "phone.heic").read_bytes()
    cut = tmp_path / "card" / "cut.heic"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) * 4 // 5])
    meta = read_metadata(cut)
    assert meta.model == "iPhone 15 Pro"
    assert any(w.startswith("truncated HEIF: ") for w in meta.warnings), meta.warnings
    report = library.importer.import_paths([cut.parent], workers=1)
    assert report.imported == 0 and "truncated" in report.failed[0].error


def test_a_truncated_iphone_heic_is_imported_with_a_warning(
    library: Library, tmp_path: Path, corpus: Path
) -> None:
    """An iPhone HEIC (a grid of tiles) cut short still decodes, with tiles missing: it was
    imported without a word."""
    data = (corpus / "immich__heic_IMG_2682.heic").read_bytes()
    cut = tmp_path / "card" / "IMG_2682.HEIC"
    cut.parent.mkdir()
    cut.write_bytes(data[: len(data) * 6 // 10])
    report = library.importer.import_paths([cut.parent], workers=1)
    assert report.imported == 1
    assert any(w.error.startswith("truncated HEIF: ") for w in report.warnings), report.warnings
