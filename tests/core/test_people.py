"""People: listing order, naming, merging, hiding, covers, "not this person", face crops."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import text

from photodesk.core import Changes, Conflict, InvalidInput, Library, NotFound
from photodesk.core.people.service import PeopleService, PersonId

# Faces by hand (x1, y1, x2, y2 relative to the upright photo), with who they are according
# to the corpus MANIFEST.tsv identity column.
FACES: dict[str, list[tuple[str, tuple[float, float, float, float]]]] = {
    "facerec__obama.jpg": [("Barack Obama", (0.384, 0.125, 0.678, 0.360))],
    "facerec__obama2.jpg": [("Barack Obama", (0.273, 0.242, 0.700, 0.465))],
    "facerec__biden.jpg": [("Joe Biden", (0.432, 0.109, 0.763, 0.255))],
    "facerec__two_people.jpg": [
        ("Barack Obama", (0.225, 0.071, 0.362, 0.306)),
        ("Joe Biden", (0.691, 0.086, 0.856, 0.366)),
    ],
    "facerec__test_obama_and_biden.jpg": [
        ("Joe Biden", (0.368, 0.314, 0.462, 0.444)),
        ("Barack Obama", (0.567, 0.273, 0.678, 0.429)),
        ("", (0.797, 0.744, 0.875, 0.852)),  # a child, nobody named
    ],
    "facerec__train_kit_harington_john1.jpeg": [("Kit Harington", (0.569, 0.184, 0.677, 0.399))],
    "facerec__test_johnsnow_test1.jpg": [("Kit Harington", (0.341, 0.156, 0.583, 0.317))],
}


@dataclass
class Built:
    """The library with faces written, and ids by file name and identity."""

    lib: Library
    people: PeopleService
    assets: dict[str, int]
    person: dict[str, PersonId]
    faces: dict[tuple[str, str], int]  # (file, identity) -> face id


def people_of(lib: Library) -> PeopleService:
    """``lib.people``."""
    return lib.people


def build_people(lib: Library, corpus: Path, *, name: tuple[str, ...] = ()) -> Built:
    """Import the face photos and write one person per identity (named if in ``name``)."""
    report = lib.importer.import_paths([corpus / f for f in FACES], workers=1)
    assert report.imported == len(FACES), report
    assets = {Path(a.path).name: int(a.id) for a in lib.assets.list()}
    people = people_of(lib)
    person: dict[str, PersonId] = {}
    faces: dict[tuple[str, str], int] = {}
    for file, found in FACES.items():
        for identity, box in found:
            pid = None
            if identity:
                if identity not in person:
                    person[identity] = people.create(identity if identity in name else "")
                pid = person[identity]
            faces[(file, identity)] = people.add_face(assets[file], box, pid, [0.1] * 128)
    return Built(lib, people, assets, person, faces)


@pytest.fixture
def built(library: Library, corpus: Path) -> Built:
    return build_people(library, corpus, name=("Barack Obama", "Kit Harington"))


def test_named_people_come_first_by_photo_count_then_unnamed_clusters(built: Built) -> None:
    listed = built.people.list()
    assert [(p.name, p.photo_count, p.face_count) for p in listed] == [
        ("Barack Obama", 4, 4),
        ("Kit Harington", 2, 2),
        ("", 3, 3),  # Biden, not named yet
    ]
    assert listed[0].id == built.person["Barack Obama"]
    assert all(p.cover_face_id is not None and not p.hidden for p in listed)


def test_a_person_never_has_two_faces_in_one_photo(built: Built) -> None:
    file = "facerec__test_obama_and_biden.jpg"
    obama = built.person["Barack Obama"]
    with pytest.raises(Conflict):
        built.people.add_face(built.assets[file], (0.1, 0.1, 0.2, 0.2), obama)
    with pytest.raises(Conflict):
        built.people.assign_face(built.faces[(file, "Joe Biden")], obama)
    child = built.faces[(file, "")]
    with pytest.raises(Conflict):
        built.people.assign_face(child, obama, by_user=False)
    assert built.people.faces(asset_id=built.assets[file])[2].person_id is None


def test_rename_and_a_taken_name(built: Built) -> None:
    biden = built.person["Joe Biden"]
    built.people.rename(biden, "  Joe Biden ")
    assert built.people.find("joe biden") == biden
    assert [p.name for p in built.people.list()][:2] == ["Barack Obama", "Joe Biden"]
    assert "Joe Biden" in built.lib.assets.get(built.assets["facerec__biden.jpg"]).people
    with pytest.raises(Conflict):
        built.people.rename(built.person["Kit Harington"], "barack obama")
    with pytest.raises(NotFound):
        built.people.rename(99999, "Nobody")


def test_merge_moves_faces_deletes_the_source_and_keeps_photos_apart(built: Built) -> None:
    obama, biden = built.person["Barack Obama"], built.person["Joe Biden"]
    moved = built.people.merge(biden, obama)  # wrong, but the user asked for it
    # Two photos have both: Biden's face there cannot join Obama, so it stays unassigned.
    assert moved == 1
    assert biden not in {p.id for p in built.people.list(include_hidden=True)}
    faces = built.people.faces(person_id=obama)
    assert len(faces) == 5 and len({f.asset_id for f in faces}) == 5
    moved_face = built.faces[("facerec__biden.jpg", "Joe Biden")]
    assert [f.assigned_by_user for f in faces if f.id == moved_face] == [True]
    with pytest.raises(NotFound):
        built.people.merge(biden, obama)
    with pytest.raises(InvalidInput):
        built.people.merge(obama, obama)


def test_merging_a_named_person_into_a_cluster_keeps_the_name(built: Built) -> None:
    kit, biden = built.person["Kit Harington"], built.person["Joe Biden"]
    built.people.merge(kit, biden)
    summary = next(p for p in built.people.list() if p.id == biden)
    assert (summary.name, summary.photo_count) == ("Kit Harington", 5)


def test_hidden_people_are_left_out_unless_asked(built: Built) -> None:
    kit = built.person["Kit Harington"]
    built.people.hide(kit)
    assert kit not in {p.id for p in built.people.list()}
    assert [p.hidden for p in built.people.list(include_hidden=True) if p.id == kit] == [True]
    built.people.hide(kit, False)
    assert kit in {p.id for p in built.people.list()}


def test_cover_face_is_chosen_or_the_largest(built: Built) -> None:
    kit, obama = built.person["Kit Harington"], built.person["Barack Obama"]
    largest = built.faces[("facerec__test_johnsnow_test1.jpg", "Kit Harington")]
    assert next(p for p in built.people.list() if p.id == kit).cover_face_id == largest
    chosen = built.faces[("facerec__two_people.jpg", "Barack Obama")]
    built.people.set_cover(obama, chosen)
    assert next(p for p in built.people.list() if p.id == obama).cover_face_id == chosen
    with pytest.raises(InvalidInput):
        built.people.set_cover(obama, built.faces[("facerec__biden.jpg", "Joe Biden")])
    built.people.remove_face(chosen)  # the cover goes: the largest face is the cover again
    assert next(p for p in built.people.list() if p.id == obama).cover_face_id != chosen


def test_photos_are_newest_first_and_skip_the_trash(built: Built) -> None:
    obama = built.person["Barack Obama"]
    photos = built.people.photos(obama)
    assert sorted(photos) == sorted(
        built.assets[f] for f, found in FACES.items() if any(i == "Barack Obama" for i, _ in found)
    )
    built.lib.assets.trash([photos[0]])
    assert built.people.photos(obama) == photos[1:]
    assert next(p for p in built.people.list() if p.id == obama).photo_count == 3


def test_this_is_not_him_is_remembered(built: Built) -> None:
    obama = built.person["Barack Obama"]
    face = built.faces[("facerec__obama2.jpg", "Barack Obama")]
    assert built.people.remove_face(face) == obama
    assert len(built.people.faces(person_id=obama)) == 3
    assert built.people.rejected(face) == {obama}
    with pytest.raises(Conflict):  # clustering may not put it back
        built.people.assign_face(face, obama, by_user=False)
    built.people.assign_face(face, obama)  # the user may
    assert built.people.rejected(face) == set()
    assert built.people.remove_face(face) == obama
    assert built.people.remove_face(face) is None  # already unassigned


def test_an_unnamed_cluster_left_empty_is_deleted(built: Built) -> None:
    biden = built.person["Joe Biden"]
    for (_, identity), face in built.faces.items():
        if identity == "Joe Biden":
            built.people.remove_face(face)
    assert biden not in {p.id for p in built.people.list(include_hidden=True)}
    with pytest.raises(NotFound):
        built.people.hide(biden)


def test_merge_carries_rejections_and_respects_them(built: Built) -> None:
    obama, kit = built.person["Barack Obama"], built.person["Kit Harington"]
    face = built.faces[("facerec__obama2.jpg", "Barack Obama")]
    built.people.remove_face(face)
    built.people.assign_face(face, kit, by_user=False)  # the machine puts it elsewhere
    built.people.merge(kit, obama)
    assert built.people.faces(asset_id=built.assets["facerec__obama2.jpg"])[0].person_id is None
    assert built.people.rejected(face) == {obama}


def test_writes_publish_people_changes_with_the_photos(built: Built) -> None:
    seen: list[object] = []
    built.lib.events.subscribe(seen.append)
    biden = built.person["Joe Biden"]
    built.people.rename(biden, "Joe Biden")
    built.people.hide(biden)
    changes = [c for c in seen if isinstance(c, Changes)]
    assert len(changes) == 2 and all(c.people for c in changes)
    assert built.assets["facerec__biden.jpg"] in changes[0].assets


def test_faces_are_validated_and_embeddings_stored_as_float32(built: Built) -> None:
    with pytest.raises(InvalidInput):
        built.people.add_face(built.assets["facerec__obama.jpg"], (0.5, 0.1, 0.4, 0.2))
    with pytest.raises(NotFound):
        built.people.add_face(99999, (0.1, 0.1, 0.2, 0.2))
    with built.lib.read() as s:
        blob = s.execute(text("SELECT embedding FROM faces LIMIT 1")).scalar()
    assert isinstance(blob, bytes) and len(blob) == 128 * 4


def test_rejections_go_with_their_face(built: Built) -> None:
    face = built.faces[("facerec__obama2.jpg", "Barack Obama")]
    built.people.remove_face(face)
    built.lib.assets.trash([built.assets["facerec__obama2.jpg"]])
    built.lib.assets.purge_trash(older_than_days=-1)
    with built.lib.read() as s:
        assert s.execute(text("SELECT count(*) FROM face_rejections")).scalar() == 0


def test_face_crops_show_the_face_and_are_cached(built: Built) -> None:
    face = built.faces[("facerec__test_obama_and_biden.jpg", "Barack Obama")]
    data = built.people.face_crop(face, 160)
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("JPEG", (160, 160))
    cached = list((built.lib.thumbs_dir / "faces").rglob("*.jpg"))
    assert len(cached) == 1
    assert built.people.face_crop(face, 160) == data == cached[0].read_bytes()
    dlib = pytest.importorskip("dlib")
    import numpy as np

    found = dlib.get_frontal_face_detector()(np.asarray(image.convert("RGB")), 1)
    assert len(found) == 1  # one face, whole, in the middle of the crop
    box = found[0]
    assert 40 < (box.left() + box.right()) / 2 < 120 and 40 < (box.top() + box.bottom()) / 2 < 120


def test_a_face_crop_renders_a_missing_preview(built: Built) -> None:
    face = built.faces[("facerec__biden.jpg", "Joe Biden")]
    record = built.lib.assets.get(built.assets["facerec__biden.jpg"])
    built.lib.thumbnails.preview_path(record.checksum).unlink()
    assert Image.open(io.BytesIO(built.people.face_crop(face, 64))).size == (64, 64)
    with pytest.raises(NotFound):
        built.people.face_crop(99999)
