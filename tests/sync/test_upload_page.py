"""The phone upload page in headless Chromium (Debian's, via Playwright) uploading real files."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in the dev extra")


ROOT = Path(__file__).resolve().parents[2]
PICKED = [
    "mei__Canon_EOS_REBEL_T3i.jpg",
    "exiftool__Apple.jpg",
    "facerec__obama2.jpg",
    "filetype__fixture-json.webp",  # not a picture: the server refuses it with a reason
]
BROKEN = "filetype__fixture-json.webp"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser) -> Iterator[object]:
    """A phone-sized page; service workers blocked so request interception sees every call."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        service_workers="block",
    )
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    try:
        yield page
    finally:
        context.close()
    assert not errors, errors


def _login(page, url: str, email: str, password: str) -> None:
    page.goto(url)
    assert urlsplit(page.url).path == "/upload/"
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#email", email)
    page.fill("#password", "wrong password")
    page.click("#login-button")
    page.wait_for_selector("#login-error:not([hidden])")
    assert "Wrong email or password" in page.inner_text("#login-error")
    page.fill("#password", password)
    page.click("#login-button")
    page.wait_for_selector("#uploader:not([hidden])")
    assert page.inner_text("#who") == email


def _wait_done(page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#list .item').length === n && "
        "document.querySelector('#summary').dataset.state === 'done'",
        arg=count,
        timeout=120_000,
    )


def _statuses(page) -> dict[str, tuple[str, str]]:
    return page.eval_on_selector_all(
        "#list .item",
        "els => Object.fromEntries(els.map(e => [e.querySelector('.name').textContent,"
        " [e.dataset.status, e.querySelector('.state').textContent]]))",
    )


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def test_pick_upload_skip_known(server, make_user, corpus, phone, tmp_path) -> None:
    uid, email, password, _ = make_user()
    page = phone
    workers: list[str] = []
    page.on("worker", lambda w: workers.append(w.url))
    _login(page, server.url + "/upload", email, password)
    files = [corpus / name for name in PICKED]
    page.set_input_files("#files", [str(f) for f in files])
    _wait_done(page, len(files))
    states = _statuses(page)
    for f in files:
        status, text = states[f.name]
        if f.name == BROKEN:
            assert status == "rejected", text
            assert text.startswith("Not imported: ") and len(text) > len("Not imported: ") + 5
        else:
            assert status == "done", text
    summary = page.inner_text("#summary-text")
    assert "3 uploaded" in summary and "1 not imported" in summary
    assert page.get_attribute("#total", "value") == "1"
    assert workers == [server.url + "/upload/hash-worker.js"]  # hashing ran off the main thread

    shot = Path(os.environ.get("PHOTODESK_SCREENSHOT_DIR") or tmp_path) / "upload-page.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 5000

    server.analysed()  # the upload's job moves each file from pending/ to its place
    records = server.lib.accounts.readable_assets(uid)
    good = [f for f in files if f.name != BROKEN]
    assert sorted(r.checksum for r in records) == sorted(_sha1(f) for f in good)
    for r in records:
        assert Path(r.path).is_file()

    # Picking the same files again: the server has them, nothing is sent.
    sent: list[str] = []
    page.on("request", lambda req: sent.append(f"{req.method} {req.url}"))
    page.click("#clear")
    page.set_input_files("#files", [str(f) for f in good])
    _wait_done(page, len(good))
    for f in good:
        assert _statuses(page)[f.name] == ["skipped", "Already on the server"]
    assert not [s for s in sent if "/api/tus" in s]
    assert "3 already on the server" in page.inner_text("#summary-text")
    assert len(server.lib.accounts.readable_assets(uid)) == 3


def _noise_jpeg(path: Path, side: int = 700) -> Path:
    from PIL import Image

    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, quality=92)
    return path


def test_resume_after_dropped_connections(server, make_user, phone, tmp_path) -> None:
    uid, email, password, key = make_user()
    page = phone
    chunk = 64 * 1024
    _login(page, f"{server.url}/upload/?chunk={chunk}", email, password)
    big = _noise_jpeg(tmp_path / "video-like.jpg")
    size = big.stat().st_size
    assert size > 6 * chunk

    patches: list[tuple[str, str]] = []  # (Upload-Offset, what happened)
    posts: list[str] = []

    def intercept(route) -> None:
        req = route.request
        if req.method == "POST":
            posts.append(req.url)
        if req.method == "PATCH":
            n = len(patches)
            offset = req.headers.get("upload-offset", "")
            if n == 1:  # the second chunk: the connection drops once
                patches.append((offset, "aborted"))
                route.abort("connectionreset")
                return
            if n >= 3:  # from the fourth on, the network is gone
                patches.append((offset, "offline"))
                route.abort("internetdisconnected")
                return
            patches.append((offset, "sent"))
        route.continue_()

    page.route("**/api/tus**", intercept)
    page.set_input_files("#files", str(big))
    # Two chunks are stored (one after a HEAD and a retry), then the network goes away...
    page.wait_for_function(
        "() => document.querySelector('#list .item .state').textContent.startsWith('Uploading')",
        timeout=120_000,
    )
    page.wait_for_timeout(100)
    deadline = time.monotonic() + 120
    while len([p for p in patches if p[1] == "offline"]) < 2:
        assert time.monotonic() < deadline, patches
        page.wait_for_timeout(100)
    assert patches[:3] == [("0", "sent"), (str(chunk), "aborted"), (str(chunk), "sent")]
    assert len(posts) == 1

    # ...and the user comes back later: reload, pick the same file; it continues from the
    # server's offset (the upload URL was kept in localStorage), not from zero.
    page.unroute("**/api/tus**")
    seen: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda req: (
            seen.append((req.method, req.headers.get("upload-offset", "")))
            if "/api/tus" in req.url
            else None
        ),
    )
    page.reload()
    page.wait_for_selector("#uploader:not([hidden])")
    page.set_input_files("#files", str(big))
    _wait_done(page, 1)
    assert _statuses(page)["video-like.jpg"][0] == "done"
    assert ("POST", "") not in seen
    assert seen[0][0] == "HEAD"
    first_patch = next(s for s in seen if s[0] == "PATCH")
    assert first_patch[1] == str(2 * chunk)

    (record,) = server.lib.accounts.readable_assets(uid)
    # downloaded, not read from record.path: upload analysis may move the file meanwhile
    url = f"{server.url}/api/photodesk/assets/{record.id}/original"
    with urlopen(Request(url, headers={"x-api-key": key}), timeout=30) as original:
        assert original.read() == big.read_bytes()
    left = page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('photodesk.tus'))")
    assert left == []  # finished uploads are forgotten


def test_js_sha1_matches_hashlib(server, phone) -> None:
    """The SHA-1 used on plain-HTTP LAN pages (no crypto.subtle) hashes in slices correctly."""
    page = phone
    page.goto(server.url + "/upload/")
    got = page.evaluate(
        """async () => {
          const { Sha1, sha1File } = await import('/upload/sha1.js');
          const make = (n) => { const b = new Uint8Array(n);
            for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8)) & 255; return b; };
          const out = {};
          for (const n of [0, 3, 55, 56, 63, 64, 65, 1000, 100000]) {
            out[n] = new Sha1().update(make(n)).hex();
          }
          const h = new Sha1(); const data = make(100000);
          for (let i = 0; i < data.length; i += 777) h.update(data.subarray(i, i + 777));
          out.pieces = h.hex();
          const file = new File([make(9 * 1024 * 1024 + 5)], 'big.bin');
          out.file = await sha1File(file, () => {}, { forceJs: true });
          out.subtle = await sha1File(new File([make(1000)], 'small.bin'));
          return out;
        }"""
    )

    def make(n: int) -> bytes:  # the same byte pattern as in the page
        return bytes((i * 31 + (i >> 8)) & 255 for i in range(n))

    for n in (0, 3, 55, 56, 63, 64, 65, 1000, 100000):
        assert got[str(n)] == hashlib.sha1(make(n)).hexdigest(), n
    assert got["pieces"] == hashlib.sha1(make(100000)).hexdigest()
    assert got["file"] == hashlib.sha1(make(9 * 1024 * 1024 + 5)).hexdigest()
    assert got["subtle"] == hashlib.sha1(make(1000)).hexdigest()


def test_installable_app_shell(server, browser) -> None:
    """Manifest with icons, a service worker that caches the shell; every file comes from here."""
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    external: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.url) else external.append(r.url))
    try:
        page.goto(server.url + "/upload/")
        page.wait_for_selector("#login:not([hidden])")
        manifest = page.evaluate(
            "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
        )
        assert manifest["display"] == "standalone"
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes
        for icon in manifest["icons"]:
            status = page.evaluate(f"fetch('/upload/{icon['src']}').then(r => r.status)")
            assert status == 200
        script = page.evaluate(
            "Promise.race([navigator.serviceWorker.ready.then(r => r.active.scriptURL),"
            " new Promise((_, no) => setTimeout(() => no(new Error('no service worker')), 60000))])"
        )
        assert script == server.url + "/upload/sw.js"
        cached = page.evaluate(
            "caches.open('photodesk-upload-v2').then(c => c.keys())"
            ".then(ks => ks.map(k => new URL(k.url).pathname))"
        )
        shell = {"/upload/", "/upload/app.js", "/upload/sha1.js", "/upload/tus.js"}
        assert shell | {"/upload/hash-worker.js", "/upload/app.css"} <= set(cached)
        assert not any("/api/" in path for path in cached)
    finally:
        context.close()
    assert external == []
