"""The signed-in web pages /albums and /albums/<id>, the timeline's include_shared, and the same
pages in headless Chromium (signing in through /login, the shared album, its lightbox)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

from tests.sync.browser import chromium_path
from tests.sync.test_gallery_browser import DESKTOP
from tests.sync.test_shares_fixtures import make_album, upload_photo

TRIP = ("mei__Canon_EOS_7D.jpg", "mei__Nikon_D5000.jpg", "recurser__Landscape_0.jpg")
PRIVATE = ("mei__Olympus_PEN_E-P3.jpg",)
MINE = ("mei__Sony_DSC-HX5V_2.jpg",)
MORE = ("mei__Minolta_DiMAGE_X.jpg", "mei__Kodak_DC3400.jpg")


@pytest.fixture
def world(server, make_user, tmp_path: Path) -> dict:
    """Ann owns "Trip to Porto" (shared with Bob as viewer, Cleo as editor) and "Studio gear";
    Bob owns "Bob's garden". Each has a session cookie."""
    lib = server.lib
    ann = make_user("ann@example.org", name="Ann Owner")
    bob = make_user("bob@example.org", name="Bob")
    cleo = make_user("cleo@example.org")
    trip_ids = [upload_photo(lib, ann[0], n, tmp_path / "ann") for n in TRIP]
    private_ids = [upload_photo(lib, ann[0], n, tmp_path / "ann") for n in PRIVATE]
    mine_ids = [upload_photo(lib, bob[0], n, tmp_path / "bob") for n in MINE]
    trip = make_album(lib, ann[0], "Trip to Porto", trip_ids)
    private = make_album(lib, ann[0], "Studio gear", private_ids)
    garden = make_album(lib, bob[0], "Bob's garden", mine_ids)
    lib.shares.share_album(ann[0], trip, bob[0], "viewer")
    lib.shares.share_album(ann[0], trip, cleo[0], "editor")
    name = server.config.cookie_name
    return {
        "ann": ann,
        "bob": bob,
        "cleo": cleo,
        "trip": trip,
        "private": private,
        "garden": garden,
        "trip_ids": trip_ids,
        "private_ids": private_ids,
        "mine_ids": mine_ids,
        "cookies": {
            who: {name: lib.accounts.create_session(user[0])}
            for who, user in (("ann", ann), ("bob", bob), ("cleo", cleo))
        },
    }


def _get(server, path: str, cookies=None, **kw) -> requests.Response:
    return requests.get(server.url + path, cookies=cookies, allow_redirects=False, timeout=60, **kw)


def _album_links(html: str) -> set[int]:
    return {int(m) for m in re.findall(r'href="/albums/(\d+)"', html)}


def test_albums_page_lists_own_and_shared_albums(server, world) -> None:
    r = _get(server, "/albums", world["cookies"]["bob"])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "no-store" in r.headers["Cache-Control"]
    html = r.text
    assert _album_links(html) == {world["garden"], world["trip"]}
    assert "Bob&#39;s garden" in html and "Trip to Porto" in html and "Studio gear" not in html
    shared = html[html.index('id="shared-albums"') :]
    assert "Ann Owner" in shared and "ann@example.org" in shared
    assert 'class="badge role-viewer">viewer<' in shared
    assert "3 items" in shared
    assert "/upload/" in html and 'action="/logout"' in html
    assert "https://" not in html  # no CDNs
    # the cover comes through the authenticated asset route, readable through the grant
    cover = re.search(r'src="(/api/photodesk/assets/(\d+)/thumbnail)"', shared)
    assert cover and int(cover.group(2)) in world["trip_ids"]
    img = _get(server, cover.group(1), world["cookies"]["bob"])
    assert img.status_code == 200 and img.headers["Content-Type"] == "image/jpeg"
    assert _get(server, cover.group(1)).status_code == 401  # not without the session

    # Cleo sees the same album as an editor; Ann sees her two albums and nothing shared.
    cleo = _get(server, "/albums", world["cookies"]["cleo"]).text
    assert 'class="badge role-editor">editor<' in cleo
    assert _album_links(cleo) == {world["trip"]}
    ann = _get(server, "/albums", world["cookies"]["ann"]).text
    assert _album_links(ann) == {world["trip"], world["private"]}
    assert "No one has shared an album with you yet." in ann


def test_album_page_grid_roles_and_not_found(server, world) -> None:
    trip = f"/albums/{world['trip']}"
    r = _get(server, trip, world["cookies"]["bob"])
    assert r.status_code == 200, r.text
    tiles = [
        int(i)
        for i in re.findall(
            r'data-index="\d+" class="tile"><img src="'
            r'/api/photodesk/assets/(\d+)/thumbnail"',
            r.text,
        )
    ]
    assert sorted(tiles) == sorted(world["trip_ids"])
    assert 'id="lightbox"' in r.text and "gallery.js" in r.text
    assert 'id="remove"' not in r.text  # a viewer cannot change the album
    assert "shared by Ann Owner" in r.text and 'id="shared-with"' not in r.text
    for tile in tiles:  # previews and originals too, through the one access rule
        pv = _get(
            server, f"/api/photodesk/assets/{tile}/thumbnail?size=preview", world["cookies"]["bob"]
        )
        assert pv.status_code == 200
    assert (
        _get(
            server, f"/api/photodesk/assets/{tiles[0]}/original", world["cookies"]["bob"]
        ).status_code
        == 200
    )

    editor = _get(server, trip, world["cookies"]["cleo"]).text
    assert 'id="remove"' in editor and f'"remove": "/api/photodesk/albums/{world["trip"]}' in (
        editor.replace('"remove":"', '"remove": "')
    )
    owner = _get(server, trip, world["cookies"]["ann"]).text
    shared_with = owner[owner.index('id="shared-with"') :]
    assert "bob@example.org" in shared_with and "cleo@example.org" in shared_with
    assert shared_with.index("role-viewer") < shared_with.index("role-editor")

    # Someone else's album that is not shared with the caller, and junk ids: 404 pages.
    for path in (f"/albums/{world['private']}", "/albums/99999", "/albums/abc", "/albums/-1"):
        r = _get(server, path, world["cookies"]["bob"])
        assert r.status_code == 404, path
        assert "Album not found" in r.text and "Studio gear" not in r.text
    assert _get(server, f"/albums/{world['garden']}", world["cookies"]["ann"]).status_code == 404


def test_signed_out_browsers_go_to_the_login_page(server, world) -> None:
    for path in ("/albums", f"/albums/{world['trip']}"):
        r = _get(server, path)
        assert r.status_code == 302
        assert r.headers["Location"] == f"/login?next={path}"
        followed = requests.get(server.url + path, timeout=60)
        assert followed.status_code == 200 and 'id="password-form"' in followed.text
        assert f'name="next" value="{path}"' in followed.text
    stale = {server.config.cookie_name: "not-a-session"}
    assert _get(server, "/albums", stale).status_code == 302
    # An API key works too (it is a signed-in caller), and /albums/ goes to /albums.
    assert _get(server, "/albums", headers={"x-api-key": world["bob"][3]}).status_code == 200
    assert _get(server, "/albums/").headers["Location"] == "/albums"


def test_revoked_grant_hides_the_album(server, world) -> None:
    bob = world["cookies"]["bob"]
    trip = world["trip"]
    assert _get(server, f"/albums/{trip}", bob).status_code == 200
    server.lib.shares.unshare_album(world["ann"][0], trip, world["bob"][0])
    assert _album_links(_get(server, "/albums", bob).text) == {world["garden"]}
    assert _get(server, f"/albums/{trip}", bob).status_code == 404
    for aid in world["trip_ids"]:
        assert _get(server, f"/api/photodesk/assets/{aid}/thumbnail", bob).status_code == 404
    # Cleo's grant is untouched.
    assert _get(server, f"/albums/{trip}", world["cookies"]["cleo"]).status_code == 200


def test_editor_removes_a_photo_viewer_cannot(server, world) -> None:
    trip = world["trip"]
    api = f"{server.url}/api/photodesk/albums/{trip}/assets"
    first = world["trip_ids"][0]
    same = {"Origin": server.url}
    r = requests.delete(
        api, json={"ids": [first]}, cookies=world["cookies"]["bob"], headers=same, timeout=60
    )
    assert r.status_code == 403
    r = requests.delete(
        api,
        json={"ids": [first]},
        cookies=world["cookies"]["cleo"],
        headers={"Origin": "https://evil.example"},
        timeout=60,
    )
    assert r.status_code == 403
    r = requests.delete(
        api, json={"ids": [first]}, cookies=world["cookies"]["cleo"], headers=same, timeout=60
    )
    assert r.status_code == 200 and r.json() == {"removed": 1}
    page = _get(server, f"/albums/{trip}", world["cookies"]["bob"]).text
    assert f"/api/photodesk/assets/{first}/thumbnail" not in page
    assert "2 items" in page


def _listing(server, cookies, query: str = "") -> list[dict]:
    r = _get(server, "/api/photodesk/assets" + query, cookies)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_timeline_include_shared(server, world) -> None:
    bob = world["cookies"]["bob"]
    ann_id = world["ann"][0]
    own = _listing(server, bob)
    assert {i["id"] for i in own} == set(world["mine_ids"])
    assert all("shared" not in i for i in own)  # default off, answer unchanged
    assert _listing(server, bob, "?include_shared=0") == own
    both = _listing(server, bob, "?include_shared=1")
    assert sorted(i["id"] for i in both) == sorted(world["mine_ids"] + world["trip_ids"])
    for item in both:
        shared = item["id"] in world["trip_ids"]
        assert item["shared"] is shared
        assert item["owner_id"] == (ann_id if shared else world["bob"][0])
    # Filters and paging apply to the whole listing.
    assert len(_listing(server, bob, "?include_shared=true&limit=2")) == 2
    assert _listing(server, bob, "?include_shared=1&favorite=true") == []
    # Same rule as can_read: a photo Ann trashes leaves Bob's timeline; so does a revoked grant.
    server.lib.for_user(ann_id).assets.trash([world["trip_ids"][0]])
    ids = {i["id"] for i in _listing(server, bob, "?include_shared=1")}
    assert ids == set(world["mine_ids"] + world["trip_ids"][1:])
    assert not _listing(server, bob, "?include_shared=1&trashed=true")
    server.lib.shares.unshare_album(ann_id, world["trip"], world["bob"][0])
    assert {i["id"] for i in _listing(server, bob, "?include_shared=1")} == set(world["mine_ids"])
    # Ann's own listing never shows Bob's photos (nothing of his is in her albums).
    ann = _listing(server, world["cookies"]["ann"], "?include_shared=1")
    assert {i["id"] for i in ann} == set(world["trip_ids"][1:] + world["private_ids"])
    assert not any(i["shared"] for i in ann)
    assert _get(server, "/api/photodesk/assets?include_shared=maybe", bob).status_code == 400


def test_sign_out_ends_the_session(server, world) -> None:
    bob = world["cookies"]["bob"]
    r = requests.post(
        server.url + "/logout",
        cookies=bob,
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
        timeout=60,
    )
    assert r.status_code == 403
    assert _get(server, "/albums", bob).status_code == 200
    r = requests.post(
        server.url + "/logout",
        cookies=bob,
        headers={"Origin": server.url},
        allow_redirects=False,
        timeout=60,
    )
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    assert _get(server, "/albums", bob).status_code == 302


# ----- in a browser -------------------------------------------------------------------------------
def test_browser_sign_in_albums_shared_album_lightbox(server, world, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in the dev extra")
    exe = chromium_path()
    if exe is None:
        pytest.skip("no chromium executable (apt-get install chromium)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    shots = Path(os.environ.get("PHOTODESK_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    _, email, password, _ = world["bob"]
    # A fuller page for the screenshot: one more album of Bob's, one more shared with him.
    lib = server.lib
    more = [upload_photo(lib, world["bob"][0], n, tmp_path / "more") for n in MORE]
    make_album(lib, world["bob"][0], "Old cameras", more)
    lib.shares.share_album(world["ann"][0], world["private"], world["bob"][0], "editor")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=args)
        try:
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            errors: list[str] = []
            outside: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "response",
                lambda r: (
                    errors.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )
            page.on(
                "request",
                lambda r: (
                    None
                    if r.url.startswith((server.url, "data:", "blob:"))
                    else outside.append(r.url)
                ),
            )

            page.goto(f"{server.url}/albums")
            assert "/login?next=/albums" in page.url
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("#password-form button[type=submit]")
            page.wait_for_url(f"{server.url}/albums")
            assert page.title() == "Albums"
            assert page.locator("#shared-albums .album-card").count() == 2
            assert page.locator("#own-albums .album-card").count() == 2
            page.wait_for_function(
                "() => [...document.querySelectorAll('img.cover')]"
                ".every(i => i.complete && i.naturalWidth > 0)"
            )
            page.screenshot(path=str(shots / "web-albums.png"))

            page.click("#shared-albums .album-card >> text=Trip to Porto")
            page.wait_for_url(f"{server.url}/albums/{world['trip']}")
            assert page.locator("#grid a.tile").count() == len(TRIP)
            assert page.locator("#remove").count() == 0
            page.wait_for_function(
                "() => [...document.querySelectorAll('#grid img')]"
                ".every(i => i.complete && i.naturalWidth > 0)"
            )
            page.screenshot(path=str(shots / "web-album.png"))
            page.click("#grid a.tile >> nth=1")
            page.wait_for_selector("#lightbox:not([hidden])")
            assert page.inner_text("#position") == f"2 / {len(TRIP)}"
            page.wait_for_function(
                "() => { const i = document.getElementById('current'); "
                "return i && i.complete && i.naturalWidth > 0; }"
            )
            assert "/thumbnail?size=preview" in page.get_attribute("#current", "src")
            page.click("#info")
            page.wait_for_selector("#details dl")
            assert "Camera" in page.inner_text("#details")
            page.keyboard.press("ArrowRight")
            assert page.inner_text("#position") == f"3 / {len(TRIP)}"
            page.keyboard.press("Escape")
            page.wait_for_selector("#lightbox", state="hidden")
            context.close()

            # An editor removes the second photo from the lightbox.
            editor = browser.new_context(viewport=DESKTOP)
            name = server.config.cookie_name
            editor.add_cookies(
                [{"name": name, "value": world["cookies"]["cleo"][name], "url": server.url}]
            )
            page = editor.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: d.accept())
            page.goto(f"{server.url}/albums/{world['trip']}")
            page.click("#grid a.tile >> nth=1")
            page.wait_for_selector("#lightbox:not([hidden])")
            removed = int(page.get_attribute("#grid a.tile >> nth=1", "href").split("/")[4])
            page.click("#remove")
            page.wait_for_function("() => document.querySelectorAll('#grid a.tile').length === 2")
            assert page.inner_text("#position") == "2 / 2"
            assert page.inner_text("#item-count") == "2 items"
            editor.close()
        finally:
            browser.close()
    assert not errors, errors
    assert not outside, outside
    ids = server.lib.shares.album_asset_ids(world["ann"][0], world["trip"])
    assert removed not in ids and len(ids) == 2
