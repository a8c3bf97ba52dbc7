"""Two desktop libraries paired with one account of a real daemon on loopback (docs/sync.md)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from photodesk.core import Library
from photodesk.core.sync import SyncReport
from photodesk.remote import pairing
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo

os.environ.setdefault("PHOTODESK_KEYRING", "off")  # never the developer's own keyring


@pytest.fixture
def desktops(
    tmp_path: Path, server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> Iterator[dict[str, Any]]:
    """Desktop libraries A and B, both paired with one account of ``server`` by password."""
    uid, email, password, _key = make_user(name="Ann")
    libs = {}
    for name in ("A", "B"):
        lib = Library.open(tmp_path / f"desk{name}")
        pairing.add(lib, server.url, email=email, password=password, device=f"laptop {name}")
        libs[name] = lib
    yield {"A": libs["A"], "B": libs["B"], "uid": uid, "email": email, "password": password}
    for lib in libs.values():
        lib.close()


def sync(lib: Library) -> SyncReport:
    report = pairing.sync(lib)
    assert not report.errors, report.errors
    return report


def by_checksum(lib: Library) -> dict[str, Any]:
    from photodesk.core import AssetQuery

    recs = lib.assets.list(AssetQuery(archived=None)) + lib.assets.list(
        AssetQuery(archived=None, trashed=True)
    )
    return {r.checksum: r for r in recs}


def view(rec: Any) -> dict[str, Any]:
    return {
        "rating": rec.rating,
        "favorite": rec.favorite,
        "archived": rec.archived,
        "trashed": rec.trashed_at is not None,
        "title": rec.title,
        "description": rec.description,
        "tags": sorted(rec.tags),
        "albums": sorted(rec.albums),
    }


def test_pairing_makes_the_desktop_owner_the_account(desktops: dict[str, Any]) -> None:
    lib = desktops["A"]
    owner = lib.accounts.get(lib.owner_id)
    assert owner.email == desktops["email"]
    info = pairing.status(lib)
    assert info["paired"] and info["state"] == "online" and info["errors"] == []
    assert info["key_store"] == "file"
    key_file = lib.root / "remote.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    with lib.read() as s:  # the key is never in the catalog
        from sqlalchemy import text

        dump = "\n".join(str(r) for r in s.execute(text("SELECT key, value FROM settings")))
    assert key_file.read_text().strip() not in dump


def test_imports_and_edits_on_a_reach_b_and_back(
    tmp_path: Path, desktops: dict[str, Any], server: ServerInfo
) -> None:
    a, b = desktops["A"], desktops["B"]
    files = [make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i) for i in range(3)]
    report = a.importer.import_paths([str(f) for f in files])
    ids = list(report.asset_ids)
    a.assets.set_rating([ids[0]], 4)
    a.assets.set_favorite([ids[1]])
    a.tags.add([ids[0], ids[2]], "Places/Paris")
    a.albums.create("Holidays")
    a.albums.add("Holidays", [ids[0], ids[1]])
    a.edits.set_title([ids[2]], "Eiffel")
    first = sync(a)
    assert first.uploaded == 3

    # the server has them, with the edits, in the account
    on_server = by_checksum(server.lib.for_user(desktops["uid"]))
    local_a = by_checksum(a)
    assert set(on_server) == set(local_a)
    for checksum, rec in local_a.items():
        assert view(on_server[checksum]) == view(rec)

    pulled = sync(b)
    assert pulled.pulled > 0 and pulled.thumbnails == 3
    local_b = by_checksum(b)
    assert set(local_b) == set(local_a)
    for checksum, rec in local_b.items():
        assert view(rec) == view(local_a[checksum])
        assert rec.path == "" and rec.files == ()  # the original stays on the server
        assert b.thumbnails.thumb_path(checksum).is_file()
        assert rec.has_thumbnail and rec.kind == "photo" and rec.make == "Canon"

    # B edits; A sees them after a round
    b_ids = {r.checksum: r.id for r in local_b.values()}
    target = local_a[next(iter(local_a))].checksum
    b.assets.set_rating([b_ids[target]], 2)
    b.tags.add([b_ids[target]], "People/Zoe")
    b.albums.remove("Holidays", [b_ids[c] for c, r in local_b.items() if "Holidays" in r.albums])
    b.assets.trash([b_ids[target]])
    sync(b)
    sync(a)
    local_a = by_checksum(a)
    local_b = by_checksum(b)
    for checksum in local_a:
        assert view(local_a[checksum]) == view(local_b[checksum]), checksum
    assert local_a[target].rating == 2 and "People/Zoe" in local_a[target].tags
    assert local_a[target].trashed_at is not None
    assert all("Holidays" not in r.albums for r in local_a.values())

    # a second round with nothing to do changes nothing
    again = sync(a)
    assert (again.pulled, again.pushed, again.uploaded) == (0, 0, 0)


def test_offline_edits_on_both_converge(tmp_path: Path, desktops: dict[str, Any]) -> None:
    a, b = desktops["A"], desktops["B"]
    f = make_jpeg(tmp_path / "in" / "x.jpg", seed=7)
    [aid] = a.importer.import_paths([str(f)]).asset_ids
    sync(a)
    sync(b)
    [(checksum, rec_b)] = by_checksum(b).items()
    # both offline: A rates 5 and tags Sea, then B rates 1, tags Beach and titles
    a.assets.set_rating([aid], 5)
    a.tags.add([aid], "Sea")
    import time

    time.sleep(0.01)  # B's rating is the later write
    b.assets.set_rating([rec_b.id], 1)
    b.tags.add([rec_b.id], "Beach")
    b.edits.set_title([rec_b.id], "Dune")
    ra = sync(a)
    rb = sync(b)
    sync(a)
    va, vb = view(by_checksum(a)[checksum]), view(by_checksum(b)[checksum])
    assert va == vb
    assert va["rating"] == 1  # last writer wins for scalars
    assert va["tags"] == ["Beach", "Sea"]  # both adds survive
    assert va["title"] == "Dune"
    decided = [c for r in (ra, rb) for c in r.conflicts if c.field == "rating"]
    assert decided, "the concurrent rating edits are reported as a decided conflict"


def test_a_revoked_key_is_a_clear_error(desktops: dict[str, Any], server: ServerInfo) -> None:
    a = desktops["A"]
    for key in server.lib.accounts.list_api_keys(desktops["uid"]):
        if key.name.startswith("device: laptop A"):
            server.lib.accounts.revoke_api_key(key.id)
    report = pairing.sync(a)
    assert report.errors and report.errors[0].startswith("auth:")
    assert "revoked" in report.errors[0]
    info = pairing.status(a)
    assert info["state"] == "refused"
    assert any("revoked" in e for e in info["errors"])


def test_a_server_that_is_down_leaves_changes_queued(
    tmp_path: Path, desktops: dict[str, Any], server: ServerInfo
) -> None:
    a = desktops["A"]
    f = make_jpeg(tmp_path / "in" / "y.jpg", seed=11)
    [aid] = a.importer.import_paths([str(f)]).asset_ids
    sync(a)
    a.assets.set_rating([aid], 3)
    server.running.stop()
    report = pairing.sync(a)
    assert report.errors and report.errors[0].startswith("offline")
    assert a.assets.get(aid).rating == 3  # the desktop works as before
    assert pairing.status(a)["pending"] >= 1
    assert pairing.status(a)["state"] == "offline"


def _until(check: Callable[[], bool], timeout: float = 90.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_background_sync_carries_edits_both_ways_as_jobs(
    tmp_path: Path, desktops: dict[str, Any]
) -> None:
    a, b = desktops["A"], desktops["B"]
    for lib in (a, b):
        pairing.attach(lib)
        lib.jobs.start()
        lib.sync.start_background(interval_s=3600)  # only writes and the long poll queue rounds
    try:
        f = make_jpeg(tmp_path / "in" / "bg.jpg", seed=21)
        [aid] = a.importer.import_paths([str(f)]).asset_ids
        checksum = a.assets.get(aid).checksum
        assert _until(lambda: checksum in by_checksum(b)), "A's import never reached B"
        bid = by_checksum(b)[checksum].id
        b.assets.set_rating([bid], 5)
        assert _until(lambda: a.assets.get(aid).rating == 5), "B's edit never reached A"
        assert a.jobs.failures() == [] and b.jobs.failures() == []
    finally:
        for lib in (a, b):
            lib.sync.stop_background()
            lib.jobs.stop()


def test_a_full_disk_mid_round_is_an_error_and_the_next_round_finishes(
    tmp_path: Path, desktops: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from photodesk.core.sync import client

    a, b = desktops["A"], desktops["B"]
    a.importer.import_paths([str(make_jpeg(tmp_path / "in" / f"z{i}.jpg", seed=30 + i))
                             for i in range(2)])  # fmt: skip
    sync(a)

    def full(self: Any, checksum: str, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(client._ThumbWriter, "write", full)
    report = pairing.sync(b)
    assert report.errors and report.errors[0].startswith("local:")
    assert "No space left" in report.errors[0]
    monkeypatch.undo()
    again = sync(b)
    assert again.thumbnails == 2
    assert all(r.has_thumbnail for r in by_checksum(b).values())


def test_pairing_twice_is_refused_and_keeps_the_key(
    desktops: dict[str, Any], server: ServerInfo
) -> None:
    from photodesk.core import Conflict

    a = desktops["A"]
    with pytest.raises(Conflict, match="paired already"):
        pairing.add(a, server.url, email=desktops["email"], password=desktops["password"])
    assert pairing.status(a)["state"] == "online"  # the first pairing's key is still there
