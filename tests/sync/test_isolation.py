"""Two users on one server cannot see or touch each other's assets by guessing ids (404)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from tests.conftest import make_jpeg

MINE = "/api/photodesk/assets"
_PLACEHOLDER = re.compile(r"\{[^}]+\}")


def _give(lib, asset_ids: list[int], user_id: int) -> None:
    """Test setup: hand imported assets to ``user_id`` (uploads do this through the core)."""
    with lib.write() as db:
        for aid in asset_ids:
            db.execute(
                text("UPDATE assets SET owner_id = :u WHERE id = :a"), {"u": user_id, "a": aid}
            )


@pytest.fixture
def two_users(server, make_user, tmp_path: Path):
    """Anna owns two photos, Ben one; returns (anna, ben, anna_ids, ben_ids) with keys."""
    anna = make_user("anna@example.org")
    ben = make_user("ben@example.org")
    files = [make_jpeg(tmp_path / "in" / f"p{i}.jpg", seed=i) for i in range(3)]
    report = server.lib.importer.import_paths(files, workers=1)
    assert report.imported == 3
    ids = sorted(report.asset_ids)
    _give(server.lib, ids[:2], anna[0])
    _give(server.lib, ids[2:], ben[0])
    return anna, ben, ids[:2], ids[2:]


def _get(server, path: str, key: str) -> requests.Response:
    return requests.get(server.url + path, headers={"x-api-key": key}, timeout=60)


def test_owners_reach_their_own_assets(server, two_users) -> None:
    anna, _, anna_ids, _ = two_users
    listing = _get(server, MINE, anna[3])
    assert listing.status_code == 200
    assert sorted(a["id"] for a in listing.json()["items"]) == anna_ids
    aid = anna_ids[0]
    info = _get(server, f"{MINE}/{aid}", anna[3])
    assert info.status_code == 200 and info.json()["owner_id"] == anna[0]
    assert "path" not in info.json()  # server paths stay on the server
    thumb = _get(server, f"{MINE}/{aid}/thumbnail", anna[3])
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"
    preview = _get(server, f"{MINE}/{aid}/thumbnail?size=preview", anna[3])
    assert preview.status_code == 200 and preview.content[:2] == b"\xff\xd8"
    original = _get(server, f"{MINE}/{aid}/original", anna[3])
    assert original.status_code == 200
    src = server.lib.accounts.readable_asset(anna[0], aid).path
    assert original.content == Path(src).read_bytes()
    assert "attachment" in original.headers["Content-Disposition"]


def test_listing_shows_only_the_callers_assets(server, two_users) -> None:
    anna, ben, anna_ids, ben_ids = two_users
    got = _get(server, MINE + "?limit=1000", ben[3]).json()["items"]
    assert [a["id"] for a in got] == ben_ids
    page = _get(server, MINE + "?limit=1", anna[3]).json()
    assert len(page["items"]) == 1 and page["next_offset"] == 1
    rest = _get(server, MINE + "?limit=1&offset=1", anna[3]).json()
    assert rest["next_offset"] is None
    assert {page["items"][0]["id"], rest["items"][0]["id"]} == set(anna_ids)


def test_guessed_ids_are_not_found_on_every_asset_route(server, two_users) -> None:
    _, ben, anna_ids, _ = two_users
    missing = max(anna_ids) + 1000
    for suffix in ("", "/thumbnail", "/thumbnail?size=preview", "/original"):
        for guess in anna_ids:
            theirs = _get(server, f"{MINE}/{guess}{suffix}", ben[3])
            nothing = _get(server, f"{MINE}/{missing}{suffix}", ben[3])
            assert theirs.status_code == nothing.status_code == 404, suffix
            # the same answer as for an id that does not exist: nothing leaks
            assert theirs.json()["message"].replace(str(guess), "N") == nothing.json()[
                "message"
            ].replace(str(missing), "N")
        for junk in ("abc", "-1", "1e3", "99999999999999999999999", "..%2F..%2Fetc"):
            assert _get(server, f"{MINE}/{junk}{suffix}", ben[3]).status_code == 404


def test_every_route_with_an_id_refuses_other_users_assets(server, two_users) -> None:
    """Sweep every registered route (other modules' too) with Anna's ids as Ben."""
    anna, ben, anna_ids, _ = two_users
    secrets = set()
    for aid in anna_ids:
        rec = server.lib.accounts.readable_asset(anna[0], aid)
        secrets |= {rec.checksum, Path(rec.path).name}
    tried = 0
    for route in server.app.router.routes():
        info = route.get_info()
        pattern = info.get("formatter") or info.get("path") or ""
        if not _PLACEHOLDER.search(pattern) or route.method in ("HEAD", "OPTIONS"):
            continue
        method = "GET" if route.method == "*" else route.method
        for aid in anna_ids:
            path = _PLACEHOLDER.sub(str(aid), pattern)
            r = requests.request(
                method,
                server.url + path,
                headers={"x-api-key": ben[3]},
                json={} if method in ("POST", "PUT", "PATCH") else None,
                timeout=60,
            )
            tried += 1
            assert r.status_code >= 400, (method, path, r.status_code)
            assert r.status_code != 403, (method, path)  # 403 would confirm the id exists
            assert not any(s in r.text for s in secrets), (method, path)
    assert tried >= 3 * len(anna_ids)
    # nothing Ben tried changed Anna's assets
    listing = _get(server, MINE, anna[3]).json()["items"]
    assert sorted(a["id"] for a in listing) == anna_ids
    assert all(not a["trashed_at"] and not a["favorite"] for a in listing)


def test_anonymous_callers_get_401_not_the_asset(server, two_users) -> None:
    _, _, anna_ids, _ = two_users
    for suffix in ("", "/thumbnail", "/original"):
        r = requests.get(f"{server.url}{MINE}/{anna_ids[0]}{suffix}", timeout=60)
        assert r.status_code == 401
