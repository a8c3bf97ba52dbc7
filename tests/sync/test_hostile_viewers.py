"""A viewer of one shared album sees the photo, not the owner's other albums, tags or flags."""

from __future__ import annotations

import requests

from tests.sync.hostile import add_photo, album_with, jpeg_bytes


def test_a_viewer_sees_only_what_the_share_grants(server, make_user) -> None:
    lib = server.lib
    anna, ben = make_user(), make_user()
    photo = add_photo(lib, anna[0], jpeg_bytes())
    shared = album_with(lib, anna[0], "Summer with Ben", [photo])
    album_with(lib, anna[0], "Divorce lawyer", [photo])
    view = lib.for_user(anna[0])
    view.tags.add([photo], "Health/Clinic")
    view.assets.set_favorite([photo])
    view.assets.set_rating([photo], 5)
    lib.shares.share_album(anna[0], shared, ben[0], "viewer")

    def get(key: str, path: str) -> dict:
        r = requests.get(server.url + path, headers={"x-api-key": key}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    mine = get(anna[3], f"/api/photodesk/assets/{photo}")  # the owner sees everything
    assert set(mine["albums"]) == {"Summer with Ben", "Divorce lawyer"}
    assert mine["tags"] == ["Health/Clinic"] and mine["favorite"] and mine["rating"] == 5
    seen = get(ben[3], f"/api/photodesk/assets/{photo}")
    listed = get(ben[3], "/api/photodesk/assets?include_shared=true")["items"]
    assert [i["id"] for i in listed] == [photo]
    for item in (seen, listed[0]):
        assert item["albums"] == ["Summer with Ben"]
        assert item["tags"] == [] and item["people"] == []
        assert item["favorite"] is False and item["rating"] == 0
        assert item["width"] == mine["width"]  # the photo itself is the same
