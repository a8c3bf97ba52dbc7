"""The desktop's Server dialog against a real daemon: pair, sync now, unpair."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PHOTODESK_KEYRING", "off")

from photodesk.core import Library
from tests.conftest import make_jpeg
from tests.sync.conftest import ServerInfo


def test_pair_sync_and_unpair_from_the_dialog(
    qtbot, tmp_path: Path, server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> None:
    from photodesk.ui.dialogs.server_dialog import ServerDialog

    uid, email, password, _ = make_user(name="Ann")
    with Library.open(tmp_path / "desk") as lib:
        lib.importer.import_paths([str(make_jpeg(tmp_path / "d.jpg", seed=800))])
        dialog = ServerDialog(lib)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.status.text() == "Not paired.", timeout=20000)
        assert dialog.form.isVisible() and not dialog.sync_button.isVisible()

        dialog.url.setText("not a url")
        dialog.email.setText(email)
        dialog.password.setText(password)
        dialog.pair()
        qtbot.waitUntil(lambda: "not a server address" in dialog.message.text(), timeout=20000)

        dialog.url.setText(server.url)
        dialog.pair()
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Paired as"), timeout=20000)
        qtbot.waitUntil(lambda: "Paired with" in dialog.status.text(), timeout=20000)
        assert dialog.password.text() == "" and not dialog.form.isVisible()
        lib.sync.stop_background()  # the test drives the round itself

        dialog.sync_now()
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Pulled"), timeout=60000)
        assert "uploaded 1" in dialog.message.text()
        assert len(server.lib.for_user(uid).assets.ids()) == 1
        assert dialog.grab().save(str(tmp_path / "server-dialog.png"))

        dialog.unpair()
        qtbot.waitUntil(lambda: dialog.message.text().startswith("Unpaired"), timeout=20000)
        qtbot.waitUntil(lambda: dialog.status.text() == "Not paired.", timeout=20000)
        assert lib.sync.pairing() is None
