"""Albums another account shared with the paired account, in the desktop app and the CLI:
listed with the sharer and the role, their photos shown, read-only for a viewer, photos added and
removed by an editor (docs/sync.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QMenu

from photodesk.core import Library
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.albums import SHARED_GROUP, AlbumsView, shared_albums, shared_key
from photodesk.ui.views.viewer import ViewerView
from photodesk.ui.widgets.photo_grid import ids_mime
from photodesk.ui.widgets.sidebar import KindRole, NameRole, Sidebar
from tests.conftest import make_jpeg
from tests.sync.test_desktop_sync import desktops, sync  # noqa: F401
from tests.sync.test_shared_sync import shared_album, trip  # noqa: F401

WAIT = 20000


@pytest.fixture
def synced(trip: dict[str, Any]) -> Iterator[dict[str, Any]]:  # noqa: F811
    """Desktop A after a sync that brought Bea's album "Trip" (viewer) and its 2 photos."""
    sync(trip["A"])
    yield trip
    QThreadPool.globalInstance().waitForDone(WAIT)


def albums_view(qtbot: Any, lib: Library) -> tuple[AlbumsView, Bridge]:
    bridge = Bridge(lib)
    view = AlbumsView(lib, bridge)
    qtbot.addWidget(view)
    view.resize(1100, 650)
    view.show()
    view.activate()
    qtbot.waitUntil(lambda: view.tree_model.rowCount() > 0, timeout=WAIT)
    return view, bridge


def test_the_albums_view_lists_and_shows_a_shared_album_read_only(
    qtbot: Any, synced: dict[str, Any], tmp_path: Path
) -> None:
    a = synced["A"]
    album = shared_album(a)
    members = sorted(a.shares.album_asset_ids(a.owner_id, album.id))
    mine = a.albums.create("Mine")
    view, bridge = albums_view(qtbot, a)
    key = shared_key(album.id)
    assert list(view.items) == [str(mine), SHARED_GROUP, key]
    assert view.items[key].parent() is view.items[SHARED_GROUP]
    assert view.items[key].text() == "Trip · Bea, viewer"
    assert "shared by Bea (bea@example.org) as viewer" in view.items[key].toolTip()
    assert view.counts[key] == 2
    assert not view.items[key].isEditable() and not view.items[key].isDropEnabled()
    assert view.items[str(mine)].isEditable()
    # opening it shows Bea's photos (remote-only, with their synced thumbnails)
    view.select_key(key)
    qtbot.waitUntil(lambda: sorted(view.grid.ids()) == members, timeout=WAIT)
    assert "shared by Bea" in view.header.text() and "you are viewer" in view.header.text()
    model = view.grid.grid
    qtbot.waitUntil(
        lambda: all(model.thumbnail(r) is not None for r in range(model.rowCount())), timeout=WAIT
    )
    view.grid.selectAll()
    assert len(view.grid.selected_ids()) == 2
    # a viewer: no remove, cover, share or sort; each says why
    for button in (view.remove_button, view.cover_button, view.share_button):
        assert not button.isEnabled()
        assert "only they can change it" in button.toolTip()
    assert not view.sort_box.isEnabled()
    # drops and renames are refused with that reason; the catalog does not change
    data = ids_mime(members[:1])
    target = view.items[key].index()
    view.tree_model.dropMimeData(data, Qt.DropAction.CopyAction, -1, -1, target)
    view.add_to_album(members[:1], key)
    view.rename_album(key, "Hijacked")
    view.remove_from_album(members)
    assert view.notice.isVisible() and "only they can change it" in view.notice.text()
    qtbot.wait(300)
    assert shared_album(a).name == "Trip" and shared_album(a).asset_count == 2
    menu = QMenu()
    view.menu(key, menu)
    menu_actions = [(x.text(), x.isEnabled()) for x in menu.actions()]
    assert menu_actions == [("Rename…", False), ("Delete album…", False)]
    out = Path(os.environ.get("PHOTODESK_SHOT_DIR", tmp_path)) / "shared-album.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(out)) and out.stat().st_size > 0
    bridge.close()


def test_an_editor_adds_and_removes_photos_in_the_app(qtbot: Any, synced: dict[str, Any]) -> None:
    a = synced["A"]
    synced["view"].shares.share_album(synced["bea"], synced["album"], synced["uid"], "editor")
    sync(a)
    album = shared_album(a)
    assert album.role == "editor"
    mine = list(
        a.importer.import_paths([str(make_jpeg(a.root.parent / "m.jpg", seed=61))]).asset_ids
    )
    view, bridge = albums_view(qtbot, a)
    key = shared_key(album.id)
    assert view.items[key].text() == "Trip · Bea, editor" and view.items[key].isDropEnabled()
    assert not view.items[key].isEditable()  # the name is Bea's
    view.tree_model.dropMimeData(
        ids_mime(mine), Qt.DropAction.CopyAction, -1, -1, view.items[key].index()
    )
    qtbot.waitUntil(lambda: shared_album(a).asset_count == 3, timeout=WAIT)
    view.select_key(key)
    qtbot.waitUntil(lambda: sorted(view.grid.ids()) == sorted(
        a.shares.album_asset_ids(a.owner_id, album.id)), timeout=WAIT)  # fmt: skip
    view.grid.selectAll()
    assert view.remove_button.isEnabled() and not view.cover_button.isEnabled()
    assert "its name, cover and order are theirs" in view.cover_button.toolTip()
    view.remove_from_album(mine)
    qtbot.waitUntil(lambda: shared_album(a).asset_count == 2, timeout=WAIT)
    bridge.close()


def test_the_sidebar_lists_shared_albums_without_drops(qtbot: Any, synced: dict[str, Any]) -> None:
    a = synced["A"]
    album = shared_album(a)
    bar = Sidebar(["Timeline", "Albums", "Favourites"])
    qtbot.addWidget(bar)
    bar.set_albums([("Mine", 0)], shared_albums(a))
    item = bar.albums[shared_key(album.id)]
    assert item.text().strip() == "Trip · Bea" and item.data(KindRole) == "shared"
    assert "as viewer" in item.toolTip()
    got: list[str] = []
    bar.album_chosen.connect(got.append)
    bar.setCurrentItem(item)
    assert got == [shared_key(album.id)] and bar.current() == "Albums"
    assert bar.row(item) == bar.row(bar.albums["Mine"]) + 1
    assert item.data(NameRole) == shared_key(album.id)


def open_viewer(qtbot: Any, lib: Library, ids: list[int]) -> tuple[ViewerView, Bridge]:
    bridge = Bridge(lib)
    viewer = ViewerView(lib, bridge)
    qtbot.addWidget(viewer)
    viewer.resize(1000, 700)
    viewer.show()
    viewer.show_assets(ids, 0)
    qtbot.waitUntil(lambda: viewer.canvas.has_image() and viewer.name.text() != "", timeout=WAIT)
    return viewer, bridge


def close_viewer(viewer: ViewerView, bridge: Bridge) -> None:
    viewer._original_timer.stop()
    QThreadPool.globalInstance().waitForDone(WAIT)
    bridge.close()


def test_the_viewer_names_a_remote_only_original_on_the_server(
    qtbot: Any, synced: dict[str, Any]
) -> None:
    a, b = synced["A"], synced["B"]
    # the account's own photo, imported on A: on B only on the server
    a.importer.import_paths([str(make_jpeg(a.root.parent / "own" / "harbour.jpg", seed=91))])
    sync(a)
    sync(b)
    own = [r for r in b.assets.list() if not r.path]
    assert len(own) == 1
    viewer, bridge = open_viewer(qtbot, b, [int(own[0].id)])
    assert viewer.name.text() == "harbour.jpg · on the server"
    if shots := os.environ.get("PHOTODESK_SHOT_DIR"):  # to look at
        viewer.grab().save(str(Path(shots) / "remote-only-viewer.png"))
    close_viewer(viewer, bridge)
    # a photo of Bea's shared album: her file name, the server's preview, read-only
    ids = sorted(a.shares.album_asset_ids(a.owner_id, shared_album(a).id))
    viewer, bridge = open_viewer(qtbot, a, ids[:1])
    assert viewer.name.text() in {"b0.jpg · on the server", "b1.jpg · on the server"}
    assert viewer.panel.paths.text() == "On the paired server"
    viewer.panel._rater(1)()
    assert "only its owner can change it" in viewer.panel.error.text()
    qtbot.waitUntil(lambda: "shared photo" in viewer.canvas._message, timeout=WAIT)
    close_viewer(viewer, bridge)
    assert synced["view"].assets.get(synced["ids"][0]).rating == 4


def test_album_list_json_includes_shared_albums(synced: dict[str, Any], catalog: Any) -> None:
    a = synced["A"]
    mine = a.albums.create("Mine")
    env = {**os.environ, **catalog.env_for(a.root), "PHOTODESK_KEYRING": "off"}
    got = subprocess.run(
        [sys.executable, "-m", "photodesk", "--library", str(a.root), "album", "list", "--json"],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    )  # fmt: skip
    rows = {r["name"]: r for r in json.loads(got.stdout)}
    assert rows["Mine"]["id"] == mine and rows["Mine"]["role"] == "owner"
    assert rows["Mine"]["shared_by"] is None
    theirs = rows["Trip"]
    assert (theirs["role"], theirs["count"]) == ("viewer", 2)
    assert theirs["shared_by"] == {"email": "bea@example.org", "name": "Bea"}
    text = subprocess.run(
        [sys.executable, "-m", "photodesk", "--library", str(a.root), "album", "list"],
        capture_output=True, text=True, env=env, check=True, timeout=120,
    ).stdout  # fmt: skip
    assert "Trip (2)  shared by Bea, viewer" in text
