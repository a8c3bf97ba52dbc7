"""People, faces and CLIP embeddings between a real daemon on loopback and two paired desktops
(docs/sync.md, "People"): names, hidden, merges, "not this person", face boxes, embeddings."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from photodesk.core import Library
from photodesk.core.catalog.db import vectors
from photodesk.core.search.smart import SmartSearch
from photodesk.remote import pairing
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo
from tests.sync.test_desktop_sync import by_checksum, desktops, sync  # noqa: F401

os.environ.setdefault("PHOTODESK_KEYRING", "off")
MODEL = "ViT-test"
BOXES = [(0.1, 0.1, 0.3, 0.4), (0.5, 0.2, 0.7, 0.5)]


def unit(seed: int, dim: int = 16) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype("<f4")
    return v / np.linalg.norm(v)


def people_view(lib: Library) -> dict[str, list[tuple[str, tuple[float, ...]]]]:
    """Each person's name -> (photo checksum, face box) of its faces, comparable across sides."""
    sums = {r.id: c for c, r in by_checksum(lib).items()}
    out: dict[str, list[tuple[str, tuple[float, ...]]]] = {}
    for p in lib.people.list(include_hidden=True):
        faces = lib.people.faces(person_id=p.id)
        out[p.name or "?"] = sorted((sums[f.asset_id], tuple(f.box)) for f in faces)
    return out


def box_of(lib: Library, checksum: str, box: tuple[float, ...]) -> Any:
    aid = by_checksum(lib)[checksum].id
    found = [f for f in lib.people.faces(asset_id=aid) if tuple(f.box) == box]
    assert len(found) == 1, (checksum, box, lib.people.faces(asset_id=aid))
    return found[0]


@pytest.fixture
def shared(tmp_path: Path, desktops: dict[str, Any], server: ServerInfo) -> dict[str, Any]:  # noqa: F811
    """Three photos imported on A and synced; on the server (as its GPU would) two faces on
    each, people "?" (an unnamed cluster, photo 0 and 1) and "Bo" (photo 2), and CLIP vectors."""
    a = desktops["A"]
    files = [make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i) for i in range(3)]
    a.importer.import_paths([str(f) for f in files])
    sync(a)
    srv = server.lib.for_user(desktops["uid"])
    recs = sorted(by_checksum(srv).values(), key=lambda r: r.checksum)
    cluster = srv.people.create("")
    bo = srv.people.create("Bo")
    for n, rec in enumerate(recs):
        for k, box in enumerate(BOXES):
            person = (cluster if n < 2 else bo) if k == 0 else None
            srv.people.add_face(rec.id, box, person, unit(10 * n + k), model="dlib_test")
    with srv.write() as s:
        vectors.save(s, MODEL, [(r.id, unit(100 + n)) for n, r in enumerate(recs)])
    return {**desktops, "srv": srv, "sums": [r.checksum for r in recs]}


def test_people_faces_and_embeddings_reach_a_desktop_without_the_originals(
    shared: dict[str, Any],
) -> None:
    b, srv, sums = shared["B"], shared["srv"], shared["sums"]
    report = sync(b)
    assert report.people >= 8 and report.embeddings == 3  # 2 people + 6 faces; 3 vectors
    assert people_view(b) == people_view(srv)
    assert set(people_view(b)) == {"?", "Bo"}
    local = by_checksum(b)
    assert all(local[c].path == "" for c in sums)  # remote-only, yet in people
    assert b.people.photos(b.people.find("Bo") or -1) == [local[sums[2]].id]
    crop = b.people.face_crop(b.people.faces(asset_id=local[sums[2]].id)[0].id, 64)
    assert crop[:2] == b"\xff\xd8"  # the people grid's face, cut from the fetched thumbnail
    face = box_of(b, sums[0], BOXES[1])
    assert face.person_id is None
    with b.read() as s:  # face embeddings came too (clustering here can use them)
        from photodesk.core.catalog.db.schema import Face

        blob = s.get(Face, face.id).embedding
    assert np.allclose(np.frombuffer(blob, dtype="<f4"), unit(1))
    # smart search here uses the server's vectors: the nearest photo to photo 1's vector is it
    index = SmartSearch(b.store, b.ml).index(MODEL)
    assert index is not None
    ids, _ = index.search(unit(101), 1)
    assert [int(i) for i in ids] == [local[sums[1]].id]
    # nothing new: a round asks only the feed
    again = sync(b)
    assert (again.people, again.embeddings) == (0, 0)


def test_renames_on_one_side_and_a_merge_on_the_other_all_survive(
    shared: dict[str, Any],
) -> None:
    a, b, srv, sums = shared["A"], shared["B"], shared["srv"], shared["sums"]
    sync(a)
    sync(b)
    # A (not synced yet): the cluster is Alice, Bo is Bob
    a.people.rename(next(p.id for p in a.people.list() if not p.name), "Alice")
    a.people.rename(a.people.find("Bo") or -1, "Bob")
    # B: a new person gets photo 0's other face, and the cluster is merged into it
    new = b.people.create("")
    b.people.assign_face(box_of(b, sums[0], BOXES[1]).id, new)
    b.people.merge(next(p.id for p in b.people.list() if not p.name and p.id != new), new)
    sync(b)
    sync(a)
    sync(b)
    # the merge left photo 0's first face out (the person had a face there already)
    expected = {
        "Alice": sorted([(sums[1], BOXES[0]), (sums[0], BOXES[1])]),
        "Bob": [(sums[2], BOXES[0])],
    }
    assert people_view(a) == people_view(b) == people_view(srv) == expected


def test_merge_into_a_named_person_keeps_its_name_everywhere(shared: dict[str, Any]) -> None:
    a, b, srv, sums = shared["A"], shared["B"], shared["srv"], shared["sums"]
    sync(a)
    sync(b)
    cluster_b = next(p.id for p in b.people.list() if not p.name)
    b.people.merge(cluster_b, b.people.find("Bo") or -1)
    sync(b)
    sync(a)
    view = people_view(a)
    assert view == people_view(srv) == people_view(b)
    assert view == {"Bo": sorted((sums[n], BOXES[0]) for n in range(3))}


def test_hidden_and_not_this_person_travel_both_ways(shared: dict[str, Any]) -> None:
    a, b, srv, sums = shared["A"], shared["B"], shared["srv"], shared["sums"]
    sync(a)
    sync(b)

    def cluster(lib: Library) -> int:
        return next(p.id for p in lib.people.list() if not p.name)

    def hidden(lib: Library) -> list[bool]:
        return [p.hidden for p in lib.people.list(include_hidden=True) if p.name == "Bo"]

    a.people.hide(a.people.find("Bo") or -1)
    cluster_a = cluster(a)
    face = box_of(a, sums[0], BOXES[0])
    assert a.people.remove_face(face.id) == cluster_a  # "this is not that person"
    sync(a)
    on_srv = box_of(srv, sums[0], BOXES[0])
    assert on_srv.person_id is None and srv.people.rejected(on_srv.id) == {cluster(srv)}
    assert hidden(srv) == [True]
    sync(b)
    on_b = box_of(b, sums[0], BOXES[0])
    assert on_b.person_id is None and b.people.rejected(on_b.id) == {cluster(b)}
    assert hidden(b) == [True] and "Bo" not in {p.name for p in b.people.list()}
    # and back: B puts the face into the cluster by hand (lifting the rejection), shows Bo
    b.people.assign_face(on_b.id, cluster(b))
    b.people.hide(b.people.find("Bo") or -1, False)
    sync(b)
    sync(a)
    on_a = box_of(a, sums[0], BOXES[0])
    assert on_a.person_id == cluster_a and on_a.assigned_by_user
    assert a.people.rejected(on_a.id) == set() and hidden(a) == [False]
    assert people_view(a) == people_view(b) == people_view(srv)


def test_desktop_faces_and_embeddings_go_up_and_one_face_stays_one(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
) -> None:
    """A desktop with a GPU indexed its photos; the server had found one of the same faces."""
    a, b = desktops["A"], desktops["B"]
    files = [make_jpeg(tmp_path / "in" / f"q{i}.jpg", seed=20 + i) for i in range(2)]
    ids = list(a.importer.import_paths([str(f) for f in files]).asset_ids)
    sync(a)  # uploaded before anything was indexed here
    srv = server.lib.for_user(desktops["uid"])
    checksum = by_checksum(a)
    first = next(c for c, r in checksum.items() if r.id == ids[0])
    srv_rec = by_checksum(srv)[first]
    srv.people.add_face(srv_rec.id, (0.11, 0.1, 0.3, 0.41), None, unit(7), model="dlib_test")
    zoe = a.people.create("Zoe")
    a.people.add_face(ids[0], (0.1, 0.1, 0.3, 0.4), zoe, unit(7), model="dlib_test")
    a.people.add_face(ids[1], (0.4, 0.4, 0.6, 0.7), zoe, unit(8), model="dlib_test")
    with a.write() as s:
        vectors.save(s, MODEL, [(ids[0], unit(200)), (ids[1], unit(201))])
    report = sync(a)
    assert report.embeddings == 2
    # the server's own face on photo 0 and A's are one face (boxes overlap), now Zoe's
    faces = srv.people.faces(asset_id=srv_rec.id)
    assert len(faces) == 1 and faces[0].box == (0.11, 0.1, 0.3, 0.41)
    zoe_srv = srv.people.find("Zoe")
    assert faces[0].person_id == zoe_srv
    assert len(srv.people.photos(zoe_srv or -1)) == 2
    with srv.read() as s:
        got = vectors.vectors_of(s, MODEL, [r.id for r in by_checksum(srv).values()])
    assert len(got) == 2
    sync(a)
    assert len(a.people.faces(asset_id=ids[0])) == 1  # and A did not get a second one back
    sync(b)
    assert people_view(b) == people_view(srv)
    assert len(people_view(b)["Zoe"]) == 2
    with b.read() as s:
        assert len(vectors.vectors_of(s, MODEL, [r.id for r in by_checksum(b).values()])) == 2


def test_bad_people_pushes_are_refused_in_one_line(
    server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> None:
    import json
    import urllib.error
    import urllib.request

    _, _, _, key = make_user()

    def post(path: str, body: Any) -> tuple[int, Any]:
        req = urllib.request.Request(
            server.url + path,
            data=json.dumps(body).encode(),
            headers={"x-api-key": key, "Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, data = post("/api/photodesk/sync/people", {"items": [{"kind": "cat", "uid": "x"}]})
    assert status == 400 and "kind person or face" in data["message"]
    item = {"kind": "person", "uid": "p1", "fields": {"name": [5, "x"]}}
    status, data = post("/api/photodesk/sync/people", {"items": [item]})
    assert status == 200 and data["applied"] == 0 and "bad clock" in data["errors"][0]
    face = {"kind": "face", "uid": "f1", "info": {"checksum": "0" * 40, "box": [0, 0, 1, 1]},
            "fields": {"person": [None, ""]}}  # fmt: skip
    status, data = post("/api/photodesk/sync/people", {"items": [face]})
    assert status == 200 and "no asset" in data["errors"][0]
    status, data = post("/api/photodesk/sync/embeddings", {"items": [{"vector": "??"}]})
    assert status == 400
    assert pairing  # the module under test's client is used by the other tests


def people_rows(lib: Library) -> int:
    """Every person row of the account, those left without faces too (list() leaves them out)."""
    from sqlalchemy import func, select

    from photodesk.core.catalog.db.schema import Person

    with lib.read() as s:
        return int(s.scalar(select(func.count()).where(Person.owner_id == lib.owner_id)) or 0)


@pytest.mark.parametrize("name", ["Zoe", ""])
def test_one_person_clustered_on_both_sides_is_one_person(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
    name: str,
) -> None:
    """A clustered photos 0 and 1 into a person (named Zoe, or not); the server clustered the
    same faces (boxes a little off) and photo 2's into a cluster of its own. One person after
    sync, on every side, with all three faces; nothing to report; nothing left to do."""
    a, b = desktops["A"], desktops["B"]
    files = [make_jpeg(tmp_path / "in" / f"z{i}.jpg", seed=40 + i) for i in range(3)]
    ids = list(a.importer.import_paths([str(f) for f in files]).asset_ids)
    sync(a)  # the photos go up (the phone uploaded them too: one asset each)
    srv = server.lib.for_user(desktops["uid"])
    cluster = srv.people.create("")
    srv_ids = {c: r.id for c, r in by_checksum(srv).items()}
    sums = {r.id: c for c, r in by_checksum(a).items()}
    for n, aid in enumerate(ids):
        box = (0.12, 0.1, 0.32, 0.42) if n < 2 else (0.5, 0.5, 0.7, 0.8)
        srv.people.add_face(srv_ids[sums[aid]], box, cluster, unit(60 + n), model="dlib_test")
    zoe = a.people.create(name)
    for aid in ids[:2]:
        a.people.add_face(aid, (0.1, 0.1, 0.3, 0.4), zoe, unit(50), model="dlib_test")
    first = sync(a)
    assert first.conflicts == ()
    sync(a)
    sync(b)

    def photos(lib: Library) -> dict[str, list[str]]:  # each side keeps its own box
        return {k: [c for c, _ in v] for k, v in people_view(lib).items()}

    view = photos(a)
    assert view == photos(srv) == photos(b)
    assert list(view) == [name or "?"] and len(view[name or "?"]) == 3
    assert people_rows(a) == people_rows(srv) == people_rows(b) == 1
    for lib in (a, b, srv):
        assert all(len(lib.people.faces(asset_id=r.id)) == 1 for r in by_checksum(lib).values())
    for lib in (a, b, a):
        again = sync(lib)
        assert (again.people, again.conflicts) == (0, ())


class OneFace:
    """A face model of another kind than the server's: one face, where the server found it."""

    model_name = "other-faces"
    metric = "cosine"
    match_distance = 0.5

    def analyze(self, path: str) -> list[Any]:
        from photodesk.core.inference.ports import DetectedFace

        box = (0.11, 0.12, 0.31, 0.41)
        return [DetectedFace(box, 0.9, (0.0,) * 10, unit(77))]


def test_detecting_here_after_a_pull_keeps_the_synced_face(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
) -> None:
    """The server's face came down before this desktop looked at the photo with its own model:
    what the desktop finds there is that face (kept, still Bo's), not a second or a new one."""
    from photodesk.core.inference.models import Models

    a, b = desktops["A"], desktops["B"]
    aid = a.importer.import_paths([str(make_jpeg(tmp_path / "in" / "o.jpg", seed=70))]).asset_ids[0]
    sync(a)
    srv = server.lib.for_user(desktops["uid"])
    checksum = next(c for c, r in by_checksum(a).items() if r.id == aid)
    bo = srv.people.create("Bo")
    srv.people.add_face(by_checksum(srv)[checksum].id, BOXES[0], bo, unit(5), model="dlib_test")
    sync(a)
    assert people_view(a) == {"Bo": [(checksum, BOXES[0])]}
    a.attach_ml(Models(faces=OneFace()))
    assert a.queue_missing("faces") == 1
    assert a.jobs.run_until_idle(timeout=120)
    sync(a)
    sync(b)
    for lib in (a, srv, b):
        faces = lib.people.faces(asset_id=by_checksum(lib)[checksum].id)
        assert len(faces) == 1 and faces[0].person_id == lib.people.find("Bo"), faces


def test_two_sides_merging_each_person_into_the_other_keep_one(shared: dict[str, Any]) -> None:
    """A merges the cluster into Bo while the server merges Bo into the cluster (by hand, or
    by the one-person rule seeing different names for a moment): one person stays, with every
    face, the same everywhere, and it can still be renamed."""
    a, b, srv, sums = shared["A"], shared["B"], shared["srv"], shared["sums"]
    sync(a)

    def cluster(lib: Library) -> int:
        return next(p.id for p in lib.people.list() if not p.name)

    a.people.merge(cluster(a), a.people.find("Bo") or -1)
    srv.people.merge(srv.people.find("Bo") or -1, cluster(srv))
    sync(a)
    sync(a)
    sync(b)
    view = people_view(a)
    assert view == people_view(srv) == people_view(b)
    assert list(view) == ["Bo"] and sorted(c for c, _ in view["Bo"]) == sorted(sums)
    a.people.rename(a.people.find("Bo") or -1, "Bob")
    sync(a)
    sync(b)
    assert list(people_view(b)) == ["Bob"] == list(people_view(srv))


def test_three_sides_that_each_clustered_the_same_faces_end_with_one_person(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
) -> None:
    """A named its cluster Zoe, B and the server each made an unnamed one of the same faces
    (each box a little off): after A, B, A, B one person Zoe everywhere, one face a photo."""
    a, b = desktops["A"], desktops["B"]
    sides: dict[str, list[int]] = {}
    for side, lib in (("A", a), ("B", b)):
        files = [make_jpeg(tmp_path / side / f"t{i}.jpg", seed=80 + i) for i in range(2)]
        sides[side] = list(lib.importer.import_paths([str(f) for f in files]).asset_ids)
    sync(a)
    srv = server.lib.for_user(desktops["uid"])
    srv_ids = [r.id for r in sorted(by_checksum(srv).values(), key=lambda r: r.checksum)]
    for lib, ids, name, box in (
        (srv, srv_ids, "", (0.12, 0.1, 0.32, 0.42)),
        (b, sides["B"], "", (0.1, 0.12, 0.3, 0.42)),
        (a, sides["A"], "Zoe", (0.1, 0.1, 0.3, 0.4)),
    ):
        person = lib.people.create(name)
        for n, aid in enumerate(ids):
            lib.people.add_face(aid, box, person, unit(90 + n), model="dlib_test")
    for lib in (a, b, a, b):
        assert sync(lib).conflicts == ()
    for lib in (a, srv, b):
        assert {k: len(v) for k, v in people_view(lib).items()} == {"Zoe": 2}
        assert people_rows(lib) == 1
        assert all(len(lib.people.faces(asset_id=r.id)) == 1 for r in by_checksum(lib).values())
    for lib in (a, b):
        again = sync(lib)
        assert (again.people, again.conflicts) == (0, ())


def test_a_person_renamed_on_another_device_wakes_a_waiting_desktop(
    shared: dict[str, Any],
) -> None:
    from tests.sync.test_shared_edits import Poll

    a, b = shared["A"], shared["B"]
    sync(a)
    sync(b)
    poll = Poll(a)
    b.people.rename(b.people.find("Bo") or -1, "Bob")
    sync(b)
    assert poll.woke()
    assert poll.page.items == () and poll.page.heads["people"] > poll.known["people"]
