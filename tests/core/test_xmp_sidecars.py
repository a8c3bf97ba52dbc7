"""XMP write-back and read-back, with ExifTool as the oracle: values, regions, other apps' fields,
re-import into a new library, merges of sidecars other apps changed, and crash safety."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from photodesk.core import AssetQuery, Library
from photodesk.core.catalog.errors import CorruptFile
from photodesk.core.media.mediatypes import FaceRegion
from photodesk.core.media.metadata import read_sidecar
from photodesk.core.media.metadata.xmp_merge import merge
from photodesk.core.media.metadata.xmp_write import SidecarValues, render_sidecar, write_atomic
from tests.conftest import make_jpeg

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None,
    reason="ExifTool is the oracle of these tests: apt-get install libimage-exiftool-perl",
)


def exiftool(*args: str) -> str:
    assert EXIFTOOL is not None
    done = subprocess.run([EXIFTOOL, *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def tags_of(path: Path) -> dict[str, Any]:
    """What ExifTool reads from a file: group:tag -> value, structs as structs, numbers as such."""
    return dict(json.loads(exiftool("-json", "-struct", "-G1", "-n", str(path)))[0])


def make_sidecar(path: Path, *assignments: str) -> Path:
    """A sidecar written by ExifTool (as digiKam, Lightroom and others write them)."""
    exiftool(*assignments, "-o", str(path))
    return path


def _import(lib: Library, folder: Path) -> None:
    report = lib.importer.import_paths([str(folder)], copy=False, workers=1)
    assert not report.failed, report.failed


def _one(lib: Library, name: str) -> Any:
    return next(a for a in lib.assets.list(AssetQuery(archived=None)) if Path(a.path).name == name)


@needs_exiftool
def test_edits_reach_the_sidecar_as_exiftool_reads_it(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "a.jpg", size=(120, 80), orientation=6)  # shown upright as 80 x 120
    _import(library, photos)
    a = _one(library, "a.jpg")
    library.tags.add([a.id], "Places/France/Paris")
    library.tags.add([a.id], "Family")
    library.assets.set_rating([a.id], 4)
    library.edits.set_title([a.id], "Eiffel <tower>")
    library.edits.set_description([a.id], "Anna & Ben\non the tower")
    library.edits.set_taken_at(
        [a.id], datetime(2024, 7, 4, 10, 15, tzinfo=timezone(timedelta(hours=2)))
    )
    library.edits.set_location([a.id], 48.8584, 2.2945)
    anna = library.people.create("Anna")
    library.people.add_face(a.id, (0.1, 0.2, 0.4, 0.6), anna, by_user=True)
    assert library.xmp.flush() >= 1

    side = photos / "a.jpg.xmp"
    t = tags_of(side)
    assert t["XMP-xmp:Rating"] == 4
    assert t["XMP-dc:Title"] == "Eiffel <tower>"
    assert t["XMP-dc:Description"] == "Anna & Ben\non the tower"
    assert t["XMP-dc:Subject"] == ["Paris", "Family"] or t["XMP-dc:Subject"] == ["Family", "Paris"]
    assert sorted(t["XMP-lr:HierarchicalSubject"]) == ["Family", "Places|France|Paris"]
    assert sorted(t["XMP-digiKam:TagsList"]) == ["Family", "Places/France/Paris"]
    assert t["XMP-exif:DateTimeOriginal"] == "2024:07:04 10:15:00+02:00"
    assert t["XMP-photoshop:DateCreated"] == "2024:07:04 10:15:00+02:00"
    assert t["XMP-exif:GPSLatitude"] == pytest.approx(48.8584, abs=1e-6)
    assert t["XMP-exif:GPSLongitude"] == pytest.approx(2.2945, abs=1e-6)
    mwg = t["XMP-mwg-rs:RegionInfo"]
    assert mwg["AppliedToDimensions"] == {"W": 80, "H": 120, "Unit": "pixel"}
    (region,) = mwg["RegionList"]
    assert region["Name"] == "Anna" and region["Type"] == "Face"
    area = region["Area"]
    assert area["Unit"] == "normalized"
    assert (area["X"], area["Y"], area["W"], area["H"]) == pytest.approx((0.25, 0.4, 0.3, 0.4))
    (mp,) = t["XMP-MP:RegionInfoMP"]["Regions"]
    assert mp["PersonDisplayName"] == "Anna"
    rect = [float(v) for v in mp["Rectangle"].split(",")]
    assert rect == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert "<XMP-mwg-rs:Name>Anna</XMP-mwg-rs:Name>" in exiftool("-X", "-struct", str(side))
    assert library.assets.get(a.id).xmp_written_at is not None
    # photodesk's own write is not a change by another app: no read is queued (no loop)
    assert library.xmp.sidecars_changed([str(side)]) == 0
    os.utime(side)  # touched, same bytes
    assert library.xmp.sidecars_changed([str(side)]) == 0


@needs_exiftool
def test_a_new_library_reads_back_what_was_written(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "a.jpg", seed=1)
    make_jpeg(photos / "IMG_2.jpg", seed=2, size=(160, 90))
    _import(library, photos)
    a, b = _one(library, "a.jpg"), _one(library, "IMG_2.jpg")
    library.tags.add([a.id, b.id], "Trips/Rome")
    library.assets.set_rating([a.id], 5)
    library.edits.set_title([a.id], "Colosseum")
    library.edits.set_description([b.id], "Ben at dinner")
    library.edits.set_taken_at([b.id], datetime(2022, 5, 1, 20, 30), -300)
    library.edits.set_location([a.id], 41.8902, 12.4922)
    ben = library.people.create("Ben")
    library.people.add_face(b.id, (0.5, 0.1, 0.7, 0.5), ben, by_user=True)
    library.xmp.flush()

    with Library.open(tmp_path / "lib2") as again:
        _import(again, photos)
        for name in ("a.jpg", "IMG_2.jpg"):
            old, new = _one(library, name), _one(again, name)
            for field in ("tags", "rating", "title", "description", "city", "country", "people"):
                assert getattr(new, field) == getattr(old, field), (name, field)
            assert new.taken_at_iso() == old.taken_at_iso()
            assert new.latitude == pytest.approx(old.latitude, abs=1e-6)
            assert new.longitude == pytest.approx(old.longitude, abs=1e-6)
        b2 = _one(again, "IMG_2.jpg")
        assert b2.people == ("Ben",) and b2.taken_at_iso() == "2022-05-01T20:30:00-05:00"
        (face,) = again.people.faces(asset_id=b2.id)
        assert face.assigned_by_user and face.box == pytest.approx((0.5, 0.1, 0.7, 0.5))
        again.people.recluster()  # a face the sidecar named is never moved
        assert again.people.faces(asset_id=b2.id)[0].person_id == face.person_id


@needs_exiftool
def test_lightroom_and_digikam_fields_survive_a_write(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "lr.jpg", seed=1)
    make_jpeg(photos / "dk.jpg", seed=2)
    make_sidecar(
        photos / "lr.xmp",  # Lightroom names sidecars photo.xmp
        "-XMP-crs:Exposure2012=+0.50",
        "-XMP-crs:WhiteBalance=Custom",
        "-XMP-crs:ToneCurvePV2012=0, 0",
        "-XMP-crs:ToneCurvePV2012+=255, 255",
        "-XMP-lr:HierarchicalSubject=Animals|Cats",
        "-XMP-xmp:Rating=2",
        "-XMP-dc:Title=Old title",
    )
    make_sidecar(
        photos / "dk.jpg.xmp",
        "-XMP-digiKam:ColorLabel=3",
        "-XMP-digiKam:PickLabel=2",
        "-XMP-digiKam:TagsList=People/Anna",
        "-RegionInfo={AppliedToDimensions={W=120,H=80,Unit=pixel},RegionList=["
        "{Area={W=0.2,H=0.3,X=0.3,Y=0.4,Unit=normalized},Name=Anna,Type=Face},"
        "{Area={W=0.1,H=0.1,X=0.5,Y=0.5,Unit=normalized},Type=Focus}]}",
    )
    before = {p.name: tags_of(p) for p in (photos / "lr.xmp", photos / "dk.jpg.xmp")}
    _import(library, photos)
    lr, dk = _one(library, "lr.jpg"), _one(library, "dk.jpg")
    assert lr.rating == 2 and lr.title == "Old title" and lr.tags == ("Animals/Cats",)
    assert dk.people == ("Anna",)
    library.tags.add([lr.id, dk.id], "Holiday")
    library.assets.set_rating([lr.id], 5)
    library.edits.set_title([dk.id], "New title")
    library.xmp.flush()

    after = tags_of(photos / "lr.xmp")
    for key, value in before["lr.xmp"].items():
        if key.startswith("XMP-crs:"):
            assert after[key] == value, key
    assert after["XMP-xmp:Rating"] == 5 and after["XMP-dc:Title"] == "Old title"
    assert sorted(after["XMP-lr:HierarchicalSubject"]) == ["Animals|Cats", "Holiday"]
    assert not (photos / "lr.jpg.xmp").exists()  # the existing name is followed

    after = tags_of(photos / "dk.jpg.xmp")
    assert after["XMP-digiKam:ColorLabel"] == 3 and after["XMP-digiKam:PickLabel"] == 2
    assert sorted(after["XMP-digiKam:TagsList"]) == ["Holiday", "People/Anna"]
    assert after["XMP-dc:Title"] == "New title"
    regions = after["XMP-mwg-rs:RegionInfo"]["RegionList"]
    assert [r.get("Type") for r in regions] == ["Face", "Focus"]  # the focus point is kept
    assert regions[0]["Name"] == "Anna"
    assert regions[0]["Area"]["X"] == pytest.approx(0.3) and regions[0]["Area"]["W"] == (
        pytest.approx(0.2)
    )


DARKTABLE = """<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:darktable="http://darktable.sf.net/"
   xmp:Rating="1"
   xmpMM:DerivedFrom="dt.jpg"
   darktable:import_timestamp="63826542925"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:auto_presets_applied="1"
   darktable:history_end="2">
   <darktable:masks_history>
    <rdf:Seq/>
   </darktable:masks_history>
   <darktable:history>
    <rdf:Seq>
     <rdf:li
      darktable:num="0"
      darktable:operation="exposure"
      darktable:enabled="1"
      darktable:modversion="6"
      darktable:params="0000000000000000cdcc4c3e00000000"
      darktable:multi_name=""
      darktable:multi_priority="0"/>
     <rdf:li
      darktable:num="1"
      darktable:operation="colorbalancergb"
      darktable:enabled="1"
      darktable:modversion="5"
      darktable:params="gz12eJxjYGBgYAFiCQYYsHZxJg"
      darktable:multi_name="&lt;look&gt;"
      darktable:multi_priority="0"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""


@needs_exiftool
def test_darktable_history_survives_a_write(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "dt.jpg")
    side = photos / "dt.jpg.xmp"
    side.write_text(DARKTABLE, encoding="utf-8")
    before = tags_of(side)
    _import(library, photos)
    a = _one(library, "dt.jpg")
    assert a.rating == 1
    library.assets.set_rating([a.id], 3)
    library.tags.add([a.id], "Edited")
    library.xmp.flush()
    after = tags_of(side)
    darktable = {k: v for k, v in before.items() if k.startswith(("XMP-darktable", "XMP-xmpMM"))}
    assert darktable and all(after[k] == v for k, v in darktable.items())
    text = side.read_text(encoding="utf-8")
    assert 'xmp:Rating="3"' in text  # kept as the attribute darktable wrote
    assert 'darktable:params="gz12eJxjYGBgYAFiCQYYsHZxJg"' in text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<x:xmpmeta')
    assert after["XMP-dc:Subject"] == ["Edited"]


@needs_exiftool
def test_face_regions_are_read_on_import_mwg_and_microsoft(
    library: Library, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "group.jpg", size=(200, 100))
    make_sidecar(
        photos / "group.jpg.xmp",
        "-RegionInfo={RegionList=[{Area={W=0.2,H=0.4,X=0.2,Y=0.5,Unit=normalized},"
        "Name=Anna,Type=Face},{Area={W=0.2,H=0.4,X=0.6,Y=0.5,Unit=normalized},Type=Face}]}",
        "-RegionInfoMP={Regions=[{PersonDisplayName=Carl,Rectangle=0.75|, 0.1|, 0.2|, 0.3},"
        "{PersonDisplayName=Anna,Rectangle=0.1|, 0.3|, 0.2|, 0.4}]}",
    )
    existing = library.people.create("carl")  # names match case-insensitively
    _import(library, photos)
    a = _one(library, "group.jpg")
    assert sorted(a.people) == ["Anna", "carl"]
    faces = {f.person_id: f for f in library.people.faces(asset_id=a.id)}
    assert len(faces) == 2 and all(f.assigned_by_user for f in faces.values())
    assert faces[existing].box == pytest.approx((0.75, 0.1, 0.95, 0.4))
    anna = library.people.find("Anna")
    assert faces[anna].box == pytest.approx((0.1, 0.3, 0.3, 0.7))


@needs_exiftool
def test_a_sidecar_changed_by_another_app_is_merged(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "a.jpg")
    side = make_sidecar(photos / "a.jpg.xmp", "-XMP-xmp:Rating=2", "-XMP-dc:Title=Old")
    _import(library, photos)
    a = _one(library, "a.jpg")
    library.assets.set_rating([a.id], 4)  # edited here, written back
    library.xmp.flush()
    assert tags_of(side)["XMP-xmp:Rating"] == 4
    exiftool(  # digiKam retitles it and names someone
        "-overwrite_original",
        "-XMP-dc:Title=New from digiKam",
        "-XMP-lr:HierarchicalSubject+=Places|Rome",
        "-RegionInfo={RegionList=[{Area={W=0.2,H=0.3,X=0.5,Y=0.5,Unit=normalized},"
        "Name=Dora,Type=Face}]}",
        str(side),
    )
    assert library.xmp.sidecars_changed([str(side)]) == 1
    library.xmp.flush()
    now = library.assets.get(a.id)
    assert now.title == "New from digiKam" and now.rating == 4
    assert now.tags == ("Places/Rome",) and now.people == ("Dora",)
    assert library.xmp.sidecars_changed([str(side)]) == 0  # merged: nothing left to read
    exiftool("-overwrite_original", "-XMP-xmp:Rating=1", str(side))
    _import(library, photos)  # importing the folder again notices the changed sidecar
    library.xmp.flush()
    assert library.assets.get(a.id).rating == 1


def test_merge_takes_the_newer_side_per_field() -> None:
    synced = {"rating": 2, "title": "Old", "description": None, "keywords": ["A"]}
    catalog = {"rating": 4, "title": "Old", "description": "mine", "keywords": ["A"], "date": "x"}
    sidecar = {"rating": 2, "title": "Theirs", "description": "theirs", "keywords": ["A", "B"]}
    edited = {"description": "2026-01-02T00:00:00"}
    take, keep = merge(sidecar, catalog, synced, edited, datetime(2026, 1, 1))
    assert take == {"title", "keywords"}  # only the other app changed them
    assert keep == {"rating", "description", "date"}  # only we did; ours is newer; it says none
    take, keep = merge(sidecar, catalog, synced, edited, datetime(2026, 1, 3))
    assert "description" in take  # the sidecar changed after our edit: it wins


def test_a_damaged_sidecar_is_never_overwritten(library: Library, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    make_jpeg(photos / "a.jpg")
    _import(library, photos)
    a = _one(library, "a.jpg")
    side = photos / "a.jpg.xmp"
    side.write_bytes(b"<x:xmpmeta><rdf:RDF><rdf:Description></x:xmpmeta>")
    library.assets.set_rating([a.id], 3)
    library.xmp.flush()
    assert side.read_bytes() == b"<x:xmpmeta><rdf:RDF><rdf:Description></x:xmpmeta>"
    (failed,) = library.jobs.failures()
    assert failed.kind == "xmp.write" and "damaged XMP" in (failed.last_error or "")
    with pytest.raises(CorruptFile):
        render_sidecar(side.read_bytes(), SidecarValues(fields=frozenset({"rating"}), rating=1))


def test_write_back_can_be_turned_off_and_raw_sidecars_are_name_xmp(
    library: Library, tmp_path: Path, corpus: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(corpus / "photoprism__canon_eos_6d.dng", photos / "IMG_1.DNG")
    make_jpeg(photos / "b.jpg")
    _import(library, photos)
    raw, jpg = _one(library, "IMG_1.DNG"), _one(library, "b.jpg")
    library.xmp.set_mode("off")
    library.assets.set_rating([raw.id, jpg.id], 3)
    library.xmp.flush()
    assert not list(photos.glob("*.xmp"))
    library.xmp.set_mode("sidecar")
    library.assets.set_rating([raw.id, jpg.id], 4)
    library.xmp.flush()
    assert sorted(p.name for p in photos.glob("*.xmp")) == ["IMG_1.xmp", "b.jpg.xmp"]
    assert read_sidecar(photos / "IMG_1.xmp").rating == 4


CRASH_WRITER = """
import sys
from pathlib import Path
from photodesk.core.media.metadata.xmp_write import write_atomic
paths = [Path(p) for p in sys.argv[2:]]
versions = [Path(sys.argv[1] + str(i)).read_bytes() for i in range(2)]
i = 0
print("ready", flush=True)
while True:
    for p in paths:
        write_atomic(p, versions[i % 2])
    i += 1
"""


def test_sigkill_during_sidecar_writes_leaves_old_or_new(tmp_path: Path) -> None:
    """Kill a process writing sidecars at random moments: each is whole, old or new."""
    import random

    names = [f"IMG_{i}.jpg" for i in range(4)]
    v0 = render_sidecar(
        None,
        SidecarValues(
            fields=frozenset({"keywords", "title", "faces"}),
            keywords=tuple(f"Tag/{i}" for i in range(3000)),  # ~200 KB: a wide window
            title="version zero",
            faces=(FaceRegion("Anna", 0.1, 0.1, 0.2, 0.2),),
        ),
    )
    v1 = render_sidecar(v0, SidecarValues(fields=frozenset({"title"}), title="version one"))
    (tmp_path / "v0").write_bytes(v0)
    (tmp_path / "v1").write_bytes(v1)
    sides = [tmp_path / f"{n}.xmp" for n in names]
    for p in sides:
        p.write_bytes(v0)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    rng = random.Random(7)
    for _ in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", CRASH_WRITER, str(tmp_path / "v"), *map(str, sides)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.01, 0.3))
        proc.kill()
        proc.wait()
        for p in sides:
            assert p.read_bytes() in (v0, v1), f"{p.name} is neither old nor new"
            assert read_sidecar(p).faces  # and it parses
    # the next write removes what a killed writer left behind
    write_atomic(sides[0], v0)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{names[0]}.xmp.")]
    assert leftovers == []


def _queued(lib: Library, kind: str) -> int:
    from sqlalchemy import func, select

    from photodesk.core.catalog.db.schema import Job

    with lib.read() as s:
        return int(
            s.scalar(select(func.count()).where(Job.kind == kind, Job.state == "queued")) or 0
        )


def test_the_watcher_rereads_other_apps_edits_and_not_its_own(
    library: Library, tmp_path: Path
) -> None:
    from photodesk.core.ingest.files import FileService
    from photodesk.core.ingest.watch import FolderWatcher

    inbox = tmp_path / "inbox"
    make_jpeg(inbox / "a.jpg")
    FileService(library).add_watched(inbox)
    watcher = FolderWatcher(
        library.store,
        library.importer,
        settle_s=0.2,
        poll_interval_s=0.2,
        polling=True,
        workers=1,
        sidecars_changed=library.ingest.sidecars_changed,
    )
    watcher.start()
    try:
        assert watcher.wait_idle(30)
        a = _one(library, "a.jpg")
        library.assets.set_rating([a.id], 3)
        library.xmp.flush()  # photodesk writes a.jpg.xmp: the watcher sees a new file...
        side = inbox / "a.jpg.xmp"
        assert side.is_file()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not watcher.wait_idle(1):
            pass
        time.sleep(1.0)  # several polls and settle times
        assert watcher.wait_idle(30)
        assert _queued(library, "xmp.read") == 0  # ...and knows it is its own write: no loop
        text = side.read_text("utf-8").replace("<xmp:Rating>3<", "<xmp:Rating>5<")
        side.write_text(text, "utf-8")  # another app changes the rating
        while time.monotonic() < deadline + 30 and not _queued(library, "xmp.read"):
            time.sleep(0.1)
        library.xmp.flush()
        assert library.assets.get(a.id).rating == 5
    finally:
        watcher.stop()


def test_a_rejected_rating_survives_until_stars_are_given() -> None:
    old = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        b' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description'
        b' xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="-1"/></rdf:RDF></x:xmpmeta>'
    )
    keep = render_sidecar(old, SidecarValues(fields=frozenset({"rating", "title"}), title="T"))
    assert b'xmp:Rating="-1"' in keep and b">T</rdf:li>" in keep
    starred = render_sidecar(keep, SidecarValues(fields=frozenset({"rating"}), rating=3))
    assert b'xmp:Rating="3"' in starred and b"-1" not in starred
