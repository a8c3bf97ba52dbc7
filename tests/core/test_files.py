"""FileService: moves (files, folders, case-only), missing and returning files, watch list."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest

from photodesk.cli import watch_cmd
from photodesk.core import AssetQuery, Conflict, InvalidInput, Library, NotFound
from photodesk.core.ingest.files import FileService
from tests.conftest import make_jpeg

XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="{rating}"/>
</rdf:RDF></x:xmpmeta>"""


def _import(lib: Library, *paths: Path) -> None:
    report = lib.importer.import_paths(list(paths), workers=1)
    assert not report.failed


def _all(lib: Library) -> dict[str, int]:
    """Primary path -> asset id, for every asset."""
    return {a.path: int(a.id) for a in lib.assets.list(AssetQuery(archived=None))}


def test_relocating_a_file_keeps_the_asset_and_what_hangs_on_it(
    library: Library, tmp_path: Path
) -> None:
    src = make_jpeg(tmp_path / "a" / "IMG_0001.jpg", seed=1)
    _import(library, tmp_path / "a")
    (aid,) = _all(library).values()
    library.albums.add(library.albums.create("Holidays"), [aid])
    library.tags.add([aid], "Places/Beach")
    library.assets.set_rating([aid], 4)
    new = tmp_path / "b" / "beach.jpg"
    new.parent.mkdir()
    os.rename(src, new)
    change = FileService(library).relocate(str(src), str(new))
    assert (change.files, change.asset_ids) == (1, frozenset({aid}))
    asset = library.assets.get(aid)
    assert asset.path == str(new) and not asset.offline
    assert (asset.albums, asset.tags, asset.rating) == (("Holidays",), ("Places/Beach",), 4)


def test_relocating_a_folder_moves_everything_below_it_and_nothing_else(
    library: Library, tmp_path: Path
) -> None:
    trip = tmp_path / "Trip"
    a = make_jpeg(trip / "a.jpg", seed=1)
    (trip / "a.jpg.xmp").write_text(XMP.format(rating=3), encoding="utf-8")
    make_jpeg(trip / "sub" / "b.jpg", seed=2)
    make_jpeg(tmp_path / "Trip2" / "c.jpg", seed=3)  # a sibling sharing the prefix
    make_jpeg(tmp_path / "TRIP" / "d.jpg", seed=4)  # differs only in case (Linux: another folder)
    _import(library, tmp_path)
    before = _all(library)
    os.rename(trip, tmp_path / "Holiday")
    change = FileService(library).relocate(str(trip), str(tmp_path / "Holiday"))
    assert change.files == 3  # a.jpg, its sidecar and sub/b.jpg
    after = _all(library)
    assert sorted(after.values()) == sorted(before.values())
    assert set(after) == {
        str(tmp_path / "Holiday" / "a.jpg"),
        str(tmp_path / "Holiday" / "sub" / "b.jpg"),
        str(tmp_path / "Trip2" / "c.jpg"),
        str(tmp_path / "TRIP" / "d.jpg"),
    }
    moved = library.assets.get(before[str(a)])
    assert str(tmp_path / "Holiday" / "a.jpg.xmp") in moved.files


def test_case_only_renames_of_files_and_folders(library: Library, tmp_path: Path) -> None:
    src = make_jpeg(tmp_path / "Trip" / "IMG_0001.JPG", seed=1)
    _import(library, tmp_path / "Trip")
    (aid,) = _all(library).values()
    files = FileService(library)
    lower = src.with_name("img_0001.jpg")
    os.rename(src, lower)
    files.relocate(str(src), str(lower))
    assert library.assets.get(aid).path == str(lower)
    os.rename(tmp_path / "Trip", tmp_path / "trip")
    files.relocate(str(tmp_path / "Trip"), str(tmp_path / "trip"))
    asset = library.assets.get(aid)
    assert asset.path == str(tmp_path / "trip" / "img_0001.jpg")
    assert asset.files == (asset.path,) and not asset.offline


def test_a_move_over_a_catalogued_file_takes_its_place(library: Library, tmp_path: Path) -> None:
    a = make_jpeg(tmp_path / "in" / "a.jpg", seed=1)
    b = make_jpeg(tmp_path / "in" / "b.jpg", seed=2)
    _import(library, tmp_path / "in")
    ids = _all(library)
    os.replace(a, b)
    FileService(library).relocate(str(a), str(b))
    moved = library.assets.get(ids[str(a)])
    replaced = library.assets.get(ids[str(b)])  # kept: its content is gone, not the asset
    assert moved.path == str(b) and not moved.offline
    assert replaced.offline and str(b) not in replaced.files


def test_missing_files_keep_their_asset_and_come_back(library: Library, tmp_path: Path) -> None:
    src = make_jpeg(tmp_path / "in" / "x.jpg", seed=1)
    _import(library, tmp_path / "in")
    (aid,) = _all(library).values()
    library.albums.add(library.albums.create("Kept"), [aid])
    files = FileService(library)
    parked = tmp_path / "parked.jpg"
    os.rename(src, parked)
    assert files.mark_missing([str(src)]).asset_ids == {aid}
    asset = library.assets.get(aid)
    assert asset.offline and asset.albums == ("Kept",)
    (tile,) = library.timeline.items([aid])  # the grid dims it: missing, not on a server
    assert tile.offline and not tile.on_server
    assert files.lookup([str(src)])[str(src)].missing
    os.rename(parked, src)  # back, same size and mtime
    assert files.restore([str(src)]).files == 1
    assert not library.assets.get(aid).offline
    files.mark_missing([str(tmp_path / "in")])  # a whole folder
    assert library.assets.get(aid).offline
    os.utime(src, ns=(1, 1_000_000_000))  # back with another mtime: the content decides
    assert files.restore([str(src)]).files == 1
    assert not library.assets.get(aid).offline
    assert files.lookup([str(src)])[str(src)].mtime_ns == 1_000_000_000


def test_missing_under_flags_only_what_is_really_gone(library: Library, tmp_path: Path) -> None:
    a = make_jpeg(tmp_path / "in" / "a.jpg", seed=1)
    b = make_jpeg(tmp_path / "in" / "b.jpg", seed=2)
    hidden = make_jpeg(tmp_path / "in" / ".hidden" / "c.jpg", seed=3)
    _import(library, tmp_path / "in", hidden)  # imported by name, although a scan skips it
    ids = _all(library)
    a.unlink()
    change = FileService(library).missing_under(str(tmp_path / "in"), [str(b)])
    assert change.asset_ids == {ids[str(a)]}
    assert not library.assets.get(ids[str(hidden)]).offline


def test_a_present_duplicate_takes_over_from_a_missing_original(
    library: Library, tmp_path: Path
) -> None:
    a = make_jpeg(tmp_path / "a" / "x.jpg", seed=1)
    (tmp_path / "b").mkdir()
    copy = tmp_path / "b" / "x-copy.jpg"
    shutil.copy(a, copy)
    _import(library, tmp_path / "a")
    _import(library, tmp_path / "b")
    (aid,) = _all(library).values()
    a.unlink()
    FileService(library).mark_missing([str(a)])
    asset = library.assets.get(aid)
    assert not asset.offline and asset.path == str(copy)


def test_a_sidecar_that_turns_up_later_is_attached(library: Library, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "in" / "IMG_1.JPG", seed=1)
    make_jpeg(tmp_path / "in" / "IMG_10.JPG", seed=2)  # shares the prefix, must not match
    _import(library, tmp_path / "in")
    ids = {Path(p).name: i for p, i in _all(library).items()}
    files = FileService(library)
    side = tmp_path / "in" / "img_1.xmp"  # any case
    side.write_text(XMP.format(rating=2), encoding="utf-8")
    assert files.attach_sidecar(str(side)).asset_ids == {ids["IMG_1.JPG"]}
    assert files.attach_sidecar(str(side)).files == 0  # once
    renamed = tmp_path / "in" / "IMG_1.JPG.xmp"
    os.rename(side, renamed)
    files.mark_missing([str(side)])
    files.attach_sidecar(str(renamed))  # re-uses the missing sidecar row
    asset = library.assets.get(ids["IMG_1.JPG"])
    assert asset.files == (str(tmp_path / "in" / "IMG_1.JPG"), str(renamed))
    assert library.assets.get(ids["IMG_10.JPG"]).files == (str(tmp_path / "in" / "IMG_10.JPG"),)


def test_relocating_also_moves_import_errors_and_watched_folders(
    library: Library, tmp_path: Path
) -> None:
    (tmp_path / "old" / "w").mkdir(parents=True)
    (tmp_path / "old" / "broken.jpg").write_bytes(b"not a jpeg")
    library.importer.import_paths([tmp_path / "old"], workers=1)
    files = FileService(library)
    files.add_watched(tmp_path / "old" / "w")
    os.rename(tmp_path / "old", tmp_path / "new")
    files.relocate(str(tmp_path / "old"), str(tmp_path / "new"))
    assert [p for p, _ in library.assets.import_errors()] == [str(tmp_path / "new" / "broken.jpg")]
    assert [w.path for w in files.watched()] == [str(tmp_path / "new" / "w")]


def test_watched_folders_are_listed_validated_and_removed(library: Library, tmp_path: Path) -> None:
    files = FileService(library)
    (tmp_path / "photos" / "sub").mkdir(parents=True)
    w = files.add_watched(tmp_path / "photos", copy=True)
    assert (w.path, w.copy, w.enabled, w.polling) == (str(tmp_path / "photos"), True, True, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.copy = False  # type: ignore[misc]
    assert files.watched() == [w]
    with pytest.raises(Conflict, match="watched already"):
        files.add_watched(tmp_path / "photos")
    with pytest.raises(Conflict, match="as part of"):
        files.add_watched(tmp_path / "photos" / "sub")
    with pytest.raises(Conflict, match="remove it first"):
        files.add_watched(tmp_path)
    with pytest.raises(InvalidInput, match="not a folder"):
        files.add_watched(tmp_path / "nope")
    with pytest.raises(InvalidInput, match="inside the library"):
        files.add_watched(library.originals_dir)
    assert files.remove_watched(tmp_path / "photos") == w
    assert files.watched() == []
    with pytest.raises(NotFound):
        files.remove_watched(tmp_path / "photos")
    polled = files.add_watched(tmp_path, polling=True)  # the library inside it is fine (ignored)
    assert polled.polling is True


def _cli(lib: Library, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    watch_cmd.add_parser(parser.add_subparsers(dest="command"))
    return watch_cmd.run(lib, parser.parse_args(list(argv)))


def test_watch_command_add_list_remove(
    library: Library, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cam").mkdir()
    assert _cli(library, "watch", "add", str(tmp_path / "cam"), "--copy", "--poll") == 0
    assert "watching" in capsys.readouterr().out
    assert _cli(library, "watch", "list", "--json") == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["path"] == str(tmp_path / "cam")
    assert (row["copy"], row["polling"], row["enabled"], row["last_scan_at"]) == (
        True,
        True,
        True,
        None,
    )
    assert _cli(library, "watch", "list") == 0
    assert "[copy, poll]" in capsys.readouterr().out
    assert _cli(library, "watch", "remove", str(tmp_path / "cam")) == 0
    assert _cli(library, "watch", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == []
    assert _cli(library, "watch", "run") == 1  # nothing to watch
