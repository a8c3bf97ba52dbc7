"""The same people found twice: a desktop and the server each detect and cluster faces (real
dlib faces on the shared corpus) on the same photos, then sync (docs/sync.md, "One person").

Before this rule, the desktop's "Anna" and the server's unnamed cluster of the same faces stayed
two people after sync (faces were one, people were not)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from photodesk.core import Library
from photodesk.core.inference.models import Models
from tests.conftest import require_corpus
from tests.sync.conftest import ServerInfo
from tests.sync.test_desktop_sync import by_checksum, desktops, sync  # noqa: F401

pytest.importorskip("dlib")
faces_dlib = pytest.importorskip("photodesk.ml.faces_dlib")
if faces_dlib.dlib_status():
    pytest.skip(faces_dlib.dlib_status(), allow_module_level=True)

OBAMA = ["facerec__obama.jpg", "facerec__obama2.jpg", "facerec__obama-480p.jpg"]
HOPPER = ["pillow__hopper.jpg", "pillow__hopper.png", "pillow__hopper.webp"]


def photos(folder: Path, names: list[str]) -> Path:
    corpus = require_corpus()
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(corpus / name, folder / name)
    return folder


def index(lib: Library, folder: Path) -> None:
    """Import ``folder`` and let the attached dlib find and cluster its faces."""
    lib.jobs.enqueue("import", None, {"paths": [str(folder)]})
    assert lib.jobs.run_until_idle(timeout=600)


def view(lib: Library) -> list[tuple[str, list[str]]]:
    """Each person as (name, "?" for unnamed; the checksums of the photos of its faces)."""
    sums = {r.id: c for c, r in by_checksum(lib).items()}
    return sorted(
        (p.name or "?", sorted(sums[f.asset_id][:12] for f in lib.people.faces(person_id=p.id)))
        for p in lib.people.list(include_hidden=True)
    )


def people_rows(lib: Library) -> int:
    """Every person row of the account, those left without faces too (list() leaves them out)."""
    from sqlalchemy import func, select

    from photodesk.core.catalog.db.schema import Person

    with lib.read() as s:
        return int(s.scalar(select(func.count()).where(Person.owner_id == lib.owner_id)) or 0)


def faces_per_photo(lib: Library) -> dict[str, int]:
    return {c[:12]: len(lib.people.faces(asset_id=r.id)) for c, r in by_checksum(lib).items()}


@pytest.fixture
def indexed(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
) -> dict[str, Any]:
    """Desktop A indexed its photos with dlib and named Obama's cluster "Anna"; ``index_server``
    then makes the server index the same photos on its own (as for a phone's uploads)."""
    dlib = Models(faces=faces_dlib.DlibFaceAnalyzer())
    a = desktops["A"]
    a.attach_ml(dlib)
    index(a, photos(tmp_path / "desk", OBAMA + HOPPER))
    sums = {r.id: c for c, r in by_checksum(a).items()}
    obama = {c for c, r in by_checksum(a).items() if Path(r.path).name in OBAMA}
    anna = next(p.id for p in a.people.list()
                if {sums[x] for x in a.people.photos(p.id)} == obama)  # fmt: skip
    a.people.rename(anna, "Anna")
    srv = server.lib.for_user(desktops["uid"])

    def index_server() -> None:
        server.lib.attach_ml(dlib)
        index(srv, photos(tmp_path / "phone", OBAMA + HOPPER))
        assert len(srv.people.list()) == 2, view(srv)

    assert len(a.people.list()) == 2, view(a)
    return {**desktops, "srv": srv, "index_server": index_server, "anna": anna, "obama": obama}


def test_one_person_after_sync_named_by_the_desktop(indexed: dict[str, Any]) -> None:
    a, b, srv = indexed["A"], indexed["B"], indexed["srv"]
    indexed["index_server"]()
    first = sync(a)
    sync(a)  # what A decided while pulling goes up
    sync(b)
    assert view(a) == view(srv) == view(b)
    assert [name for name, _ in view(a)] == ["?", "Anna"]
    assert all(len(faces) == 3 for _, faces in view(a))
    assert people_rows(a) == people_rows(srv) == people_rows(b) == 2  # no empty "Anna" left
    assert set(faces_per_photo(a).values()) == {1} == set(faces_per_photo(srv).values())
    assert first.conflicts == (), first.conflicts  # nothing was lost: no conflict
    # idempotent: another round on each side changes nothing
    for lib in (a, b, a):
        again = sync(lib)
        assert (again.people, again.conflicts) == (0, ()), (again.people, again.conflicts)
    assert view(a) == view(srv) == view(b)


def test_two_names_for_one_person_stay_two_and_are_reported(
    indexed: dict[str, Any], catalog: Any
) -> None:
    a, b, srv = indexed["A"], indexed["B"], indexed["srv"]
    indexed["index_server"]()
    sums = {r.id: c for c, r in by_checksum(srv).items()}
    barack = next(p.id for p in srv.people.list()
                  if {sums[x] for x in srv.people.photos(p.id)} == indexed["obama"])  # fmt: skip
    srv.people.rename(barack, "Barack")  # named on the server's web page
    env = {**os.environ, **catalog.env_for(a.root), "PHOTODESK_KEYRING": "off"}

    def cli(*args: str) -> str:
        cmd = [sys.executable, "-m", "photodesk", "--library", str(a.root), *args]
        return subprocess.run(
            cmd, capture_output=True, text=True, env=env, check=True, timeout=300
        ).stdout

    report = json.loads(cli("sync", "--json"))
    assert report["errors"] == []
    apart = [c for c in report["conflicts"] if c["field"] == "same person"]
    assert len(apart) == 1 and {apart[0]["kept"], apart[0]["dropped"]} == {"Anna", "Barack"}
    assert apart[0]["winner"] == "both"
    assert "share faces: both kept" in cli("remote", "conflicts")
    sync(a)
    sync(b)
    assert view(a) == view(srv) == view(b)
    # neither was merged away: both people stay everywhere; each shared face is with the
    # later placement (here the server's), as any field
    for lib in (a, srv, b):
        assert lib.people.find("Anna") is not None and lib.people.find("Barack") is not None
    assert people_rows(a) == people_rows(srv) == people_rows(b) == 3
    named = {name: faces for name, faces in view(a)}
    assert sorted(named.get("Anna", []) + named["Barack"]) == sorted(
        c[:12] for c in indexed["obama"]
    )
    assert set(faces_per_photo(a).values()) == {1} == set(faces_per_photo(b).values())
    again = sync(a)
    assert (again.people, again.conflicts) == (0, ())  # decided once, not again each round


def test_not_this_person_on_the_desktop_beats_the_servers_cluster(
    indexed: dict[str, Any],
) -> None:
    """A says one of Anna's faces is not her; the server (indexing later) put it in its cluster
    of the same person. After sync the face is in no one, everywhere, and stays refused."""
    a, b, srv = indexed["A"], indexed["B"], indexed["srv"]
    anna = indexed["anna"]
    face = a.people.faces(person_id=anna)[0]
    checksum = by_checksum_id(a)[face.asset_id]
    assert a.people.remove_face(face.id) == anna
    indexed["index_server"]()
    sync(a)
    sync(a)
    sync(b)
    assert view(a) == view(srv) == view(b)
    named = {name: faces for name, faces in view(a)}
    assert checksum[:12] not in named["Anna"] and len(named["Anna"]) == 2
    for lib in (a, srv, b):
        on = lib.people.faces(asset_id=by_checksum(lib)[checksum].id)
        assert len(on) == 1 and on[0].person_id is None, on
        assert lib.people.rejected(on[0].id) == {lib.people.find("Anna")}
    assert people_rows(a) == people_rows(srv) == people_rows(b) == 2
    again = sync(a)
    assert (again.people, again.conflicts) == (0, ())


def by_checksum_id(lib: Library) -> dict[int, str]:
    return {r.id: c for c, r in by_checksum(lib).items()}
