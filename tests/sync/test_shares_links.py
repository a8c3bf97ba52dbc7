"""Public links give exactly what they promise: every route, every toggle, every bad key."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from photodesk.core.catalog.db.schema import ShareLink as LinkRow
from tests.conftest import CORPUS
from tests.sync.test_shares_fixtures import (
    GPS_PHOTOS,
    OTHER_PHOTOS,
    get,
    has_metadata,
    make_album,
    upload_photo,
)

PASSWORD = "correct horse battery"
ASSET_ROUTES = ("thumb", "preview", "original", "video", "meta")


@pytest.fixture
def world(server, make_user, tmp_path: Path):
    """Anna's album of GPS photos, her photo outside it, and Ben's photo; links of each kind."""
    lib = server.lib
    anna = make_user("anna@example.org")
    ben = make_user("ben@example.org")
    inside = [upload_photo(lib, anna[0], n, tmp_path / "a") for n in GPS_PHOTOS]
    outside = upload_photo(lib, anna[0], OTHER_PHOTOS[0], tmp_path / "a")
    bens = upload_photo(lib, ben[0], OTHER_PHOTOS[1], tmp_path / "b")
    album = make_album(lib, anna[0], "Summer 2026", inside)
    make_album(lib, anna[0], "Private", [outside])
    create = lib.shares.create_link
    links = {
        "view": create(anna[0], album_id=album),
        "download": create(anna[0], album_id=album, allow_download=True),
        "nometa": create(anna[0], album_id=album, allow_download=True, show_metadata=False),
        "password": create(anna[0], album_id=album, allow_download=True, password=PASSWORD),
        "upload": create(anna[0], album_id=album, allow_upload=True),
        "selection": create(anna[0], asset_ids=inside[:1], allow_download=True),
        "expired": create(anna[0], album_id=album, allow_download=True),
        "revoked": create(anna[0], album_id=album, allow_download=True, slug="gone-now"),
    }
    with lib.write() as s:  # the clock cannot wait: move the expiry into the past
        s.execute(
            update(LinkRow)
            .where(LinkRow.id == links["expired"].id)
            .values(expires_at=datetime.now() - timedelta(minutes=1))
        )
    lib.shares.revoke_link(links["revoked"].key)
    return {
        "anna": anna,
        "ben": ben,
        "inside": inside,
        "outside": outside,
        "bens": bens,
        "album": album,
        "links": links,
    }


def _urls(base: str, ids: list[int]) -> list[str]:
    urls = [base, base + "/items", base + "/zip"]
    for aid in ids:
        urls += [f"{base}/{route}/{aid}" for route in ASSET_ROUTES]
    return urls


def _expected(name: str, route: str, aid: int, world) -> int:
    """The status a right key gets: 200 only where the link promises it."""
    link = world["links"][name]
    members = world["inside"][:1] if name == "selection" else world["inside"]
    if route in ("page", "items"):
        return 200
    if route == "zip":
        return 200 if link.allow_download else 404
    if aid not in members:
        return 404
    if route in ("thumb", "preview"):
        return 200
    if route == "original":
        return 200 if link.allow_download else 404
    if route == "meta":
        return 200 if link.show_metadata else 404
    return 404  # video: these are photos


def _route(url: str, base: str) -> tuple[str, int]:
    rest = url[len(base) :].strip("/")
    if not rest:
        return "page", 0
    parts = rest.split("/")
    return parts[0], int(parts[1]) if len(parts) > 1 else 0


@pytest.mark.parametrize("name", ["view", "download", "nometa", "upload", "selection"])
def test_a_link_key_reaches_exactly_what_the_link_promises(server, world, name) -> None:
    link = world["links"][name]
    everyone = [*world["inside"], world["outside"], world["bens"]]
    base = f"{server.url}/share/{link.key}"
    for url in _urls(base, everyone):
        route, aid = _route(url, base)
        r = get(url)
        want = _expected(name, route, aid, world)
        assert r.status_code == want, (name, url, r.status_code, r.text[:200])
        if want == 200 and route in ("thumb", "preview", "original"):
            assert r.content[:2] == b"\xff\xd8"
    # the page lists the link's photos and nothing else
    page = get(base).text
    members = world["inside"][:1] if name == "selection" else world["inside"]
    for aid in everyone:
        assert (f'/thumb/{aid}"' in page) == (aid in members), aid


def test_wrong_expired_revoked_and_missing_keys_reach_nothing(server, world) -> None:
    links = world["links"]
    everyone = [*world["inside"], world["outside"], world["bens"]]
    good = links["download"].key
    bases = {
        "wrong key": f"{server.url}/share/{good[:-4]}AAAA",
        "short key": f"{server.url}/share/abc",
        "expired": f"{server.url}/share/{links['expired'].key}",
        "revoked": f"{server.url}/share/{links['revoked'].key}",
        "revoked slug": f"{server.url}/s/gone-now",
        "no key": f"{server.url}/share/",
        "empty key": f"{server.url}/share//",
    }
    for why, base in bases.items():
        for url in _urls(base, everyone):
            r = get(url)
            assert r.status_code == 404, (why, url, r.status_code)
            assert r.content[:2] != b"\xff\xd8" and b"PK\x03\x04" not in r.content[:4]
    # nor do the owner's API routes open with a link key
    aid = world["inside"][0]
    for path in (f"/api/photodesk/assets/{aid}", f"/api/photodesk/assets/{aid}/original"):
        r = get(server.url + path, headers={"Authorization": f"Bearer {good}"})
        assert r.status_code == 401


def test_a_password_link_opens_only_with_its_password_and_the_cookie_is_scoped(
    server, world
) -> None:
    link = world["links"]["password"]
    base = f"{server.url}/share/{link.key}"
    aid = world["inside"][0]
    # no password yet: a form, and no file route answers
    page = get(base)
    assert page.status_code == 401 and 'name="password"' in page.text
    assert "/thumb/" not in page.text and "og:image" not in page.text
    for url in _urls(base, [aid])[1:]:
        assert get(url).status_code == 401, url
    # a wrong password: still nothing, and a forged cookie does not help
    s = requests.Session()
    r = s.post(base + "/unlock", data={"password": "wrong"}, allow_redirects=False, timeout=60)
    assert r.status_code == 401 and "not right" in r.text
    forged = {f"pd_link_{link.id}": f"{2**40}.{'0' * 64}"}
    for url in _urls(base, [aid]):
        assert get(url, cookies=forged).status_code == 401, url
    # the right password: a cookie for this link's path, then everything the link allows
    r = s.post(base + "/unlock", data={"password": PASSWORD}, allow_redirects=False, timeout=60)
    assert r.status_code == 303
    cookie = r.cookies.get(f"pd_link_{link.id}")
    assert cookie and f"Path=/share/{link.key}" in r.headers["Set-Cookie"]
    assert "HttpOnly" in r.headers["Set-Cookie"]
    for url in _urls(base, [aid]):
        route, rid = _route(url, base)
        want = _expected("password", route, rid, world)
        assert s.get(url, timeout=60).status_code == want, url
    # the cookie opens no other password link, even one with the same password
    other = server.lib.shares.create_link(
        world["anna"][0], album_id=world["album"], password=PASSWORD
    )
    other_base = f"{server.url}/share/{other.key}"
    jar = {f"pd_link_{other.id}": cookie, f"pd_link_{link.id}": cookie}
    assert get(other_base, cookies=jar).status_code == 401
    assert get(f"{other_base}/thumb/{aid}", cookies=jar).status_code == 401


def test_wrong_passwords_are_rate_limited(server, world) -> None:
    link = world["links"]["password"]
    url = f"{server.url}/share/{link.key}/unlock"
    codes = [
        requests.post(
            url, data={"password": f"guess {i}"}, allow_redirects=False, timeout=60
        ).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    # once limited, even the right password waits
    r = requests.post(url, data={"password": PASSWORD}, allow_redirects=False, timeout=60)
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_without_metadata_served_bytes_carry_no_exif_gps_or_xmp(server, world) -> None:
    on = world["links"]["download"]
    off = world["links"]["nometa"]
    for aid, name in zip(world["inside"], GPS_PHOTOS, strict=True):
        source = (CORPUS / name).read_bytes()
        # ground truth: the source has GPS, and the metadata-on link serves it unchanged
        assert "exifread GPS" in has_metadata(source), name
        full = get(f"{server.url}/share/{on.key}/original/{aid}")
        assert full.content == source
        for route in ("thumb", "preview", "original"):
            r = get(f"{server.url}/share/{off.key}/{route}/{aid}")
            assert r.status_code == 200, (route, name)
            assert has_metadata(r.content) == [], (route, name, has_metadata(r.content))
        stripped = get(f"{server.url}/share/{off.key}/original/{aid}").content
        from PIL import Image

        with Image.open(io.BytesIO(stripped)) as im, Image.open(CORPUS / name) as orig:
            assert im.size == orig.size  # the same picture, only without metadata
    zipped = get(f"{server.url}/share/{off.key}/zip")
    assert zipped.status_code == 200 and zipped.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as zf:
        assert len(zf.namelist()) == len(GPS_PHOTOS)
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert has_metadata(zf.read(info)) == [], info.filename
    # and the pages show no camera or place
    page = get(f"{server.url}/share/{off.key}").text
    for word in ("NIKON", "FUJIFILM", "Apple", "GPS", "latitude"):
        assert word not in page


def test_the_zip_holds_the_album_unchanged_when_metadata_is_on(server, world) -> None:
    link = world["links"]["download"]
    r = get(f"{server.url}/share/{link.key}/zip")
    assert r.status_code == 200 and r.headers.get("Transfer-Encoding") == "chunked"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        got = {n: hashlib.sha1(zf.read(n)).hexdigest() for n in zf.namelist()}
    want = {n: hashlib.sha1((CORPUS / n).read_bytes()).hexdigest() for n in GPS_PHOTOS}
    assert got == want


def test_metadata_route_and_slug_address(server, world) -> None:
    anna = world["anna"]
    link = server.lib.shares.create_link(anna[0], album_id=world["album"], slug="summer-2026")
    aid = world["inside"][0]
    meta = get(f"{server.url}/s/summer-2026/meta/{aid}")
    assert meta.status_code == 200
    body = meta.json()
    assert body["make"] == "NIKON" and body["latitude"] == pytest.approx(43.4671566, abs=1e-4)
    assert "path" not in body and "albums" not in body  # no server paths, no other albums
    assert get(f"{server.url}/s/summer-2026").status_code == 200
    assert get(f"{server.url}/s/summer-2026/thumb/{world['outside']}").status_code == 404
    assert link.key not in get(f"{server.url}/s/summer-2026").text  # a slug never reveals the key
    moved = get(f"{server.url}/s/summer-2026/")
    assert moved.status_code == 301 and moved.headers["Location"] == "/s/summer-2026"
    assert get(f"{server.url}/s/no-such-slug/").status_code == 301  # then 404 at the page
    assert get(f"{server.url}/s/no-such-slug").status_code == 404


def test_a_visitor_upload_lands_in_the_album_as_the_owners(server, world, tmp_path) -> None:
    link = world["links"]["upload"]
    base = f"{server.url}/share/{link.key}"
    fresh = "exiftool__Canon1DmkIII.jpg"
    with open(CORPUS / fresh, "rb") as fh:
        r = requests.post(
            base + "/upload",
            files={"file": (fresh, fh, "image/jpeg")},
            headers={"X-Requested-With": "XMLHttpRequest"},
            timeout=120,
        )
    assert r.status_code == 200, r.text
    result = r.json()["results"][0]
    assert result["status"] == "created"
    new_id = result["id"]
    rec = server.lib.accounts.readable_asset(world["anna"][0], new_id)
    assert rec.owner_id == world["anna"][0]
    assert new_id in server.lib.shares.album_asset_ids(world["anna"][0], world["album"])
    items = get(base + "/items").json()["items"]
    assert new_id in [i["id"] for i in items]
    # a broken file is admitted (only its first bytes are read during the request); its
    # analysis then refuses it and it leaves the album
    broken = CORPUS / "pillow__truncated_jpeg.jpg"
    server.lib.jobs.pause("metadata")
    try:
        with open(broken, "rb") as fh:
            r = requests.post(
                base + "/upload",
                files={"file": (broken.name, fh, "image/jpeg")},
                headers={"X-Requested-With": "XMLHttpRequest"},
                timeout=120,
            )
    finally:
        server.lib.jobs.resume("metadata")
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "created", r.text
    server.analysed()
    assert len(get(base + "/items").json()["items"]) == len(items)
    # a file that is not a photo at all is refused at once, with the reason
    r = requests.post(
        base + "/upload",
        files={"file": ("notes.jpg", b"just some text", "image/jpeg")},
        headers={"X-Requested-With": "XMLHttpRequest"},
        timeout=120,
    )
    assert r.status_code == 422 and r.json()["results"][0]["status"] == "rejected"
    # links without upload refuse it, and a cross-site form post is refused
    view = world["links"]["view"]
    with open(CORPUS / fresh, "rb") as fh:
        r = requests.post(
            f"{server.url}/share/{view.key}/upload", files={"file": (fresh, fh)}, timeout=60
        )
    assert r.status_code == 404
    with open(CORPUS / fresh, "rb") as fh:
        r = requests.post(
            base + "/upload",
            files={"file": (fresh, fh)},
            headers={"Origin": "https://evil.example"},
            timeout=60,
        )
    assert r.status_code == 403


def test_visitor_uploads_respect_the_owners_quota(server, world) -> None:
    lib = server.lib
    anna = world["anna"]
    lib.accounts.set_quota(anna[0], lib.accounts.usage_bytes(anna[0]) + 1000)
    link = world["links"]["upload"]
    before = lib.shares.album_asset_ids(anna[0], world["album"])
    fresh = CORPUS / "exiftool__Canon1DmkIII.jpg"
    with open(fresh, "rb") as fh:
        r = requests.post(
            f"{server.url}/share/{link.key}/upload",
            files={"file": (fresh.name, fh, "image/jpeg")},
            headers={"X-Requested-With": "XMLHttpRequest"},
            timeout=60,
        )
    assert r.status_code == 413, r.text
    assert lib.shares.album_asset_ids(anna[0], world["album"]) == before
    staged = [p for p in lib.uploads.staging_dir(anna[0]).rglob("*") if p.is_file()]
    assert staged == []


def _mp4_with_location(path: Path) -> bytes:
    """A real (tiny) MP4 written by PyAV/FFmpeg with a GPS location, camera and date tags."""
    av = pytest.importorskip("av")
    import numpy as np

    with av.open(str(path), "w", format="mp4", options={"movflags": "use_metadata_tags"}) as c:
        c.metadata["location"] = "+43.4672-005.3810/"
        c.metadata["make"] = "Apple"
        c.metadata["creation_time"] = "2026-07-01T10:00:00Z"
        stream = c.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 20, np.uint8), "rgb24")
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode():
            c.mux(packet)
    return path.read_bytes()


def test_videos_play_and_lose_their_location_without_metadata(server, make_user, tmp_path) -> None:
    import av

    lib = server.lib
    uid = make_user()[0]
    data = _mp4_with_location(tmp_path / "clip.mp4")
    staged = lib.uploads.stage(uid)
    with staged:
        staged.write(data)
        staged.finish()
    vid = lib.uploads.ingest(uid, staged.path, "clip.mp4", hashlib.sha1(data).hexdigest()).asset_id
    server.analysed()
    assert vid is not None and lib.accounts.readable_asset(uid, vid).latitude is not None
    album = make_album(lib, uid, "Clips", [vid])
    on = lib.shares.create_link(uid, album_id=album)
    off = lib.shares.create_link(uid, album_id=album, show_metadata=False, allow_download=True)
    played = get(f"{server.url}/share/{on.key}/video/{vid}")
    assert played.status_code == 200 and played.content == data
    assert played.headers["Content-Type"] == "video/mp4"
    assert get(f"{server.url}/share/{on.key}/original/{vid}").status_code == 404  # no download
    ranged = get(f"{server.url}/share/{on.key}/video/{vid}", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.content) == 100  # seeking works
    for route in ("video", "original"):
        r = get(f"{server.url}/share/{off.key}/{route}/{vid}")
        assert r.status_code == 200, route
        for leak in (b"+43.4672", b"Apple", b"2026-07-01"):
            assert leak in data and leak not in r.content, (route, leak)
        clean = tmp_path / f"{route}.mp4"
        clean.write_bytes(r.content)
        with av.open(str(clean)) as c:
            assert not {"location", "make", "creation_time"} & set(c.metadata)
            assert c.streams.video[0].frames == 10  # still the whole clip
    zipped = get(f"{server.url}/share/{off.key}/zip")
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as zf:
        (name,) = zf.namelist()
        assert name == f"video-{vid}.mp4" and b"+43.4672" not in zf.read(name)


def test_a_file_moved_on_by_its_upload_analysis_while_requested_is_still_served(
    server, make_user, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload's analysis moves the file from the staging folder to its storage path: a
    download that read the catalog just before the move serves the file, never a 404."""
    import dataclasses

    from photodesk.core import AccountService
    from photodesk.core.sharing.links import LinkService
    from tests.conftest import make_jpeg
    from tests.sync.test_shares_fixtures import analysed

    lib = server.lib
    uid, _, _, key = make_user("carla@example.org")
    photo = make_jpeg(tmp_path / "beach.jpg")
    data = photo.read_bytes()
    staged = lib.uploads.stage(uid)
    with staged:
        staged.write(data)
        staged.finish()
    outcome = lib.uploads.ingest(uid, staged.path, "beach.jpg", hashlib.sha1(data).hexdigest())
    assert outcome.asset_id is not None
    aid = outcome.asset_id
    analysed(lib, aid)
    link = lib.shares.create_link(uid, asset_ids=[aid], allow_download=True)
    gone = str(tmp_path / "staging" / "beach.jpg")  # where the file was before it moved

    def stale_once(real):  # the first read is from before the move
        calls = []

        def read(*args, **kwargs):
            found = real(*args, **kwargs)
            calls.append(1)
            return dataclasses.replace(found, path=gone) if len(calls) == 1 else found

        return read

    monkeypatch.setattr(LinkService, "link_file", stale_once(LinkService.link_file))
    r = get(f"{server.url}/share/{link.key}/original/{aid}")
    assert r.status_code == 200 and r.content == data

    monkeypatch.setattr(AccountService, "readable_asset", stale_once(AccountService.readable_asset))
    r = get(f"{server.url}/api/photodesk/assets/{aid}/original", headers={"x-api-key": key})
    assert r.status_code == 200 and r.content == data
