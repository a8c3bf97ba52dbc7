"""Embedded XMP write-back (``metadata.write_xmp = embedded``): ExifTool writes into the original,
its pixels stay the same, and the asset keeps its identity."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from photodesk.core import Library
from photodesk.core.media.metadata import read_sidecar
from tests.conftest import make_jpeg
from tests.core.test_xmp_sidecars import _import, _one, needs_exiftool, tags_of


def _pixels_of(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        return im.tobytes()


@needs_exiftool
def test_embedded_write_keeps_pixels_and_the_asset(library: Library, tmp_path: Path) -> None:
    from photodesk.core.ingest.results import sha1_file

    photos = tmp_path / "photos"
    jpg = make_jpeg(photos / "a.jpg", size=(160, 120), orientation=6)
    pixels = _pixels_of(jpg)
    _import(library, photos)
    a = _one(library, "a.jpg")
    album = library.albums.create("Best")
    library.albums.add(album, [a.id])
    library.xmp.set_mode("embedded")
    library.tags.add([a.id], "Family/Kids")
    library.edits.set_title([a.id], "Inside the file")
    library.edits.set_taken_at([a.id], datetime(2021, 3, 4, 5, 6, 7), 60)
    zoe = library.people.create("Zoé")
    library.people.add_face(a.id, (0.2, 0.2, 0.5, 0.6), zoe, by_user=True)
    library.xmp.flush()
    assert library.jobs.failures() == []

    t = tags_of(jpg)
    assert t["XMP-dc:Title"] == "Inside the file"
    assert t["XMP-lr:HierarchicalSubject"] == ["Family|Kids"]
    assert t["ExifIFD:DateTimeOriginal"] == "2021:03:04 05:06:07"
    assert t["ExifIFD:OffsetTimeOriginal"] == "+01:00"
    assert t["XMP-mwg-rs:RegionInfo"]["RegionList"][0]["Name"] == "Zoé"
    assert t["IFD0:Orientation"] == 6
    assert _pixels_of(jpg) == pixels  # metadata only
    now = library.assets.get(a.id)
    assert now.checksum == sha1_file(str(jpg)) != a.checksum
    assert now.albums == ("Best",) and now.people == ("Zoé",) and now.path == a.path
    assert library.thumbnails.thumb_path(now.checksum).exists()

    alone = tmp_path / "alone"  # the file travels without its sidecar
    alone.mkdir()
    shutil.copy2(jpg, alone / "a.jpg")
    with Library.open(tmp_path / "lib2") as again:
        _import(again, alone)
        b = _one(again, "a.jpg")
        assert (b.title, b.tags, b.people) == ("Inside the file", ("Family/Kids",), ("Zoé",))
        assert b.taken_at_iso() == "2021-03-04T05:06:07+01:00"


@needs_exiftool
def test_embedded_write_never_changes_pixels(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from photodesk.core.organize import embedded

    photos = tmp_path / "photos"
    jpg = make_jpeg(photos / "a.jpg")
    before = jpg.read_bytes()
    _import(library, photos)
    a = _one(library, "a.jpg")
    library.xmp.set_mode("embedded")
    calls = iter(["before", "after"])
    monkeypatch.setattr(embedded, "pixel_digest", lambda path, ft: next(calls))
    library.assets.set_rating([a.id], 2)
    library.xmp.flush()
    assert jpg.read_bytes() == before  # a write that would change pixels is not made
    (failed,) = library.jobs.failures()
    assert "would change its pixels" in (failed.last_error or "")
    assert read_sidecar(photos / "a.jpg.xmp").rating == 2  # the sidecar is written anyway
    assert not [p for p in photos.iterdir() if p.name.startswith(".")]


@needs_exiftool
def test_embedded_write_into_a_dng(library: Library, tmp_path: Path, corpus: Path) -> None:
    from photodesk.core.organize.embedded import pixel_digest

    photos = tmp_path / "photos"
    photos.mkdir()
    dng = photos / "IMG_1.DNG"
    shutil.copy(corpus / "photoprism__canon_eos_6d.dng", dng)
    sensor = pixel_digest(dng, "DNG")
    _import(library, photos)
    a = _one(library, "IMG_1.DNG")
    library.xmp.set_mode("embedded")
    library.assets.set_rating([a.id], 5)
    library.xmp.flush()
    assert library.jobs.failures() == []
    assert tags_of(dng)["XMP-xmp:Rating"] == 5
    assert pixel_digest(dng, "DNG") == sensor
    assert (photos / "IMG_1.xmp").is_file()  # RAW sidecars are name.xmp
