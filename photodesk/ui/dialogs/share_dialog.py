"""The Share dialog: an album of a paired library shared with other accounts of the server
(viewer or editor), and its public links (password, expiry, download, upload, no metadata).
Every call goes to the server off the GUI thread."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QApplication,
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

DATA = 256  # Qt.ItemDataRole.UserRole


class ShareDialog(QDialog):
    def __init__(self, library: Library, album: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from photodesk.remote.shares import EXPIRIES

        self.library = library
        self.album = album
        self._sharing: Any = None
        self.setWindowTitle(f"Share “{album}”")
        self.resize(600, 560)
        self.message = QLabel("Loading…")
        self.message.setWordWrap(True)

        people = QGroupBox("People on the server")
        self.grants = QListWidget()
        self.email = QLineEdit()
        self.email.setPlaceholderText("their email on the server")
        self.role = QComboBox()
        self.role.addItems(["viewer", "editor"])
        self.share_button = QPushButton("Share")
        self.unshare_button = QPushButton("Stop sharing")
        self.share_button.clicked.connect(self.share)
        self.unshare_button.clicked.connect(self.unshare)
        row = QHBoxLayout()
        row.addWidget(self.email, 1)
        row.addWidget(self.role)
        row.addWidget(self.share_button)
        box = QVBoxLayout(people)
        box.addWidget(self.grants)
        box.addLayout(row)
        box.addWidget(self.unshare_button)

        links = QGroupBox("Public links")
        self.links = QListWidget()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("none")
        self.expires = QComboBox()
        self.expires.addItems(list(EXPIRIES))
        self.allow_download = QCheckBox("Visitors can download originals")
        self.allow_upload = QCheckBox("Visitors can add photos")
        self.no_metadata = QCheckBox("Hide metadata (camera, place, dates)")
        self.create_button = QPushButton("Create link")
        self.copy_button = QPushButton("Copy link")
        self.revoke_button = QPushButton("Revoke")
        self.create_button.clicked.connect(self.create_link)
        self.copy_button.clicked.connect(self.copy_link)
        self.revoke_button.clicked.connect(self.revoke_link)
        form = QFormLayout()
        form.addRow("Password", self.password)
        form.addRow("Expires", self.expires)
        form.addRow("", self.allow_download)
        form.addRow("", self.allow_upload)
        form.addRow("", self.no_metadata)
        actions = QHBoxLayout()
        for b in (self.create_button, self.copy_button, self.revoke_button):
            actions.addWidget(b)
        actions.addStretch(1)
        box = QVBoxLayout(links)
        box.addWidget(self.links)
        box.addLayout(form)
        box.addLayout(actions)

        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(people)
        layout.addWidget(links)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.grants.currentRowChanged.connect(lambda _: self._update_buttons())
        self.links.currentRowChanged.connect(lambda _: self._update_buttons())
        self._set_busy(True)
        self.refresh()

    # ----- loading -------------------------------------------------------------------------
    def _client(self) -> Any:
        from photodesk.remote.shares import Sharing

        if self._sharing is None:
            self._sharing = Sharing.for_library(self.library, self.album)
        return self._sharing

    def refresh(self, note: str = "") -> None:
        ops.query(self, lambda: self._client().load(), lambda s: self._show(s, note), self._fail)

    def _show(self, shares: Any, note: str) -> None:
        self.grants.clear()
        for g in shares.grants:
            item = QListWidgetItem(f"{g.email} — {g.role}")
            item.setData(DATA, g.user_id)
            self.grants.addItem(item)
        self.links.clear()
        for link in shares.links:
            item = QListWidgetItem(f"{link.url}\n{link.describe()}")
            item.setData(DATA, (link.id, link.url))
            self.links.addItem(item)
        if self.links.count():
            self.links.setCurrentRow(self.links.count() - 1)
        self._set_busy(False)
        shared = len(shares.grants)
        self.message.setText(
            note
            or f"Shared with {shared} {'person' if shared == 1 else 'people'}, "
            f"{len(shares.links)} active link{'' if len(shares.links) == 1 else 's'}."
        )

    def _set_busy(self, busy: bool) -> None:
        for w in (self.share_button, self.create_button):
            w.setEnabled(not busy)
        self._update_buttons(busy)

    def _update_buttons(self, busy: bool = False) -> None:
        self.unshare_button.setEnabled(not busy and self.grants.currentRow() >= 0)
        self.copy_button.setEnabled(not busy and self.links.currentRow() >= 0)
        self.revoke_button.setEnabled(not busy and self.links.currentRow() >= 0)

    def _fail(self, exc: Exception) -> None:
        self._set_busy(False)
        if isinstance(exc, RemoteUnavailable):
            self.message.setText(f"The server cannot be reached: {exc}")
        elif isinstance(exc, RemoteRefused | PhotodeskError):
            self.message.setText(str(exc))
        else:
            self.message.setText(f"Error: {exc}")

    def _do(self, work: Any, note: str) -> None:
        self._set_busy(True)
        ops.query(self, work, lambda _: self.refresh(note), self._fail)

    # ----- actions -------------------------------------------------------------------------
    def share(self) -> None:
        email, role = self.email.text().strip(), self.role.currentText()
        if not email:
            self.message.setText("Enter the email of an account on the server.")
            return
        self.email.clear()
        self._do(lambda: self._client().share(email, role), f"Shared with {email} as {role}.")

    def unshare(self) -> None:
        item = self.grants.currentItem()
        if item is not None:
            user_id = int(item.data(DATA))
            self._do(lambda: self._client().unshare(user_id), "Stopped sharing.")

    def create_link(self) -> None:
        options = {
            "password": self.password.text(),
            "expires": self.expires.currentText(),
            "allow_download": self.allow_download.isChecked(),
            "allow_upload": self.allow_upload.isChecked(),
            "show_metadata": not self.no_metadata.isChecked(),
        }
        self.password.clear()

        self._set_busy(True)
        ops.query(self, lambda: self._client().create_link(**options), self._created, self._fail)

    def _created(self, link: Any) -> None:
        QApplication.clipboard().setText(link.url)
        self.refresh(f"Link created and copied: {link.url}")

    def copy_link(self) -> None:
        item = self.links.currentItem()
        if item is not None:
            url = item.data(DATA)[1]
            QApplication.clipboard().setText(url)
            self.message.setText(f"Copied {url}")

    def revoke_link(self) -> None:
        item = self.links.currentItem()
        if item is not None:
            link_id = int(item.data(DATA)[0])
            self._do(lambda: self._client().revoke_link(link_id), "Link revoked.")
