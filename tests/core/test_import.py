"""Importing: dedup, unchanged re-runs, moves, copies, stacks, sidecars, places and bad files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from photodesk.core import AssetQuery, Library
from tests.conftest import make_jpeg


def _ids(lib: Library) -> list[int]:
    return sorted(int(i) for i in lib.assets.ids(AssetQuery(archived=None)))


def test_import_reads_metadata_and_makes_thumbnails(library: Library, tmp_path: Path) -> None:
    src = make_jpeg(
        tmp_path / "in" / "IMG_0001.jpg",
        when="2023:07:04 10:15:00",
        offset="+02:00",
        gps=(48.8530, 2.3499),
        make="Canon",
        model="Canon EOS 6D",
        orientation=6,
    )
    report = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert (report.scanned, report.imported, report.failed) == (1, 1, ())
    (asset,) = library.assets.list()
    assert asset.path == str(src)
    assert asset.taken_at_iso() == "2023-07-04T10:15:00+02:00"
    assert asset.taken_at_source == "exif:DateTimeOriginal"
    assert (asset.make, asset.model, asset.orientation) == ("Canon", "Canon EOS 6D", 6)
    assert (asset.width, asset.height) == (120, 80)
    assert asset.latitude == pytest.approx(48.8530, abs=1e-4)
    assert (asset.city, asset.country) == ("Paris", "FR")
    assert library.thumbnails.has(asset.checksum)
    assert asset.kind == "photo" and asset.mime == "image/jpeg"


def test_duplicates_are_counted_not_imported_twice(library: Library, tmp_path: Path) -> None:
    a = make_jpeg(tmp_path / "a" / "one.jpg", seed=1)
    (tmp_path / "b").mkdir()
    shutil.copy(a, tmp_path / "b" / "copy-of-one.jpg")
    make_jpeg(tmp_path / "b" / "two.jpg", seed=2)
    report = library.importer.import_paths([tmp_path / "a", tmp_path / "b"], workers=1)
    assert (report.imported, report.duplicates) == (2, 1)
    assert len(_ids(library)) == 2
    again = library.importer.import_paths([tmp_path], workers=1)
    assert (again.imported, again.duplicates, again.unchanged) == (0, 0, 3)


def test_rerun_skips_unchanged_files_without_rehashing(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i)
    assert library.importer.import_paths([tmp_path / "in"], workers=1).imported == 5
    import photodesk.core.ingest.analyze as analyze

    def boom(*_: object) -> str:
        raise AssertionError("an unchanged file was hashed again")

    monkeypatch.setattr(analyze, "sha1_file", boom)
    report = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert (report.unchanged, report.imported) == (5, 0)


def test_a_moved_file_keeps_its_asset_albums_tags_and_rating(
    library: Library, tmp_path: Path
) -> None:
    src = make_jpeg(tmp_path / "old" / "beach.jpg", seed=3)
    library.importer.import_paths([tmp_path / "old"], workers=1)
    (asset_id,) = _ids(library)
    library.albums.add(library.albums.create("Holidays"), [asset_id])
    library.tags.add([asset_id], "Places/Beach")
    library.assets.set_rating([asset_id], 4)
    (tmp_path / "new" / "sub").mkdir(parents=True)
    moved = tmp_path / "new" / "sub" / "Beach-renamed.jpg"
    os.rename(src, moved)
    report = library.importer.import_paths([tmp_path / "new"], workers=1)
    assert (report.relinked, report.imported, report.duplicates) == (1, 0, 0)
    asset = library.assets.get(asset_id)
    assert asset.path == str(moved)
    assert (asset.albums, asset.tags, asset.rating) == (("Holidays",), ("Places/Beach",), 4)


def test_copy_uses_the_storage_template_and_never_overwrites(
    library: Library, tmp_path: Path
) -> None:
    make_jpeg(tmp_path / "card1" / "DSC_0001.JPG", when="2021:12:24 18:00:00", seed=1)
    make_jpeg(tmp_path / "card2" / "DSC_0001.JPG", when="2021:12:25 09:00:00", seed=2)
    report = library.importer.import_paths(
        [tmp_path / "card1", tmp_path / "card2"], copy=True, workers=1
    )
    assert report.imported == 2
    target = library.originals_dir / "2021" / "12"
    assert sorted(p.name for p in target.iterdir()) == ["DSC_0001.JPG", "DSC_0001_1.JPG"]
    paths = sorted(a.path for a in library.assets.list())
    assert all(p.startswith(str(target)) for p in paths)
    assert (tmp_path / "card1" / "DSC_0001.JPG").exists()  # the source is left alone
    assert not list(library.originals_dir.rglob("*.photodesk-tmp"))


def test_custom_template(library: Library, tmp_path: Path) -> None:
    make_jpeg(
        tmp_path / "in" / "x.jpg",
        when="2020:02:03 04:05:06",
        make="NIKON CORPORATION",
        model="NIKON D70",
    )
    library.importer.import_paths(
        [tmp_path / "in"], copy=True, template="{model}/{year}-{month}-{day}/{filename}", workers=1
    )
    (asset,) = library.assets.list()
    assert asset.path == str(library.originals_dir / "NIKON D70" / "2020-02-03" / "x.jpg")


def test_hidden_and_system_folders_are_skipped(library: Library, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "in" / "real.jpg", seed=1)
    make_jpeg(tmp_path / "in" / "@eaDir" / "real.jpg" / "SYNOPHOTO_THUMB_XL.jpg", seed=2)
    make_jpeg(tmp_path / "in" / ".thumbnails" / "t.jpg", seed=3)
    make_jpeg(tmp_path / "in" / "#recycle" / "gone.jpg", seed=4)
    (tmp_path / "in" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / "in" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    make_jpeg(tmp_path / "in" / "download.jpg.part", seed=5)
    report = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert (report.scanned, report.imported, report.failed) == (1, 1, ())


def test_type_comes_from_content_not_extension(library: Library, tmp_path: Path) -> None:
    make_jpeg(tmp_path / "in" / "really-a-jpeg.png")
    library.importer.import_paths([tmp_path / "in"], workers=1)
    (asset,) = library.assets.list()
    assert (asset.file_type, asset.mime) == ("JPEG", "image/jpeg")


def test_bad_files_are_reported_and_leave_nothing_behind(
    library: Library, tmp_path: Path, corpus: Path
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "empty.jpg").write_bytes(b"")
    (src / "notes.png").write_text("this is not an image at all")
    good = make_jpeg(src / "good.jpg")
    (src / "truncated.jpg").write_bytes(good.read_bytes()[:300])
    for name in (
        "pillow__truncated_jpeg.jpg",
        "pillowheif__heif_corrupted_empty.heic",
        "filetype__fixture-json.webp",
        "photoprism__empty.jpg",
    ):
        shutil.copy(corpus / name, src / name)
    report = library.importer.import_paths([src], workers=1)
    failed = {Path(f.path).name: f.error for f in report.failed}
    assert report.imported == 1
    assert set(failed) == {
        "empty.jpg",
        "notes.png",
        "truncated.jpg",
        "pillow__truncated_jpeg.jpg",
        "pillowheif__heif_corrupted_empty.heic",
        "filetype__fixture-json.webp",
        "photoprism__empty.jpg",
    }
    assert "empty" in failed["empty.jpg"]
    assert all(e.strip() for e in failed.values())
    # Exactly one asset's derivatives, and the errors are kept for the user.
    assert len(list(library.thumbs_dir.rglob("*.jpg"))) == 1
    assert not [p for p in library.root.rglob("*") if "tmp" in p.name]
    assert {Path(p).name for p, _ in library.assets.import_errors()} == set(failed)


def test_raw_and_jpeg_pairs_become_one_stack_with_the_jpeg_on_top(
    library: Library, tmp_path: Path, corpus: Path
) -> None:
    src = tmp_path / "in"
    make_jpeg(src / "IMG_1234.JPG", seed=1)
    shutil.copy(corpus / "photoprism__canon_eos_6d.dng", src / "IMG_1234.DNG")
    make_jpeg(src / "PXL_20230704_101500123.RAW-01.COVER.jpg", seed=2)
    shutil.copy(
        corpus / "filetype__fixture-Leica-M10.dng",
        src / "PXL_20230704_101500123.RAW-02.ORIGINAL.dng",
    )
    make_jpeg(src / "lonely.jpg", seed=3)
    library.importer.import_paths([src], workers=1)
    by_name = {Path(a.path).name: a for a in library.assets.list()}
    assert len(by_name) == 5
    pair = by_name["IMG_1234.JPG"], by_name["IMG_1234.DNG"]
    pxl = (
        by_name["PXL_20230704_101500123.RAW-01.COVER.jpg"],
        by_name["PXL_20230704_101500123.RAW-02.ORIGINAL.dng"],
    )
    assert pair[0].stack_id is not None and pair[0].stack_id == pair[1].stack_id
    assert pxl[0].stack_id is not None and pxl[0].stack_id == pxl[1].stack_id
    assert pair[0].stack_id != pxl[0].stack_id
    assert by_name["lonely.jpg"].stack_id is None
    assert pair[1].kind == "raw" and pair[0].kind == "photo"


def test_xmp_sidecar_adds_rating_and_hierarchical_tags(library: Library, tmp_path: Path) -> None:
    src = make_jpeg(tmp_path / "in" / "dsc.jpg")
    (tmp_path / "in" / "dsc.jpg.xmp").write_text(
        """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF
        xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        <rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/"
          xmlns:lr="http://ns.adobe.com/lightroom/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
          xmp:Rating="4">
          <lr:HierarchicalSubject><rdf:Bag><rdf:li>Places|France|Paris</rdf:li>
            <rdf:li>People|Family</rdf:li></rdf:Bag></lr:HierarchicalSubject>
          <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Eiffel</rdf:li></rdf:Alt></dc:title>
        </rdf:Description></rdf:RDF></x:xmpmeta>""",
        encoding="utf-8",
    )
    report = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert report.sidecars == 1
    (asset,) = library.assets.list()
    assert asset.rating == 4 and asset.title == "Eiffel"
    assert set(asset.tags) == {"Places/France/Paris", "People/Family"}
    assert str(src) + ".xmp" in asset.files
    assert {n.path for n in library.tags.tree()} >= {"Places", "Places/France", "People"}


def test_parallel_import_matches_serial(library: Library, tmp_path: Path) -> None:
    for i in range(12):
        make_jpeg(tmp_path / "in" / f"p{i:02d}.jpg", seed=i, when=f"2022:01:{i + 1:02d} 12:00:00")
    report = library.importer.import_paths([tmp_path / "in"], workers=2)
    assert (report.imported, report.failed) == (12, ())
    days = sorted(a.taken_at.day for a in library.assets.list() if a.taken_at)
    assert days == list(range(1, 13))


def test_progress_events_reach_the_caller(library: Library, tmp_path: Path) -> None:
    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i)
    seen = []
    library.importer.import_paths([tmp_path / "in"], workers=1, progress=seen.append)
    assert seen[-1].done == seen[-1].total == 3


def test_missing_path_is_reported(library: Library, tmp_path: Path) -> None:
    report = library.importer.import_paths([tmp_path / "nope"], workers=1)
    assert [f.error for f in report.failed] == ["no such file or folder"]


def test_videos_import_with_date_duration_and_a_poster(library: Library, tmp_path: Path) -> None:
    from tests.conftest import make_video

    make_video(tmp_path / "in" / "clip.mp4", seconds=3.0)
    report = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert (report.imported, report.failed) == (1, ())
    (video,) = library.assets.list()
    assert video.kind == "video" and video.mime.startswith("video/")
    assert video.duration == pytest.approx(3.0, abs=0.3)
    assert (video.width, video.height) == (160, 120)
    assert video.taken_at is not None and video.taken_at.date().isoformat() == "2022-08-01"
    assert library.thumbnails.has(video.checksum)


def test_live_photo_video_is_attached_to_its_photo(library: Library, tmp_path: Path) -> None:
    from tests.conftest import make_video

    still = make_jpeg(tmp_path / "in" / "IMG_0420.JPG")
    clip = make_video(tmp_path / "in" / "IMG_0420.MOV", seconds=2.0, fmt="mov")
    make_video(tmp_path / "in" / "IMG_0421.MOV", seconds=2.5, fmt="mov")
    library.importer.import_paths([tmp_path / "in"], workers=1)
    assets = {Path(a.path).name: a for a in library.assets.list()}
    assert set(assets) == {"IMG_0420.JPG", "IMG_0421.MOV"}
    assert assets["IMG_0420.JPG"].files == (str(still), str(clip))
    again = library.importer.import_paths([tmp_path / "in"], workers=1)
    assert (again.unchanged, again.imported) == (3, 0)


def test_a_full_disk_fails_only_that_file_and_leaves_nothing_half_written(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import photodesk.core.ingest.storage as writer

    for i in range(3):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i)
    real_copy = shutil.copyfile
    calls = []

    def filling_copy(src: str, dst: str) -> str:
        calls.append(src)
        if len(calls) == 2:
            real_copy(src, dst)  # a partial file is on disk when the error strikes
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(src, dst)

    monkeypatch.setattr(writer.shutil, "copyfile", filling_copy)
    report = library.importer.import_paths([tmp_path / "in"], copy=True, workers=1)
    assert report.imported == 2
    assert [f.error for f in report.failed] == [
        "cannot copy into the library: No space left on device"
    ]
    copies = sorted(p.name for p in library.originals_dir.rglob("*") if p.is_file())
    assert copies == sorted(Path(a.path).name for a in library.assets.list())
    assert len(copies) == 2
    # Once there is room again, the same command finishes the job.
    monkeypatch.setattr(writer.shutil, "copyfile", real_copy)
    again = library.importer.import_paths([tmp_path / "in"], copy=True, workers=1)
    assert (again.imported, again.failed) == (1, ())


def test_rerunning_a_copy_import_reads_nothing_again(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        make_jpeg(tmp_path / "card" / f"p{i}.jpg", seed=i)
    assert library.importer.import_paths([tmp_path / "card"], copy=True, workers=1).imported == 3
    import photodesk.core.ingest.analyze as analyze

    monkeypatch.setattr(analyze, "sha1_file", lambda *_: pytest.fail("hashed again"))
    again = library.importer.import_paths([tmp_path / "card"], copy=True, workers=1)
    assert (again.unchanged, again.imported, again.duplicates) == (3, 0, 0)
    assert all(a.files == (a.path,) for a in library.assets.list())


def test_a_copy_left_by_a_crashed_import_is_reused_not_duplicated(
    library: Library, tmp_path: Path
) -> None:
    src = make_jpeg(tmp_path / "card" / "DSC_0001.JPG", when="2021:12:24 18:00:00", seed=1)
    other = make_jpeg(tmp_path / "other" / "DSC_0002.JPG", when="2021:12:24 18:00:00", seed=2)
    target = library.originals_dir / "2021" / "12"
    target.mkdir(parents=True)
    shutil.copy(src, target / "DSC_0001.JPG")  # the crash happened after the copy, before the row
    shutil.copy(src, target / "DSC_0002.JPG")  # a different photo already owns this name
    os.rename(other, tmp_path / "card" / "DSC_0002.JPG")
    report = library.importer.import_paths([tmp_path / "card"], copy=True, workers=1)
    assert report.imported == 2
    assert sorted(p.name for p in target.iterdir()) == [
        "DSC_0001.JPG",
        "DSC_0002.JPG",
        "DSC_0002_1.JPG",
    ]
    paths = {Path(a.path).name for a in library.assets.list()}
    assert paths == {"DSC_0001.JPG", "DSC_0002_1.JPG"}
