"""The faces job and people clustering through the library, with a face analyzer we control."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from photodesk.core import Library
from photodesk.core.inference.models import Models
from photodesk.core.inference.ports import DetectedFace

RED, GREEN, GREY = (220, 30, 30), (30, 200, 40), (128, 128, 128)


class FakeFaces:
    """Each half of a photo that is not grey holds a face; its embedding says who it is by the
    half's dominant colour (red: one person, green: another), varied a little by the shade."""

    model_name = "fake-faces"
    metric = "cosine"
    match_distance = 0.5

    def __init__(self) -> None:
        self.calls = 0

    def analyze(self, path: str) -> list[DetectedFace]:
        self.calls += 1
        with Image.open(path) as im:
            px = np.asarray(im.convert("RGB"), dtype=np.float32)
        faces = []
        half = px.shape[1] // 2
        for n, part in enumerate((px[:, :half], px[:, half:])):
            rgb = part.reshape(-1, 3).mean(0)
            if np.ptp(rgb) < 40:
                continue  # grey: nobody there
            v = np.zeros(16, dtype=np.float32)
            v[int(np.argmax(rgb))] = 1.0
            v[3:6] = 0.1 * rgb / 255.0
            x0 = 0.5 * n
            faces.append(
                DetectedFace(
                    box=(x0 + 0.1, 0.2, x0 + 0.4, 0.7),
                    score=0.99,
                    landmarks=(x0 + 0.2, 0.4, x0 + 0.3, 0.4, x0 + 0.25, 0.5, 0.0, 0.0, 0.0, 0.0),
                    embedding=v / np.linalg.norm(v),
                )
            )
        return faces


def photo(path: Path, left: tuple[int, int, int], right: tuple[int, int, int]) -> Path:
    img = Image.new("RGB", (200, 100), left)
    img.paste(Image.new("RGB", (100, 100), right), (100, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=95)
    return path


def shade(rgb: tuple[int, int, int], k: int) -> tuple[int, int, int]:
    return (rgb[0] - 3 * k, rgb[1] - 2 * k, rgb[2] + k)


def run_import(lib: Library, folder: Path) -> None:
    lib.jobs.run(lib.jobs.enqueue("import", None, {"paths": [str(folder)]}))
    assert lib.jobs.run_until_idle(timeout=300)


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    src = tmp_path / "src"
    for k in range(3):
        photo(src / f"red{k}.jpg", shade(RED, k), GREY)
        photo(src / f"green{k}.jpg", GREY, shade(GREEN, k))
    photo(src / "both.jpg", shade(RED, 4), shade(GREEN, 4))
    photo(src / "nobody.jpg", GREY, GREY)
    library.attach_ml(Models(faces=FakeFaces()))
    run_import(library, src)
    return library


def names(lib: Library, person_id: int) -> set[str]:
    return {Path(lib.assets.get(a).path).name for a in lib.people.photos(person_id)}


def person_of(lib: Library, photo_name: str) -> set[int | None]:
    (aid,) = [a for a in lib.assets.ids() if Path(lib.assets.get(a).path).name == photo_name]
    return {f.person_id for f in lib.people.faces(asset_id=aid)}


def test_faces_become_people_and_one_photo_never_has_one_person_twice(lib: Library):
    people = lib.people.list()
    assert len(people) == 2
    groups = sorted((names(lib, p.id) for p in people), key=sorted)
    assert groups[0] == {"both.jpg", "green0.jpg", "green1.jpg", "green2.jpg"}
    assert groups[1] == {"both.jpg", "red0.jpg", "red1.jpg", "red2.jpg"}
    both = person_of(lib, "both.jpg")
    assert len(both) == 2 and None not in both
    assert person_of(lib, "nobody.jpg") == set()


def test_two_look_alike_faces_in_one_photo_are_two_people(lib: Library, tmp_path: Path):
    red = next(p for p in lib.people.list() if "red0.jpg" in names(lib, p.id))
    lib.people.rename(red.id, "Alice")
    photo(tmp_path / "twins" / "twins.jpg", shade(RED, 5), shade(RED, 6))
    run_import(lib, tmp_path / "twins")
    twins = person_of(lib, "twins.jpg")
    assert len(twins) == 2 and red.id in twins  # one is Alice, the other is someone else
    lib.people.recluster()
    assert len(person_of(lib, "twins.jpg")) == 2


def test_a_named_person_keeps_name_and_faces_after_recluster(lib: Library, tmp_path: Path):
    red = next(p for p in lib.people.list() if "red0.jpg" in names(lib, p.id))
    lib.people.rename(red.id, "Alice")
    before = names(lib, red.id)
    lib.people.recluster()
    alice = lib.people.find("Alice")
    assert alice == red.id and names(lib, alice) == before
    assert len(lib.people.list()) == 2  # the unnamed green cluster was rebuilt, still one
    # new photos of her join her, not a new cluster
    photo(tmp_path / "more" / "red9.jpg", shade(RED, 9), GREY)
    run_import(lib, tmp_path / "more")
    assert "red9.jpg" in names(lib, alice)
    assert len(lib.people.list()) == 2


def test_a_rejected_face_never_returns_to_that_person(lib: Library):
    red = next(p for p in lib.people.list() if "red0.jpg" in names(lib, p.id))
    lib.people.rename(red.id, "Alice")
    face = next(f for f in lib.people.faces(person_id=red.id))
    lib.people.remove_face(face.id)
    lib.people.cluster()
    lib.people.recluster()
    assert face.id not in {f.id for f in lib.people.faces(person_id=red.id)}
    assert red.id in lib.people.rejected(face.id)


def test_merges_hidden_people_and_hand_placed_faces_survive_recluster(lib: Library):
    red, green = sorted(lib.people.list(), key=lambda p: "red0.jpg" in names(lib, p.id))
    lib.people.merge(red.id, green.id)  # the user says they are one person
    merged = names(lib, green.id)
    lib.people.recluster()
    assert names(lib, green.id) == merged
    lib.people.hide(green.id)
    lib.people.recluster()
    hidden = {p.id: p for p in lib.people.list(include_hidden=True)}
    assert hidden[green.id].hidden and names(lib, green.id) == merged
    assert green.id not in {p.id for p in lib.people.list()}


def test_faces_job_skips_photos_already_analysed(lib: Library):
    analyzer = lib.ml.faces()
    assert isinstance(analyzer, FakeFaces)
    calls = analyzer.calls
    for aid in lib.assets.ids():
        lib.jobs.enqueue("faces", aid)
    assert lib.jobs.run_until_idle(timeout=120)
    assert analyzer.calls == calls


def test_analysing_again_keeps_faces_placed_by_hand(lib: Library):
    (aid,) = [a for a in lib.assets.ids() if Path(lib.assets.get(a).path).name == "both.jpg"]
    face = lib.people.faces(asset_id=aid)[0]
    bob = lib.people.create("Bob")
    lib.people.assign_face(face.id, bob)
    lib.jobs.run(lib.jobs.enqueue("faces", aid, {"force": True}))
    assert lib.jobs.run_until_idle(timeout=120)
    faces = lib.people.faces(asset_id=aid)
    assert len(faces) == 2  # the hand-placed one plus the other, not a duplicate of it
    assert {f.person_id for f in faces if f.assigned_by_user} == {bob}
    assert lib.people.find("Bob") == bob


def test_faces_found_while_clustering_runs_are_clustered_after(lib: Library, tmp_path: Path):
    from photodesk.core.people.jobs import _round

    photo(tmp_path / "late" / "green9.jpg", GREY, shade(GREEN, 9))
    lib.importer.import_paths([tmp_path / "late"], workers=1)
    (late,) = [a for a in lib.assets.ids() if "green9" in lib.assets.get(a).path]
    # a clustering run has started (claimed, round advanced) and not finished yet
    lib.jobs.enqueue("faces.cluster", None, {"round": _round(lib.store)})
    running = lib.jobs._claim("cluster")
    assert running is not None
    _round(lib, advance=True)
    info = lib.jobs.run(lib.jobs.enqueue("faces", late))
    assert info.state == "done"
    # the new face is not lost to the running run: another run is queued and places it
    lib.jobs.cancel_job(running[0].id)
    assert lib.jobs.run_until_idle(timeout=120)
    assert None not in person_of(lib, "green9.jpg")


def test_another_users_uploads_become_that_users_people(library: Library, tmp_path: Path) -> None:
    """On a shared server, photos uploaded by one user are analysed and clustered for that user:
    their people never show up for the library's owner (or anyone else)."""
    import hashlib
    import shutil

    library.attach_ml(Models(faces=FakeFaces()))
    ben = library.accounts.add_user("ben@example.org", "correct horse battery")
    src = tmp_path / "phone"
    for k in range(3):
        photo(src / f"red{k}.jpg", shade(RED, k), GREY)
    for path in sorted(src.iterdir()):
        staged = library.uploads.staging_dir(ben) / f"{path.name}.part"
        shutil.copyfile(path, staged)
        sha1 = hashlib.sha1(path.read_bytes()).hexdigest()
        assert library.uploads.ingest(ben, staged, path.name, sha1).status == "created"
    assert library.jobs.run_until_idle(timeout=300)

    theirs = library.for_user(ben).people.list()
    assert [p.photo_count for p in theirs] == [3]
    assert library.people.list() == []


def test_the_start_up_catch_up_analyses_what_came_before_the_models(
    library: Library, tmp_path: Path
) -> None:
    """Photos imported (by any user) before a face model existed are analysed once the app or the
    daemon starts with one; a second start queues nothing again."""
    import hashlib
    import shutil

    src = tmp_path / "mine"
    for k in range(3):
        photo(src / f"red{k}.jpg", shade(RED, k), GREY)
    run_import(library, src)  # no models attached yet: nothing analysed
    ben = library.accounts.add_user("ben@example.org", "correct horse battery")
    for k in range(3):
        path = photo(tmp_path / "phone" / f"green{k}.jpg", GREY, shade(GREEN, k))
        staged = library.uploads.staging_dir(ben) / f"{path.name}.part"
        shutil.copyfile(path, staged)
        sha1 = hashlib.sha1(path.read_bytes()).hexdigest()
        assert library.uploads.ingest(ben, staged, path.name, sha1).status == "created"
    assert library.jobs.run_until_idle(timeout=300)
    assert library.people.list() == [] and library.for_user(ben).people.list() == []

    faces = FakeFaces()
    library.attach_ml(Models(faces=faces))
    first = library.jobs.run(library.jobs.enqueue("ml.catch-up"))
    assert first.result == {"queued": {"faces": 6}}
    assert library.jobs.run_until_idle(timeout=300)
    assert [p.photo_count for p in library.people.list()] == [3]
    assert [p.photo_count for p in library.for_user(ben).people.list()] == [3]
    again = library.jobs.run(library.jobs.enqueue("ml.catch-up"))
    assert again.result == {"queued": {"faces": 0}}
    assert faces.calls == 6
