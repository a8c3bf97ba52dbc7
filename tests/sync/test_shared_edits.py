"""An editor of a shared album changes it from the desktop (app services and `album add/remove`);
the server's album rules decide, the owner's desktop and the editor's other desktop follow, and a
viewer's change is refused with one line and undone (docs/sync.md, "Shared albums")."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from photodesk.core import Library
from photodesk.core.catalog.db.schema import AlbumAsset, Asset
from photodesk.remote import pairing
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo
from tests.sync.test_desktop_sync import desktops, sync  # noqa: F401
from tests.sync.test_shared_sync import shared_album, upload

os.environ.setdefault("PHOTODESK_KEYRING", "off")


@pytest.fixture
def team(
    tmp_path: Path,
    desktops: dict[str, Any],  # noqa: F811
    server: ServerInfo,
    make_user: Callable[..., tuple[int, str, str, str]],
) -> Iterator[dict[str, Any]]:
    """Bea shares "Trip" (her photos 0 and 1) with Ann's account (desktops A and B) as editor;
    Bea's own desktop is paired too."""
    bea, email, password, _ = make_user(email="bea@example.org", name="Bea")
    files = [make_jpeg(tmp_path / "bea" / f"b{i}.jpg", seed=40 + i) for i in range(2)]
    ids = [upload(server.lib, bea, f) for f in files]
    view = server.lib.for_user(bea)
    album = int(view.albums.create("Trip"))
    view.albums.add(album, ids)
    server.lib.shares.share_album(bea, album, desktops["uid"], "editor")
    desk = Library.open(tmp_path / "deskBea")
    pairing.add(desk, server.url, email=email, password=password, device="Bea's laptop")
    sums = [hashlib.sha1(f.read_bytes()).hexdigest() for f in files]
    yield {**desktops, "bea": bea, "album": album, "ids": ids, "sums": sums, "view": view,
           "bea_desk": desk}  # fmt: skip
    desk.close()


def checksums(lib: Library, album_id: int) -> set[str]:
    with lib.read() as s:
        return set(
            s.scalars(
                select(Asset.checksum)
                .join(AlbumAsset, AlbumAsset.asset_id == Asset.id)
                .where(AlbumAsset.album_id == album_id)
            )
        )


def own_album(lib: Library, name: str) -> int:
    return int(next(a.id for a in lib.albums.list() if a.name == name))


def test_an_editor_adds_and_removes_from_the_desktop_and_everyone_follows(
    team: dict[str, Any], server: ServerInfo, catalog: Any
) -> None:
    a, b, desk, sums = team["A"], team["B"], team["bea_desk"], team["sums"]
    sync(a)
    sync(desk)
    album = shared_album(a)
    assert album.role == "editor"
    # Ann imports a photo and, before it was ever uploaded, adds it to Bea's album with the CLI
    photo = make_jpeg(a.root.parent / "ann" / "dune.jpg", seed=71)
    mine = int(a.importer.import_paths([str(photo)]).asset_ids[0])
    env = {**os.environ, **catalog.env_for(a.root), "PHOTODESK_KEYRING": "off"}
    cli = [sys.executable, "-m", "photodesk", "--library", str(a.root), "album"]
    subprocess.run([*cli, "add", "Trip", str(mine)], env=env, check=True, timeout=120)
    with a.read() as s:
        theirs = s.scalar(select(Asset.id).where(Asset.checksum == sums[1]))
    # and removes Bea's photo 1 (the app's service: an editor may)
    a.shares.remove_from_album(a.owner_id, album.id, [theirs])
    dune = hashlib.sha1(photo.read_bytes()).hexdigest()
    report = sync(a)  # uploads the photo, then the album edits go
    assert report.uploaded == 1
    # the server: Bea's album holds her photo 0 and Ann's photo; nothing journalled as an album of
    # Ann's own (her photo is in no album of hers)
    members = server.lib.shares.album_asset_ids(team["bea"], team["album"])
    with server.lib.read() as s:
        got = set(s.scalars(select(Asset.checksum).where(Asset.id.in_(members))))
    assert got == {sums[0], dune}
    assert checksums(a, album.id) == {sums[0], dune}
    assert [x.name for x in a.albums.list()] == []
    # Ann's other desktop
    sync(b)
    assert checksums(b, shared_album(b).id) == {sums[0], dune}
    assert [x.name for x in b.albums.list()] == []
    # Bea's desktop: her own album, with Ann's photo as a remote-only photo of Ann's
    sync(desk)
    trip = own_album(desk, "Trip")
    assert checksums(desk, trip) == {sums[0], dune}
    with desk.read() as s:
        row = s.scalar(select(Asset).where(Asset.checksum == dune))
        assert row is not None and row.offline and row.owner_id != desk.owner_id
        ann_photo = row.id
    assert desk.thumbnails.thumb_path(dune).is_file()
    # Bea, the owner, takes Ann's photo out on her desktop: the server and Ann's desktops follow
    desk.albums.remove(trip, [ann_photo])
    sync(desk)
    assert set(server.lib.shares.album_asset_ids(team["bea"], team["album"])) == {team["ids"][0]}
    with desk.read() as s:  # no album of Bea's holds it: it leaves her desktop
        assert s.scalar(select(Asset.id).where(Asset.checksum == dune)) is None
    sync(a)
    assert checksums(a, album.id) == {sums[0]}
    assert dune in {r.checksum for r in a.assets.list()}  # Ann's photo stays hers
    again = sync(a)
    assert again.pushed == 0 and again.pulled == 0


def test_a_viewers_album_change_is_refused_reported_and_undone(team: dict[str, Any]) -> None:
    a, sums = team["A"], team["sums"]
    team["view"].shares.share_album(team["bea"], team["album"], team["uid"], "viewer")
    sync(a)
    album = shared_album(a)
    assert album.role == "viewer"
    # the desktop's services refuse a viewer; a script that writes the catalog anyway:
    with a.write() as s:
        s.execute(delete(AlbumAsset).where(AlbumAsset.album_id == album.id))
    report = pairing.sync(a)
    assert len(report.errors) == 1, report.errors
    line = report.errors[0]
    assert line.startswith('shared album "Trip": the server refused the change made here')
    assert "viewer" in line and "\n" not in line
    assert checksums(a, album.id) == set(sums)  # the server's album is back
    assert len(team["view"].shares.album_asset_ids(team["bea"], team["album"])) == 2
    assert sync(a).errors == ()


class Poll:
    """A long poll of ``lib``'s feed on a thread, as the app's listener makes it (wait=60 s,
    with what the library has of the people feed and the shared albums)."""

    def __init__(self, lib: Library) -> None:
        from photodesk.core.sync.jobs import BackgroundSync

        self.known = BackgroundSync(lib).known()
        _, remote = pairing.remote_for(lib)
        cursor = lib.sync.cursor()
        self.page: Any = None
        self.thread = threading.Thread(
            target=lambda: setattr(self, "page", remote.changes(cursor, 1, 60, known=self.known))
        )
        self.thread.start()
        time.sleep(1.0)  # let it reach the server and wait there (the change comes after)

    def woke(self) -> bool:
        """Whether the poll answered (well before its 60 s) with something for a round."""
        from photodesk.core.sync.jobs import BackgroundSync

        self.thread.join(30)
        return not self.thread.is_alive() and BackgroundSync.behind(self.page, self.known)


def test_an_album_change_on_another_device_wakes_a_waiting_desktop(team: dict[str, Any]) -> None:
    a, desk = team["A"], team["bea_desk"]
    sync(a)
    sync(desk)
    poll = Poll(a)
    desk.albums.remove(own_album(desk, "Trip"), [desk.assets.list()[0].id])
    sync(desk)
    assert poll.woke()
    assert poll.page.items == () and poll.page.heads["shared"] != poll.known["shared"]
