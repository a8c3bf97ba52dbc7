"""The Server dialog: pair this library with a photodesk server, see its state, sync, unpair."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import Library, PhotodeskError
from photodesk.core.sync import RemoteRefused, RemoteUnavailable
from photodesk.ui import ops

PREVIEWS = {"on_demand": "When a photo is opened", "always": "Always (each sync)"}
ORIGINALS = {
    "on_demand": "On demand (opening 1:1, export)",
    "albums": "Kept offline for the albums ticked below",
    "all": "Kept offline, all of them",
}


class ServerDialog(QDialog):
    """Unpaired: a form (server, email, password or API key, or sign-in in the browser).
    Paired: the state, what comes from the server, the conflicts sync decided, and actions.
    Every call to the server runs off the GUI thread."""

    # opens the server's pairing page; tests put a scripted browser here
    opener: Callable[[str], object] = staticmethod(webbrowser.open)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._asked = 0
        self.setWindowTitle("Server")
        self.resize(620, 640)
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://nas.local:2283")
        self.email = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("instead of a password (two factors, single sign-on)")
        self.form = QWidget()
        form = QFormLayout(self.form)
        form.addRow("Server", self.url)
        form.addRow("Email", self.email)
        form.addRow("Password", self.password)
        form.addRow("or API key", self.api_key)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.worker = QCheckBox(
            "Let this computer analyse the server's photos (faces, smart search) in the "
            "background while photodesk runs"
        )
        self.worker.setToolTip(
            "Uses this computer's models and GPU, if any; the account must be the server's "
            "administrator"
        )
        self.worker.toggled.connect(self.allow_worker)
        self.pair_button = QPushButton("Pair")
        self.browser_button = QPushButton("Sign in with the browser…")
        self.browser_button.setToolTip(
            "For accounts with two factors or single sign-on: the server's sign-in page "
            "hands this device its own key"
        )
        self.browser_button.clicked.connect(self.pair_in_browser)
        self.sync_button = QPushButton("Sync now")
        self.unpair_button = QPushButton("Unpair")
        self.pair_button.clicked.connect(self.pair)
        self.sync_button.clicked.connect(self.sync_now)
        self.unpair_button.clicked.connect(self.unpair)
        row = QHBoxLayout()
        for b in (self.pair_button, self.browser_button, self.sync_button, self.unpair_button):
            row.addWidget(b)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Pair this library with your account on a photodesk server: your photos and "
            "edits sync both ways, and everything keeps working offline."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addWidget(self.status)
        layout.addWidget(self.worker)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self._build_settings())
        layout.addWidget(self._build_conflicts(), 1)
        layout.addWidget(close)
        self.progress_timer = QTimer(self)
        self.progress_timer.timeout.connect(self._show_progress)
        self.refresh()

    def _build_settings(self) -> QGroupBox:
        self.settings_box = QGroupBox("From the server")
        self.previews = QComboBox()
        for value, text in PREVIEWS.items():
            self.previews.addItem(text, value)
        self.originals = QComboBox()
        for value, text in ORIGINALS.items():
            self.originals.addItem(text, value)
        self.offline_albums = QListWidget()
        self.offline_albums.setMaximumHeight(90)
        self.previews.activated.connect(lambda _: self.save_settings())
        self.originals.activated.connect(lambda _: self.save_settings())
        self.offline_albums.itemChanged.connect(lambda _: self.save_settings())
        form = QFormLayout(self.settings_box)
        form.addRow("Thumbnails", QLabel("Always"))
        form.addRow("Previews", self.previews)
        form.addRow("Originals", self.originals)
        form.addRow("Offline albums", self.offline_albums)
        self.settings_box.hide()
        self.settings_box.setEnabled(False)  # until the saved settings are shown
        return self.settings_box

    def _build_conflicts(self) -> QGroupBox:
        self.conflicts_box = QGroupBox("Conflicts sync decided (newest first)")
        self.conflicts = QListWidget()
        QVBoxLayout(self.conflicts_box).addWidget(self.conflicts)
        self.conflicts_box.hide()
        return self.conflicts_box

    def refresh(self) -> None:
        from photodesk.remote import pairing

        self._asked += 1
        asked = self._asked  # an older answer arriving late must not overwrite a newer one
        ops.query(
            self,
            lambda: pairing.status(self.library),
            lambda info: self._show(info) if asked == self._asked else None,
            self._on_error,
        )

    def _show(self, info: dict[str, Any]) -> None:
        paired = bool(info.get("paired"))
        self.form.setVisible(not paired)
        self.pair_button.setVisible(not paired)
        self.browser_button.setVisible(not paired)
        self.settings_box.setVisible(paired)
        self.conflicts_box.setVisible(paired)
        if paired:
            self._load_local()
        self.sync_button.setVisible(paired)
        self.unpair_button.setVisible(paired)
        self.worker.setVisible(paired)
        self.worker.blockSignals(True)
        self.worker.setChecked(bool(info.get("worker")))
        self.worker.blockSignals(False)
        if not paired:
            self.status.setText("Not paired.")
            return
        lines = [
            f"Paired with {info['server']} as {info['account']} (this device: {info['device']})",
            f"State: {info['state']} · last sync: {info['last_sync'] or 'never'} · "
            f"waiting to sync: {info['pending']}",
        ]
        lines += [f"Error: {e}" for e in info.get("errors", [])]
        self.status.setText("\n".join(lines))

    def _load_local(self) -> None:
        lib = self.library

        def read() -> tuple[Any, list[str], list[Any]]:
            return lib.sync.settings(), [a.name for a in lib.albums.list()], lib.sync.conflicts()

        ops.query(self, read, self._show_local, self._on_error, latest="local")

    def _show_local(self, data: tuple[Any, list[str], list[Any]]) -> None:
        settings, albums, decided = data
        self.settings_box.setEnabled(True)
        self.previews.setCurrentIndex(max(self.previews.findData(settings.previews), 0))
        self.originals.setCurrentIndex(max(self.originals.findData(settings.originals), 0))
        self.offline_albums.blockSignals(True)
        self.offline_albums.clear()
        for name in sorted(set(albums) | set(settings.offline_albums), key=str.casefold):
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = name in settings.offline_albums
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.offline_albums.addItem(item)
        self.offline_albums.blockSignals(False)
        self.offline_albums.setEnabled(settings.originals == "albums")
        self.conflicts.clear()
        for c in decided:
            side = {"local": "this device", "device": "this device", "remote": "the server",
                    "server": "the server"}.get(c.winner, c.winner)  # fmt: skip
            if c.field == "same person":  # two names for people that share faces
                self.conflicts.addItem(
                    f"{c.kept!r} and {c.dropped!r} share faces: both kept (merge them in "
                    "People if they are one person)"
                )
                continue
            self.conflicts.addItem(
                f"{c.field} of photo {c.checksum[:10]}: kept {c.kept!r} (from {side}), "
                f"dropped {c.dropped!r}"
            )
        if not decided:
            self.conflicts.addItem("None so far.")

    def save_settings(self) -> None:
        previews, originals = self.previews.currentData(), self.originals.currentData()
        albums = [
            self.offline_albums.item(i).text()
            for i in range(self.offline_albums.count())
            if self.offline_albums.item(i).checkState() == Qt.CheckState.Checked
        ]
        self.offline_albums.setEnabled(originals == "albums")
        lib = self.library
        ops.query(
            self,
            lambda: lib.sync.set_settings(
                previews=previews, originals=originals, offline_albums=albums
            ),
            lambda _: self.message.setText("Saved: the next sync fetches what they ask for."),
            self._on_error,
        )

    def pair_in_browser(self) -> None:
        from photodesk.remote import pairing

        url, lib, opener = self.url.text().strip(), self.library, type(self).opener

        def work() -> Any:
            return pairing.add(lib, url, browser=opener)

        self.message.setText(
            "Sign in on the server's page in your browser, then allow this device…"
        )
        ops.query(self, work, self._paired, self._on_error)

    def pair(self) -> None:
        from photodesk.remote import pairing

        url, email = self.url.text().strip(), self.email.text().strip()
        password, key = self.password.text(), self.api_key.text().strip()
        lib = self.library

        def work() -> Any:
            return pairing.add(
                lib, url, email=email or None, password=password or None, api_key=key or None
            )

        self.message.setText("Pairing…")
        ops.query(self, work, self._paired, self._on_error)

    def _paired(self, made: Any) -> None:
        self.password.clear()
        self.api_key.clear()
        self.message.setText(f"Paired as {made.email}. The first sync starts now.")
        self.library.sync.start_background()
        self.refresh()

    def allow_worker(self, on: bool) -> None:
        """Work the server's ML jobs here, or stop (the write and the job queue off the GUI
        thread; the work itself is an ``assist.server`` job on the job engine)."""
        lib = self.library

        def done(_: object) -> None:
            self.message.setText(
                "This computer now analyses the server's photos in the background."
                if on
                else "This computer no longer analyses the server's photos."
            )
            if on:
                lib.sync.start_background()

        ops.query(self, lambda: lib.sync.allow_worker(on), done, self._on_error)

    def sync_now(self) -> None:
        from photodesk.remote import pairing

        self.message.setText("Syncing…")
        self.progress_timer.start(500)
        ops.query(self, lambda: pairing.sync(self.library), self._synced, self._on_error)

    def _show_progress(self) -> None:
        progress = self.library.sync.progress()  # in memory: cheap on the GUI thread
        if progress is not None:
            self.message.setText(f"Syncing: {progress.text()}")

    def _synced(self, report: Any) -> None:
        self.progress_timer.stop()
        text = (
            f"Pulled {report.pulled}, pushed {report.pushed}, uploaded {report.uploaded}, "
            f"thumbnails {report.thumbnails}, conflicts decided {len(report.conflicts)}."
        )
        if report.originals or report.previews:
            text += f" Kept offline: {report.originals} originals, {report.previews} previews."

        if report.errors:
            text += "\n" + "\n".join(report.errors[:3])
        self.message.setText(text)
        self.refresh()

    def unpair(self) -> None:
        from photodesk.remote import pairing

        self.library.sync.stop_background()
        ops.query(self, lambda: pairing.remove(self.library), lambda _: self._unpaired(),
                  self._on_error)  # fmt: skip

    def _unpaired(self) -> None:
        self.message.setText("Unpaired: the photos and edits stay in this library.")
        self.refresh()

    def _on_error(self, exc: Exception) -> None:
        self.progress_timer.stop()
        if isinstance(exc, RemoteUnavailable):
            self.message.setText(f"The server cannot be reached: {exc}")
        elif isinstance(exc, RemoteRefused | PhotodeskError | ValueError):
            self.message.setText(str(exc))
        else:
            self.message.setText(f"Error: {exc}")
