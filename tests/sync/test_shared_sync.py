"""Albums another account shared with the paired account reach its desktops (read-only mirror),
and a viewer's desktop cannot push edits into them (docs/sync.md, "Shared albums")."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from photodesk.core import AssetQuery, Forbidden, NotFound
from photodesk.core.catalog.db.schema import Asset
from photodesk.remote import pairing
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo
from tests.sync.test_desktop_sync import by_checksum, desktops, sync  # noqa: F401

os.environ.setdefault("PHOTODESK_KEYRING", "off")


def upload(srv: Any, user_id: int, path: Path) -> int:
    data = path.read_bytes()
    staged = srv.uploads.stage(user_id)
    with staged:
        staged.write(data)
        staged.finish()
    outcome = srv.uploads.ingest(user_id, staged.path, path.name, hashlib.sha1(data).hexdigest())
    assert outcome.asset_id is not None, outcome
    return int(outcome.asset_id)


@pytest.fixture
def trip(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
    make_user: Callable[..., tuple[int, str, str, str]],
) -> dict[str, Any]:
    """Bea (another account) shares her album "Trip" (2 of her 3 photos) with the desktops'
    account as viewer; her photo 0 is rated 4 and titled."""
    bea, _, _, _ = make_user(email="bea@example.org", name="Bea")
    files = [make_jpeg(tmp_path / "bea" / f"b{i}.jpg", seed=40 + i) for i in range(3)]
    ids = [upload(server.lib, bea, f) for f in files]
    view = server.lib.for_user(bea)
    view.assets.set_rating([ids[0]], 4)
    view.edits.set_title([ids[0]], "Harbour")
    album = int(view.albums.create("Trip"))
    view.albums.add(album, ids[:2])
    server.lib.shares.share_album(bea, album, desktops["uid"], "viewer")
    # analysed on the server (dates, sizes, thumbnails): else what the analysis finds arrives in
    # whichever round runs after it, and "nothing new: nothing pulled" below depends on timing
    server.analysed()
    sums = [hashlib.sha1(f.read_bytes()).hexdigest() for f in files]
    return {**desktops, "bea": bea, "album": album, "ids": ids, "sums": sums, "view": view}


def shared_album(lib: Any) -> Any:
    found = [a for a in lib.shares.albums_for(lib.owner_id) if a.role != "owner"]
    assert len(found) == 1, found
    return found[0]


def test_a_shared_album_reaches_the_desktop_with_its_photos(trip: dict[str, Any]) -> None:
    a, sums = trip["A"], trip["sums"]
    report = sync(a)
    album = shared_album(a)
    assert (album.name, album.role, album.owner_email, album.asset_count) == (
        "Trip", "viewer", "bea@example.org", 2,
    )  # fmt: skip
    members = a.shares.album_asset_ids(a.owner_id, album.id)
    with a.read() as s:
        rows = {
            r.checksum: (r.id, r.rating, r.title, r.offline)
            for r in s.scalars(select(Asset).where(Asset.checksum.in_(sums)))
        }
    assert set(rows) == set(sums[:2])  # photo 2 is not shared: not here
    assert {rows[c][0] for c in sums[:2]} == set(members)
    assert rows[sums[0]][1:] == (4, "Harbour", True)
    assert all(a.thumbnails.thumb_path(c).is_file() for c in sums[:2]) and report.thumbnails >= 2
    assert not set(by_checksum(a)) & set(sums)  # not the account's own photos
    # the owner edits and adds photo 2: the next round follows; nothing new: nothing asked
    trip["view"].assets.set_rating([trip["ids"][0]], 2)
    trip["view"].albums.add(trip["album"], [trip["ids"][2]])
    sync(a)
    assert shared_album(a).asset_count == 3
    with a.read() as s:
        assert s.scalar(select(Asset.rating).where(Asset.checksum == sums[0])) == 2
    again = sync(a)
    assert again.pulled == 0 and again.thumbnails == 0
    # unshared: the mirror goes (no file was ever here)
    trip["view"].shares.unshare_album(trip["bea"], trip["album"], trip["uid"])
    sync(a)
    assert [x for x in a.shares.albums_for(a.owner_id) if x.role != "owner"] == []
    with a.read() as s:
        assert s.scalar(select(Asset.id).where(Asset.checksum.in_(sums))) is None


def test_a_viewer_cannot_push_edits_into_a_shared_album(trip: dict[str, Any]) -> None:
    a, sums = trip["A"], trip["sums"]
    sync(a)
    album = shared_album(a)
    with a.read() as s:
        theirs = s.scalar(select(Asset.id).where(Asset.checksum == sums[0]))
    assert theirs is not None
    own = make_jpeg(a.root.parent / "mine.jpg", seed=77)
    mine = list(a.importer.import_paths([str(own)]).asset_ids)
    # this library's own services refuse: a viewer, and photos of someone else
    with pytest.raises(Forbidden):
        a.shares.add_to_album(a.owner_id, album.id, mine)
    with pytest.raises(NotFound):
        a.assets.set_rating([theirs], 1)
    # the server refuses a push naming her photo, whatever the client
    _, remote = pairing.remote_for(a)
    from photodesk.core.sync import Mutation

    result = remote.push([Mutation("evil-1", sums[0], "rating", 1, "")])
    assert result.applied == 0 and "no asset" in result.errors[0]
    assert trip["view"].assets.get(trip["ids"][0]).rating == 4
    # an edit that got here anyway (an old app, a script) is reported, dropped, and undone
    with a.write() as s:
        s.get(Asset, theirs).rating = 1
    report = pairing.sync(a)
    assert any(e.startswith("conflict:") and "shared" in e for e in report.errors), report.errors
    assert [(c.field, c.winner, c.kept, c.dropped) for c in report.conflicts] == [
        ("rating", "server", 4, 1)
    ]
    with a.read() as s:
        assert s.get(Asset, theirs).rating == 4
    assert sync(a).errors == ()  # and it does not come back
    assert a.assets.list(AssetQuery())  # the library is fine
