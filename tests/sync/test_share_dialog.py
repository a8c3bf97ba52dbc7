"""The desktop's Share dialog, the Server dialog's browser pairing, settings and conflicts, the
viewer fetching a remote-only original, and the status bar's progress: a real daemon on loopback.
Screenshots go to $PHOTODESK_SCREENSHOT_DIR when set (docs/screenshots)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PHOTODESK_KEYRING", "off")

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from photodesk.core import Library
from photodesk.core.sync import SyncProgress, SyncState
from photodesk.remote import pairing
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo
from tests.sync.scripted_browser import ScriptedBrowser

WAIT = 30_000
Maker = Callable[..., tuple[int, str, str, str]]


def _shots(tmp_path: Path) -> Path:
    return Path(os.environ.get("PHOTODESK_SCREENSHOT_DIR") or tmp_path)


def _drain(qtbot: Any) -> None:
    pool = QThreadPool.globalInstance()
    for _ in range(50):  # nothing may outlive the library
        pool.waitForDone(WAIT)
        qtbot.wait(20)


@pytest.fixture
def paired(tmp_path: Path, server: ServerInfo, make_user: Maker) -> Iterator[dict[str, Any]]:
    """A desktop library paired with Ann's account, with an album "Trip" synced to the server;
    Bob is another account of the server."""
    uid, email, password, _ = make_user(name="Ann")
    bob = make_user("bob@example.org", name="Bob")
    lib = Library.open(tmp_path / "desk")
    pairing.add(lib, server.url, email=email, password=password, device="laptop")
    files = [make_jpeg(tmp_path / "in" / f"t{i}.jpg", seed=300 + i) for i in range(2)]
    ids = list(lib.importer.import_paths([str(f) for f in files]).asset_ids)
    lib.albums.create("Trip")
    lib.albums.add("Trip", ids)
    lib.albums.create("Not synced yet")
    assert not pairing.sync(lib).errors
    lib.albums.create("Later")
    yield {"lib": lib, "uid": uid, "email": email, "password": password, "bob": bob}
    lib.close()


def test_share_an_album_and_its_links_from_the_desktop(
    qtbot: Any, tmp_path: Path, server: ServerInfo, paired: dict[str, Any]
) -> None:
    from photodesk.ui.dialogs.share_dialog import ShareDialog

    lib, uid = paired["lib"], paired["uid"]
    [album] = [a for a in server.lib.for_user(uid).albums.list() if a.name == "Trip"]
    dialog = ShareDialog(lib, "Trip")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Shared with 0"), timeout=WAIT)

    dialog.email.setText("bob@example.org")
    dialog.role.setCurrentText("editor")
    dialog.share()
    qtbot.waitUntil(lambda: "as editor" in dialog.message.text(), timeout=WAIT)
    grants = server.lib.shares.album_grants(uid, int(album.id))
    assert [(g.email, g.role) for g in grants] == [("bob@example.org", "editor")]
    assert dialog.grants.count() == 1 and "bob@example.org — editor" in dialog.grants.item(0).text()

    dialog.email.setText("nobody@example.org")
    dialog.share()
    qtbot.waitUntil(lambda: "no user" in dialog.message.text(), timeout=WAIT)

    dialog.password.setText("s3cret-pass")
    dialog.expires.setCurrentText("7 days")
    dialog.allow_download.setChecked(True)
    dialog.no_metadata.setChecked(True)
    dialog.create_link()
    qtbot.waitUntil(lambda: "Link created and copied" in dialog.message.text(), timeout=WAIT)
    [link] = server.lib.shares.list_links(uid)
    assert link.album_id == album.id and link.has_password and link.expires_at is not None
    assert link.allow_download and not link.allow_upload and not link.show_metadata
    assert QApplication.clipboard().text() == f"{server.url}/share/{link.key}"
    assert dialog.password.text() == ""
    assert (
        "password" in dialog.links.item(0).text() and "no metadata" in dialog.links.item(0).text()
    )
    dialog.create_link()  # a second one, plain
    qtbot.waitUntil(lambda: dialog.links.count() == 2, timeout=WAIT)
    assert dialog.grab().save(str(_shots(tmp_path) / "share-dialog.png"))

    dialog.links.setCurrentRow(0)
    gone = int(dialog.links.item(0).data(256)[0])
    dialog.revoke_link()
    qtbot.waitUntil(lambda: dialog.message.text() == "Link revoked.", timeout=WAIT)
    revoked = {x.id: x.revoked_at for x in server.lib.shares.list_links(uid, revoked=True)}
    assert revoked[gone] is not None and dialog.links.count() == 1
    assert [v for v in revoked.values() if v is None] != []  # the other one still works
    dialog.grants.setCurrentRow(0)
    dialog.unshare()
    qtbot.waitUntil(lambda: dialog.message.text() == "Stopped sharing.", timeout=WAIT)
    assert server.lib.shares.album_grants(uid, int(album.id)) == []

    later = ShareDialog(lib, "Later")  # made after the last sync: not on the server yet
    qtbot.addWidget(later)
    qtbot.waitUntil(lambda: "sync first" in later.message.text(), timeout=WAIT)
    _drain(qtbot)


def test_server_dialog_pairs_in_the_browser_and_shows_settings_and_conflicts(
    qtbot: Any, tmp_path: Path, server: ServerInfo, paired: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from photodesk.ui.dialogs.server_dialog import ServerDialog

    other = paired["lib"]  # another device of Ann's
    browser = ScriptedBrowser(paired["email"], paired["password"])
    monkeypatch.setattr(ServerDialog, "opener", staticmethod(browser.open))
    with Library.open(tmp_path / "desk2") as lib:
        lib.albums.create("Family")
        dialog = ServerDialog(lib)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.status.text() == "Not paired.", timeout=WAIT)
        assert dialog.browser_button.isVisible() and not dialog.settings_box.isVisible()
        dialog.url.setText(server.url)
        dialog.pair_in_browser()
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Paired as"), timeout=WAIT)
        lib.sync.stop_background()  # the test drives the rounds
        assert browser.hops[-1].startswith("http://127.0.0.1:") and "code=" in browser.hops[-1]
        qtbot.waitUntil(lambda: dialog.settings_box.isVisible(), timeout=WAIT)
        assert not dialog.browser_button.isVisible()

        # what comes from the server: originals kept offline for one album
        dialog.originals.setCurrentIndex(dialog.originals.findData("albums"))
        dialog.save_settings()
        qtbot.waitUntil(lambda: lib.sync.settings().originals == "albums", timeout=WAIT)
        dialog.refresh()
        qtbot.waitUntil(lambda: dialog.offline_albums.isEnabled(), timeout=WAIT)
        assert dialog.offline_albums.count() == 1
        from PySide6.QtCore import Qt

        dialog.offline_albums.item(0).setCheckState(Qt.CheckState.Checked)
        qtbot.waitUntil(lambda: lib.sync.settings().offline_albums == ("Family",), timeout=WAIT)

        # a conflict: both devices rate the same photo while apart
        dialog.sync_now()
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Pulled"), timeout=WAIT * 2)
        trip = {r.checksum: r.id for r in lib.assets.list()}
        mine = {r.checksum: r.id for r in other.assets.list()}
        checksum = sorted(trip)[0]
        other.assets.set_rating([mine[checksum]], 5)
        import time

        time.sleep(0.01)
        lib.assets.set_rating([trip[checksum]], 3)
        assert not pairing.sync(other).errors
        dialog.sync_now()
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Pulled"), timeout=WAIT * 2)
        assert "conflicts decided 0" not in dialog.message.text(), dialog.message.text()
        dialog.refresh()
        qtbot.waitUntil(lambda: "rating of photo" in dialog.conflicts.item(0).text(), timeout=WAIT)
        assert "kept 3 (from this device), dropped 5" in dialog.conflicts.item(0).text()
        assert dialog.conflicts.count() == 1  # one decision, listed once
        assert lib.sync.settings().previews == "on_demand"
        dialog.message.setText("Pulled 2, pushed 1, uploaded 0, thumbnails 2, conflicts decided 1.")
        assert dialog.grab().save(str(_shots(tmp_path) / "server-dialog.png"))
        _drain(qtbot)


def test_the_viewer_fetches_a_remote_only_original_off_the_gui_thread(
    qtbot: Any, tmp_path: Path, server: ServerInfo, paired: dict[str, Any]
) -> None:
    from photodesk.ui.bridge import Bridge
    from photodesk.ui.views.viewer import ViewerView

    with Library.open(tmp_path / "desk3") as lib:
        pairing.add(lib, server.url, email=paired["email"], password=paired["password"])
        assert not pairing.sync(lib).errors
        pairing.attach(lib)  # as the app's composition root does
        rec = lib.assets.list()[0]
        assert rec.path == "" and lib.sync.is_remote_only(rec.id)
        threads: list[bool] = []
        fetch = lib.sync.fetch_original

        def recording(asset_id: int) -> Path:
            threads.append(threading.current_thread() is threading.main_thread())
            return fetch(asset_id)

        lib.sync.fetch_original = recording  # type: ignore[method-assign]
        bridge = Bridge(lib)
        view = ViewerView(lib, bridge)
        view.resize(900, 600)
        view.show()
        try:
            view.show_assets([rec.id], 0)
            qtbot.waitUntil(lambda: lib.assets.get(rec.id).path != "", timeout=WAIT)
            assert threads == [False]  # fetched on a worker, never on the GUI thread
            assert lib.thumbnails.preview_path(rec.checksum).is_file()  # the server's preview
            assert not lib.sync.is_remote_only(rec.id)
        finally:
            bridge.close()
            view.close()
            view._original_timer.stop()
            _drain(qtbot)


def test_the_status_bar_shows_progress_with_rate_and_eta(
    qtbot: Any, tmp_path: Path, paired: dict[str, Any]
) -> None:
    from photodesk.ui.main_window import MainWindow

    progress = SyncProgress("pull", 1200, 5000, 40.0, 95.0)
    assert progress.text() == "pull 1200 of 5000 (40/s, 1 min 35 s left)"
    state = SyncState("syncing", "http://nas:2283", "ann@example.org", None, 3, None, progress)
    assert state.text() == "Syncing pull 1200 of 5000 (40/s, 1 min 35 s left)"
    assert SyncProgress("push", 0, 10, 0.0, None).text() == "push 0 of 10"
    window = MainWindow(paired["lib"], restore=False)
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    window.sync_status.timer.stop()
    window.sync_status.show_state(state)
    assert window.sync_status.text().startswith("Syncing pull 1200 of 5000")
    assert window.statusBar().grab().save(str(_shots(tmp_path) / "sync-status.png"))
    window.close()
    _drain(qtbot)
