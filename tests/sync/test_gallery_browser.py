"""The public gallery in headless Chromium (Debian's, via Playwright): grid, lightbox, download,
upload; screenshots at phone and desktop sizes (to $PHOTODESK_SCREENSHOT_DIR when set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.sync.test_shares_fixtures import make_album, upload_photo

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in the dev extra")


# Permissively licensed corpus photos (metadata-extractor-images, Pillow, Immich test assets).
PHOTOS = (
    "mei__Minolta_DiMAGE_X.jpg",
    "mei__Canon_EOS_7D.jpg",
    "mei__Sony_DSC-HX5V_2.jpg",
    "mei__Olympus_PEN_E-P3.jpg",
    "mei__Nikon_D5000.jpg",
    "mei__Traveler_SX330Z.jpg",
    "mei__Apple_iPhone_4.jpg",
    "mei__Kodak_DC3400.jpg",
    "mei__Canon_EOS_REBEL_T3i.jpg",
    "mei__FujiFilm_FinePixS2Pro.jpg",
    "recurser__Landscape_0.jpg",
    "immich__faces_portrait.jpg",
)
VISITOR_PHOTO = "mei__Issue_614.jpg"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture
def album_link(server, make_user, tmp_path: Path):
    lib = server.lib
    uid = make_user("grandma-host@example.org")[0]
    ids = [upload_photo(lib, uid, name, tmp_path / "in") for name in PHOTOS]
    album = make_album(lib, uid, "Summer 2026", ids)
    link = lib.shares.create_link(
        uid, album_id=album, allow_download=True, allow_upload=True, title="Summer 2026"
    )
    return uid, album, ids, link


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PHOTODESK_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page(browser, viewport: dict[str, int], *, phone: bool, **extra):
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if phone else 1,
        is_mobile=phone,
        has_touch=phone,
        accept_downloads=True,
        **extra,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else None
        ),
    )
    return context, page, errors, outside


def _wait_images(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('#grid img')].slice(0, 12)"
        ".every(i => i.complete && i.naturalWidth > 0)",
        timeout=60_000,
    )


def test_desktop_gallery_lightbox_keys_and_downloads(server, browser, album_link, tmp_path) -> None:
    _uid, _album, ids, link = album_link
    context, page, errors, outside = _page(browser, DESKTOP, phone=False)
    try:
        page.goto(f"{server.url}/share/{link.key}")
        assert page.title() == "Summer 2026"
        assert page.locator("#grid a.tile").count() == len(ids)
        og = page.get_attribute('meta[property="og:image"]', "content")
        assert og.startswith(f"{server.url}/share/{link.key}/thumb/")
        _wait_images(page)
        page.screenshot(path=str(_shots(tmp_path) / "gallery.png"))

        page.click("#grid a.tile >> nth=0")
        page.wait_for_selector("#lightbox:not([hidden])")
        first = page.get_attribute("#current", "src")
        assert first.endswith(f"/preview/{ids[0]}") or "/preview/" in first
        assert page.inner_text("#position") == f"1 / {len(ids)}"
        page.keyboard.press("ArrowRight")
        assert page.inner_text("#position") == f"2 / {len(ids)}"
        second = page.get_attribute("#current", "src")
        assert second != first
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")  # wraps to the last
        assert page.inner_text("#position") == f"{len(ids)} / {len(ids)}"
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => { const i = document.getElementById('current'); "
            "return i && i.complete && i.naturalWidth > 0; }"
        )
        page.click("#info")
        page.wait_for_selector("#details dl")
        assert "Camera" in page.inner_text("#details")
        page.screenshot(path=str(_shots(tmp_path) / "gallery-lightbox.png"))
        page.click("#info")

        # download the photo shown, then the zip of the album
        with page.expect_download() as info:
            page.click("#download")
        one = info.value
        one_path = tmp_path / "one.jpg"
        one.save_as(one_path)
        assert (
            one_path.read_bytes() == (CORPUS / PHOTOS[0]).read_bytes()
            or one_path.stat().st_size > 1000
        )
        page.keyboard.press("Escape")
        page.wait_for_selector("#lightbox", state="hidden")
        with page.expect_download() as info:
            page.click("#download-all")
        zpath = tmp_path / "album.zip"
        info.value.save_as(zpath)
        import zipfile

        with zipfile.ZipFile(zpath) as zf:
            assert sorted(zf.namelist()) == sorted(PHOTOS)
    finally:
        context.close()
    assert not errors, errors
    assert not outside, outside  # no CDNs, no fonts, nothing off this server


def test_phone_gallery_swipe_and_visitor_upload(server, browser, album_link, tmp_path) -> None:
    uid, album, ids, link = album_link
    context, page, errors, outside = _page(browser, PHONE, phone=True)
    try:
        page.goto(f"{server.url}/share/{link.key}")
        _wait_images(page)
        page.screenshot(path=str(_shots(tmp_path) / "gallery-phone.png"))
        page.tap("#grid a.tile >> nth=1")
        page.wait_for_selector("#lightbox:not([hidden])")
        assert page.inner_text("#position") == f"2 / {len(ids)}"
        page.wait_for_function(
            "() => { const i = document.getElementById('current'); "
            "return i && i.complete && i.naturalWidth > 0; }"
        )
        page.screenshot(path=str(_shots(tmp_path) / "gallery-lightbox-phone.png"))
        # a swipe to the left shows the next photo, a swipe to the right the one before
        for dx, want in ((-160, 3), (160, 2)):
            page.evaluate(
                """dx => {
                  const box = document.getElementById('lightbox');
                  const t = (x) => new Touch(
                    {identifier: 1, target: box, clientX: x, clientY: 400});
                  const fire = (type, touches, changed) => box.dispatchEvent(new TouchEvent(
                    type, {touches: touches, changedTouches: changed, bubbles: true}));
                  fire('touchstart', [t(200)], [t(200)]);
                  fire('touchend', [], [t(200 + dx)]);
                }""",
                dx,
            )
            assert page.inner_text("#position") == f"{want} / {len(ids)}"
        page.tap("#close")
        page.wait_for_selector("#lightbox", state="hidden")
        # a visitor adds a photo: it lands in the album and the page shows it after reloading
        page.set_input_files("#upload-input", str(CORPUS / VISITOR_PHOTO))
        page.wait_for_function(
            "n => document.querySelectorAll('#grid a.tile').length === n",
            arg=len(ids) + 1,
            timeout=120_000,
        )
    finally:
        context.close()
    assert not errors, errors
    assert not outside, outside
    album_ids = server.lib.shares.album_asset_ids(uid, album)
    assert len(album_ids) == len(ids) + 1
    new = (set(album_ids) - set(ids)).pop()
    assert server.lib.accounts.readable_asset(uid, new).owner_id == uid


def test_a_view_only_link_offers_no_download_or_upload(
    server, browser, album_link, tmp_path
) -> None:
    uid, album, ids, _ = album_link
    view = server.lib.shares.create_link(uid, album_id=album, show_metadata=False)
    context, page, errors, _outside = _page(browser, PHONE, phone=True)
    try:
        page.goto(f"{server.url}/share/{view.key}")
        assert page.locator("#grid a.tile").count() == len(ids)
        assert page.locator("#download-all").count() == 0
        assert page.locator("#upload-input").count() == 0
        page.tap("#grid a.tile >> nth=0")
        page.wait_for_selector("#lightbox:not([hidden])")
        assert page.locator("#download").count() == 0 and page.locator("#info").count() == 0
    finally:
        context.close()
    assert not errors, errors


def test_a_password_link_in_the_browser(server, browser, album_link, tmp_path) -> None:
    uid, album, ids, _ = album_link
    link = server.lib.shares.create_link(uid, album_id=album, password="open sesame")
    context, page, errors, _outside = _page(browser, PHONE, phone=True)
    try:
        page.goto(f"{server.url}/share/{link.key}")
        page.fill("#password", "wrong")
        page.click("button[type=submit]")
        assert "not right" in page.inner_text(".error")
        page.fill("#password", "open sesame")
        page.click("button[type=submit]")
        page.wait_for_selector("#grid")
        assert page.locator("#grid a.tile").count() == len(ids)
    finally:
        context.close()
    assert not errors, errors
