"""The signed-in web page /memories: the caller's own "on this day" photos, nobody else's."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import requests

from tests.conftest import make_jpeg
from tests.sync.hostile import wait_analysed


def _upload(lib, user_id: int, path: Path) -> int:
    data = path.read_bytes()
    staged = lib.uploads.stage(user_id)
    with staged:
        staged.write(data)
        staged.finish()
    outcome = lib.uploads.ingest(user_id, staged.path, path.name, hashlib.sha1(data).hexdigest())
    assert outcome.asset_id is not None, outcome
    wait_analysed(lib)  # the photo's own date replaces the upload's once it is analysed
    return outcome.asset_id


def _get(server, path: str, cookies=None) -> requests.Response:
    return requests.get(server.url + path, cookies=cookies, allow_redirects=False, timeout=60)


def test_memories_page_shows_the_callers_past_years_only(server, make_user, tmp_path: Path):
    lib = server.lib
    ann, bob = make_user("ann@example.org"), make_user("bob@example.org")
    when = {
        "a1": "2022:07:04 10:00:00",  # 2 years ago today
        "a2": "2022:07:04 18:00:00",
        "a3": "2023:07:02 09:00:00",  # this week 1 year ago
        "a4": "2023:11:20 09:00:00",  # not a memory of 4 July
    }
    ann_ids = {
        k: _upload(lib, ann[0], make_jpeg(tmp_path / f"{k}.jpg", when=v, seed=i))
        for i, (k, v) in enumerate(when.items())
    }
    bob_id = _upload(
        lib, bob[0], make_jpeg(tmp_path / "b1.jpg", when="2022:07:04 11:00:00", seed=9)
    )
    cookies = {
        who: {server.config.cookie_name: lib.accounts.create_session(u[0])}
        for who, u in (("ann", ann), ("bob", bob))
    }

    r = _get(server, "/memories?date=2024-07-04", cookies["ann"])
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers["Cache-Control"]
    html = r.text
    assert "2 years ago today" in html and "This week 1 year ago" in html
    assert "Thursday 4 July 2024" in html
    assert html.index("This week 1 year ago") < html.index("2 years ago today")  # newest first
    shown = [
        int(i)
        for i in re.findall(r'data-index="\d+"[^>]*><img src="/api/photodesk/assets/(\d+)/', html)
    ]
    assert sorted(shown) == sorted([ann_ids["a1"], ann_ids["a2"], ann_ids["a3"]])
    assert [int(i) for i in re.findall(r'data-index="(\d+)"', html)] == [0, 1, 2]
    assert 'id="gallery-data"' in html and 'id="lightbox"' in html
    # the thumbnails come through the authenticated asset route
    thumb = _get(server, f"/api/photodesk/assets/{ann_ids['a1']}/thumbnail", cookies["ann"])
    assert thumb.status_code == 200

    bob_html = _get(server, "/memories?date=2024-07-04", cookies["bob"]).text
    assert f"/assets/{bob_id}/" in bob_html
    assert not any(f"/assets/{i}/" in bob_html for i in ann_ids.values())

    quiet = _get(server, "/memories?date=2024-03-01", cookies["ann"])
    assert quiet.status_code == 200 and "No memories today." in quiet.text
    assert 'id="lightbox"' not in quiet.text

    bad = _get(server, "/memories?date=4th-of-July", cookies["ann"])
    assert bad.status_code == 400 and "A date is YYYY-MM-DD" in bad.text

    signed_out = _get(server, "/memories?date=2024-07-04")
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/login?next=/memories")
    # the pages link to it
    assert 'href="/memories"' in _get(server, "/albums", cookies["ann"]).text
