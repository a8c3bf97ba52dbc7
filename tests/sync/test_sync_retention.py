"""Journal trimming: rows every device has read go, a horizon bounds the rest, and a device whose
cursor was trimmed is told to take a fresh snapshot (and converges through it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from photodesk.core import Library
from photodesk.remote import pairing
from tests.catalogs import Catalogs, sql
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo

os.environ.setdefault("PHOTODESK_KEYRING", "off")
MakeUser = Callable[..., tuple[int, str, str, str]]


def _feed(server: ServerInfo, key: str, cursor: int, device: str) -> tuple[dict, int, list[dict]]:
    """Read the feed to its end as a device does; (items by checksum, cursor, the pages)."""
    seen: dict[str, Any] = {}
    pages: list[dict] = []
    after = None
    while True:
        params: dict[str, Any] = {"cursor": cursor, "limit": 2, "device": device}
        if after is not None:
            params["after"] = after
        r = requests.get(
            server.url + "/api/photodesk/sync/changes", params=params, headers={"x-api-key": key}
        )
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        seen.update({item["checksum"]: item for item in page["items"]})
        cursor, after = page["cursor"], page.get("after")
        if not page["more"]:
            return seen, cursor, pages


def _journal(server: ServerInfo, uid: int) -> list[int]:
    rows = sql(server.lib, "SELECT seq FROM sync_changes WHERE owner_id = ? ORDER BY seq", uid)
    return [r[0] for r in rows]


def _setup(tmp_path: Path, server: ServerInfo, make_user: MakeUser) -> tuple[int, str, list[int]]:
    uid, _, _, key = make_user()
    mine = server.lib.for_user(uid)
    files = [str(make_jpeg(tmp_path / f"r{i}.jpg", seed=700 + i)) for i in range(4)]
    return uid, key, list(mine.importer.import_paths(files).asset_ids)


def test_rows_every_device_has_read_are_trimmed(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser, catalog: Catalogs
) -> None:
    uid, key, ids = _setup(tmp_path, server, make_user)
    mine = server.lib.for_user(uid)
    _, start_a, _ = _feed(server, key, 0, "device-a")  # both take the snapshot
    _, start_b, _ = _feed(server, key, 0, "device-b")
    mine.assets.set_rating(ids, 3)
    mine.tags.add(ids[:2], "Kept")
    before = _journal(server, uid)
    assert before and min(before) <= start_a
    _, end_a, _ = _feed(server, key, start_a, "device-a")  # A reads the edits, B does not
    report = server.lib.sync.trim()
    left = _journal(server, uid)
    assert report.rows > 0 and left == [s for s in before if s > start_b]
    # B reads them too: everything it read goes (the journal's newest row stays)
    seen, end_b, _ = _feed(server, key, start_b, "device-b")
    assert end_b == end_a and seen and all(i["fields"]["rating"][0] == 3 for i in seen.values())
    _feed(server, key, end_a, "device-a")
    server.lib.sync.trim()
    assert _journal(server, uid) in ([], [max(before)])
    # both go on from where they are: no resync, nothing new
    _, _, pages = _feed(server, key, end_b, "device-b")
    assert pages[-1]["items"] == [] and "resync" not in pages[-1]


def test_a_cursor_older_than_the_horizon_is_told_to_resync(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser, catalog: Catalogs
) -> None:
    uid, key, ids = _setup(tmp_path, server, make_user)
    mine = server.lib.for_user(uid)
    _, start, _ = _feed(server, key, 0, "slow-device")
    mine.assets.set_rating(ids[:1], 5)
    mine.tags.add(ids[1:2], "Late")
    # the device never reads again; past the horizon its rows go anyway
    report = server.lib.sync.trim(horizon_days=0)
    assert report.rows > 0 and all(s > start for s in _journal(server, uid)) is True
    seen, _, pages = _feed(server, key, start, "slow-device")
    assert pages[0]["resync"] is True and pages[0]["snapshot"][1] == len(ids)
    assert len(seen) == len(ids)  # a whole snapshot, with the edits it missed
    ratings = sorted(item["fields"]["rating"][0] for item in seen.values())
    assert ratings[-1] == 5 and any("tag:Late" in i["fields"] for i in seen.values())
    # bad device names are one clear line
    r = requests.get(
        server.url + "/api/photodesk/sync/changes",
        params={"cursor": 0, "device": "x" * 65},
        headers={"x-api-key": key},
    )
    assert r.status_code == 400 and "device" in r.json()["message"]


def test_a_desktop_whose_cursor_was_trimmed_converges_through_a_snapshot(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser, catalog: Catalogs
) -> None:
    uid, email, password, _ = make_user()
    mine = server.lib.for_user(uid)
    files = [str(make_jpeg(tmp_path / f"d{i}.jpg", seed=720 + i)) for i in range(3)]
    ids = list(mine.importer.import_paths(files).asset_ids)
    with Library.open(tmp_path / "desk") as desk:
        pairing.add(desk, server.url, email=email, password=password)
        first = pairing.sync(desk)
        assert first.errors == () and len(desk.assets.list()) == 3
        local = next(iter(desk.assets.list()))
        desk.assets.set_rating([local.id], 2)  # a local edit not sent yet: the outbox
        desk.sync.trim(horizon_days=0)  # a paired desktop never trims its outbox
        assert desk.sync.pending() >= 1
        mine.edits.set_title(ids[:1], "Edited on the server")
        mine.tags.add(ids, "Everyone")
        server.lib.sync.trim(horizon_days=0)  # the desktop's cursor is trimmed away
        report = pairing.sync(desk)
        assert report.errors == (), report.errors
        by_sum = {r.checksum: r for r in desk.assets.list()}
        server_rows = {r.checksum: r for r in mine.assets.list()}
        assert set(by_sum) == set(server_rows)
        assert by_sum[mine.assets.get(ids[0]).checksum].title == "Edited on the server"
        assert all("Everyone" in r.tags for r in by_sum.values())
        assert server_rows[local.checksum].rating == 2  # the outbox went up
        assert len(desk.assets.list()) == 3  # no duplicates from the snapshot


def _people_feed(server: ServerInfo, key: str, cursor: int) -> tuple[dict[str, dict], int]:
    """Read the people feed to its end; (items by uid, cursor)."""
    seen: dict[str, dict] = {}
    while True:
        r = requests.get(
            server.url + "/api/photodesk/sync/people",
            params={"cursor": cursor, "limit": 2},
            headers={"x-api-key": key},
        )
        assert r.status_code == 200, r.text
        page = r.json()
        seen.update({item["uid"]: item for item in page["items"]})
        cursor = page["cursor"]
        if not page["more"]:
            return seen, cursor


def _people_log(server: ServerInfo, uid: int) -> list[tuple[int, str]]:
    rows = sql(
        server.lib, "SELECT seq, uid FROM sync_people_log WHERE owner_id = ? ORDER BY seq", uid
    )
    return [(r[0], r[1]) for r in rows]


def test_the_people_log_keeps_only_the_newest_row_of_each_person_and_face(
    tmp_path: Path, server: ServerInfo, make_user: MakeUser, catalog: Catalogs
) -> None:
    uid, key, ids = _setup(tmp_path, server, make_user)
    people = server.lib.for_user(uid).people
    ann, bo = people.create("Ann"), people.create("Bo")
    face = people.add_face(ids[0], (0.1, 0.1, 0.3, 0.3), ann)
    people.add_face(ids[1], (0.2, 0.2, 0.4, 0.4), bo)
    _, start = _people_feed(server, key, 0)  # a device that has read everything so far
    for name in ("Ann B", "Ann C", "Annie"):
        people.rename(ann, name)
    people.assign_face(face, bo)
    people.hide(bo)
    _, middle = _people_feed(server, key, start)  # stamps the new rows (each has its uid)
    people.rename(bo, "Bo Z")
    before = _people_log(server, uid)
    assert len(before) > 4 + 1  # 2 people + 2 faces, then repeated writes to them
    report = server.lib.sync.trim()
    after = _people_log(server, uid)
    objects = {u for _, u in before if u is not None}
    kept = [u for _, u in after if u is not None]
    assert report.people_rows > 0 and len(after) == len(before) - report.people_rows
    assert sorted(kept) == sorted(objects)  # one row each: the newest
    assert after[-1] == before[-1]  # the newest row of the log stays (not stamped yet)
    newest = {u: max(s for s, v in before if v == u) for u in objects}
    assert all(seq == newest[u] for seq, u in after if u is not None)
    # a device that pairs now still gets every person and face, as they are now
    fresh, end = _people_feed(server, key, 0)
    names = {i["fields"]["name"][0] for i in fresh.values() if i["kind"] == "person"}
    assert names == {"Annie", "Bo Z"} and len(fresh) == 4
    hidden = [i["fields"]["hidden"][0] for i in fresh.values() if i["kind"] == "person"]
    assert sorted(hidden) == [False, True]
    # one that had read part of it gets what changed since, and nothing is lost
    since, end_mid = _people_feed(server, key, middle)
    assert end_mid == end
    assert {i["fields"]["name"][0] for i in since.values() if i["kind"] == "person"} == {"Bo Z"}
    since_start, _ = _people_feed(server, key, start)
    assert {i["fields"]["name"][0] for i in since_start.values() if i["kind"] == "person"} == {
        "Annie",
        "Bo Z",
    }
    assert any(i["kind"] == "face" for i in since_start.values())  # the face moved to Bo
    # Bo's rename was stamped by that read: Bo's row before it goes next time, then nothing
    assert server.lib.sync.trim().people_rows == 1
    assert server.lib.sync.trim().people_rows == 0
