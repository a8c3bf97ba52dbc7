"""Albums shared between users: viewers read, editors add and remove, revoked grants lose all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from photodesk.core import Library
from tests.sync.test_shares_fixtures import GPS_PHOTOS, OTHER_PHOTOS, make_album, upload_photo

ROOT = Path(__file__).resolve().parents[2]
ALBUMS = "/api/photodesk/albums"
ASSETS = "/api/photodesk/assets"
LINKS = "/api/photodesk/shared-links"


def _call(server, method: str, path: str, key: str, **kwargs) -> requests.Response:
    return requests.request(
        method, server.url + path, headers={"x-api-key": key}, timeout=60, **kwargs
    )


def _reads(server, key: str, aid: int) -> bool:
    """Whether every asset route answers this caller for this asset (all or none)."""
    codes = {
        _call(server, "GET", f"{ASSETS}/{aid}{suffix}", key).status_code
        for suffix in ("", "/thumbnail", "/thumbnail?size=preview", "/original")
    }
    assert codes in ({200}, {404}), codes
    return codes == {200}


@pytest.fixture
def family(server, make_user, tmp_path: Path):
    lib = server.lib
    anna, viv, ed, nobody = (make_user(f"{n}@example.org") for n in ("anna", "viv", "ed", "no"))
    album_photos = [upload_photo(lib, anna[0], n, tmp_path / "a") for n in GPS_PHOTOS[:2]]
    private = upload_photo(lib, anna[0], GPS_PHOTOS[2], tmp_path / "a")
    eds_photo = upload_photo(lib, ed[0], OTHER_PHOTOS[0], tmp_path / "e")
    album = make_album(lib, anna[0], "Summer 2026", album_photos)
    other_album = make_album(lib, anna[0], "Private", [private])
    for who, role in ((viv, "viewer"), (ed, "editor")):
        r = _call(
            server,
            "POST",
            f"{ALBUMS}/{album}/shares",
            anna[3],
            json={"email": who[1], "role": role},
        )
        assert r.status_code == 201, r.text
        assert r.json()["role"] == role
    return {
        "anna": anna,
        "viv": viv,
        "ed": ed,
        "nobody": nobody,
        "album": album,
        "other_album": other_album,
        "photos": album_photos,
        "private": private,
        "eds_photo": eds_photo,
    }


def test_shared_albums_show_up_with_the_role(server, family) -> None:
    mine = _call(server, "GET", ALBUMS, family["anna"][3]).json()
    assert {a["name"]: a["role"] for a in mine} == {"Summer 2026": "owner", "Private": "owner"}
    for who, role in (("viv", "viewer"), ("ed", "editor")):
        seen = _call(server, "GET", ALBUMS, family[who][3]).json()
        assert [(a["name"], a["role"], a["owner_email"]) for a in seen] == [
            ("Summer 2026", role, "anna@example.org")
        ]
    assert _call(server, "GET", ALBUMS, family["nobody"][3]).json() == []
    grants = _call(server, "GET", f"{ALBUMS}/{family['album']}/shares", family["anna"][3]).json()
    assert [(g["email"], g["role"]) for g in grants] == [
        ("ed@example.org", "editor"),
        ("viv@example.org", "viewer"),
    ]


def test_a_viewer_reads_the_album_and_nothing_else_and_cannot_change_it(server, family) -> None:
    viv = family["viv"]
    for aid in family["photos"]:
        assert _reads(server, viv[3], aid)
    assert not _reads(server, viv[3], family["private"])  # the owner's other photo
    assert not _reads(server, viv[3], family["eds_photo"])  # not in the album (yet)
    listing = _call(server, "GET", f"{ALBUMS}/{family['album']}/assets", viv[3])
    assert listing.status_code == 200 and set(listing.json()["asset_ids"]) == set(family["photos"])
    other = _call(server, "GET", f"{ALBUMS}/{family['other_album']}/assets", viv[3])
    assert other.status_code == 404
    album = family["album"]
    body = {"ids": family["photos"][:1]}
    assert _call(server, "DELETE", f"{ALBUMS}/{album}/assets", viv[3], json=body).status_code == 403
    assert _call(server, "PUT", f"{ALBUMS}/{album}/assets", viv[3], json=body).status_code == 403
    # nor can a viewer share the album onwards or make a public link to it
    r = _call(server, "POST", f"{ALBUMS}/{album}/shares", viv[3], json={"email": "no@example.org"})
    assert r.status_code == 404
    assert _call(server, "POST", LINKS, viv[3], json={"album_id": album}).status_code == 404
    assert _call(server, "GET", f"{ALBUMS}/{album}/shares", viv[3]).status_code == 404
    assert set(server.lib.shares.album_asset_ids(family["anna"][0], album)) == set(family["photos"])


def test_an_editor_adds_and_removes_photos(server, family) -> None:
    ed, viv, anna = family["ed"], family["viv"], family["anna"]
    album = family["album"]
    r = _call(server, "PUT", f"{ALBUMS}/{album}/assets", ed[3], json={"ids": [family["eds_photo"]]})
    assert r.status_code == 200 and r.json() == {"added": 1}
    # everyone on the album now sees Ed's photo; Ed still cannot see Anna's private one
    assert _reads(server, viv[3], family["eds_photo"])
    assert _reads(server, anna[3], family["eds_photo"])
    assert not _reads(server, ed[3], family["private"])
    # an editor cannot add photos that are not theirs
    r = _call(server, "PUT", f"{ALBUMS}/{album}/assets", ed[3], json={"ids": [family["private"]]})
    assert r.status_code == 404
    assert not _reads(server, viv[3], family["private"])
    # removing a photo from the album takes it away from those who saw it through the album
    gone = family["photos"][0]
    r = _call(server, "DELETE", f"{ALBUMS}/{album}/assets", ed[3], json={"ids": [gone]})
    assert r.status_code == 200 and r.json() == {"removed": 1}
    assert not _reads(server, viv[3], gone)
    assert not _reads(server, ed[3], gone)
    assert _reads(server, anna[3], gone)  # the owner keeps the photo itself


def test_a_revoked_grant_loses_access(server, family) -> None:
    viv, anna = family["viv"], family["anna"]
    aid = family["photos"][0]
    assert _reads(server, viv[3], aid)
    path = f"{ALBUMS}/{family['album']}/shares/{viv[0]}"
    assert _call(server, "DELETE", path, anna[3]).status_code == 204
    assert not _reads(server, viv[3], aid)
    assert _call(server, "GET", ALBUMS, viv[3]).json() == []
    assert _call(server, "DELETE", path, anna[3]).status_code == 404
    # someone else cannot revoke the owner's grants
    ed_path = f"{ALBUMS}/{family['album']}/shares/{family['ed'][0]}"
    assert _call(server, "DELETE", ed_path, viv[3]).status_code == 404
    assert _reads(server, family["ed"][3], aid)


def test_links_through_the_api(server, family) -> None:
    anna = family["anna"]
    r = _call(
        server,
        "POST",
        LINKS,
        anna[3],
        json={
            "album_id": family["album"],
            "password": "s3cret!",
            "expires": "7d",
            "allow_download": True,
            "show_metadata": False,
            "slug": "summer",
        },
    )
    assert r.status_code == 201, r.text
    link = r.json()
    assert len(link["key"]) >= 43 and link["url"] == f"{server.url}/share/{link['key']}"
    assert link["has_password"] and not link["show_metadata"] and link["slug"] == "summer"
    assert "password" not in str(link).lower().replace("has_password", "")
    assert _call(server, "GET", LINKS, family["viv"][3]).json() == []
    assert [k["id"] for k in _call(server, "GET", LINKS, anna[3]).json()] == [link["id"]]
    bad = [
        {"album_id": family["album"], "slug": "Bad Slug!"},
        {"album_id": family["album"], "slug": "api"},
        {"album_id": family["album"], "expires": "yesterday"},
        {"album_id": family["album"], "allow_download": "yes"},
        {"asset_ids": [family["eds_photo"]]},  # not Anna's
        {},
    ]
    for body in bad:
        r = _call(server, "POST", LINKS, anna[3], json=body)
        assert r.status_code in (400, 404), (body, r.status_code)
    taken = _call(
        server, "POST", LINKS, anna[3], json={"album_id": family["album"], "slug": "summer"}
    )
    assert taken.status_code == 409
    assert _call(server, "DELETE", f"{LINKS}/{link['id']}", family["viv"][3]).status_code == 404
    assert _call(server, "DELETE", f"{LINKS}/{link['id']}", anna[3]).status_code == 204
    assert requests.get(link["url"], timeout=60).status_code == 404


def _cli(library: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("PHOTODESK_")}
    full_env = {**base, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "photodesk", "--library", str(library), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=300,
    )


def test_share_commands(tmp_path: Path) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        album = int(lib.albums.create("Summer 2026"))
        friend = lib.accounts.add_user("friend@example.org", "password123")
    r = _cli(
        lib_dir,
        "share",
        "create",
        "Summer 2026",
        "--password-stdin",
        "--expires",
        "7d",
        "--allow-download",
        "--no-metadata",
        "--slug",
        "summer-26",
        stdin="hunter22\n",
    )
    assert r.returncode == 0, r.stderr
    url = r.stdout.strip().splitlines()[-1]
    assert url.startswith("http://127.0.0.1:8470/share/")
    key = url.rsplit("/", 1)[1]
    assert len(key) >= 43
    r = _cli(
        lib_dir,
        "share",
        "create",
        str(album),
        "--allow-upload",
        env={"PHOTODESK_PUBLIC_URL": "https://photos.example.org/"},
    )
    assert r.returncode == 0, r.stderr
    second = r.stdout.strip().splitlines()[-1]
    assert second.startswith("https://photos.example.org/share/")
    listed = _cli(lib_dir, "share", "list")
    assert listed.returncode == 0 and "summer-26" in listed.stdout and "password" in listed.stdout
    assert _cli(lib_dir, "share", "revoke", key).returncode == 0
    with Library.open(lib_dir) as lib:
        assert lib.shares.resolve(key=key) is None
        assert lib.shares.resolve(key=second.rsplit("/", 1)[1]) is not None
        link = lib.shares.list_links(revoked=True)[-1]
        assert link.has_password and not link.show_metadata and link.allow_download
        assert link.expires_at is not None
    bad = _cli(lib_dir, "share", "create", "No such album")
    assert bad.returncode == 1 and "no album" in bad.stderr
    bad = _cli(lib_dir, "share", "create", "Summer 2026", "--slug", "x")
    assert bad.returncode == 1 and "slug" in bad.stderr
    r = _cli(
        lib_dir, "share", "album", "Summer 2026", "--with", "friend@example.org", "--role", "editor"
    )
    assert r.returncode == 0, r.stderr
    with Library.open(lib_dir) as lib:
        assert lib.shares.role(friend, album) == "editor"
    r = _cli(lib_dir, "share", "album", "Summer 2026", "--with", "friend@example.org", "--revoke")
    assert r.returncode == 0, r.stderr
    with Library.open(lib_dir) as lib:
        assert lib.shares.role(friend, album) is None
