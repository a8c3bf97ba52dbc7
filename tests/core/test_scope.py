"""A library acting for a user: every service of ``lib.for_user(u)`` acts for ``u``, none for
the library's owner by accident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from photodesk.core import AssetQuery, Library
from photodesk.core.catalog.db.schema import Job
from photodesk.core.catalog.store import Store
from tests.conftest import make_jpeg

# What a view shares with the library it came from, and why that cannot act for the owner:
SHARED = {
    "thumbnails": "derivatives by content checksum, of no user",
    "ml": "the attached models",
    "smart": "the vector index; every search passes the acting user's ids (``Within``)",
    "options": "how the library was opened",
    "_analysis": "the upload decoders and their lock, of no user",
}


def _stores(obj: Any, path: str, seen: set[int]) -> list[tuple[str, Store]]:
    """Every ``Store`` reachable from ``obj`` through the attributes of core objects."""
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, Store):
        return [(path, obj)]
    if not type(obj).__module__.startswith("photodesk.core") or not hasattr(obj, "__dict__"):
        return []
    found = []
    for name, value in vars(obj).items():
        found += _stores(value, f"{path}.{name}", seen)
    return found


def test_every_service_of_a_scoped_library_acts_for_its_user(library: Library) -> None:
    uid = library.accounts.add_user("ada@example.org", "correct horse", name="Ada")
    view = library.for_user(uid)
    assert view.owner_id == uid != library.owner_id
    services = {n: v for n, v in vars(view).items() if n not in SHARED and n != "store"}
    assert {"assets", "files", "jobs", "shares", "accounts", "uploads", "watch"} <= set(services)
    for name, service in services.items():
        if not type(service).__module__.startswith("photodesk.core"):
            continue
        assert service is not getattr(library, name), f"lib.for_user(u).{name} is the owner's"
        stores = _stores(service, name, set())
        assert stores, f"{name} holds no store: this test cannot tell whom it acts for"
        wrong = [path for path, store in stores if store.owner_id != uid]
        assert not wrong, f"acting for the owner: {wrong}"
    for name in SHARED:  # the shared ones are the very objects of the library
        assert getattr(view, name) is getattr(library, name)


def test_a_scoped_library_answers_for_its_user(library: Library, tmp_path: Path) -> None:
    mine, theirs = tmp_path / "mine", tmp_path / "theirs"
    make_jpeg(mine / "a.jpg", seed=1)
    make_jpeg(theirs / "b.jpg", seed=2)
    library.files.add_watched(mine)
    library.importer.import_paths([mine], workers=1)
    uid = library.accounts.add_user("ada@example.org", "correct horse")
    view = library.for_user(uid)

    assert view.files.watched() == []  # was the owner's folder before
    view.files.add_watched(theirs)
    assert [w.path for w in view.files.watched()] == [str(theirs)]
    assert [w.path for w in library.files.watched()] == [str(mine)]

    assert view.assets.ids() == [] and view.timeline is not library.timeline
    report = view.importer.import_paths([theirs], workers=1)
    assert view.assets.ids() == list(report.asset_ids) and len(library.assets.ids()) == 1
    assert sum(m.count for m in view.timeline.months(AssetQuery())) == 1

    album = view.albums.create("Hers")
    assert [a.id for a in view.albums.list()] == [album]
    assert library.albums.list() == []

    job = view.jobs.enqueue("thumbnails.generate", report.asset_ids[0])
    with library.read() as s:
        assert s.scalar(select(Job.owner_id).where(Job.id == job)) == uid
