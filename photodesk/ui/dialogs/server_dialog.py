"""The Server dialog: pair this library with a photodesk server, see its state, sync, unpair."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import Library, PhotodeskError
from photodesk.core.sync import RemoteRefused, RemoteUnavailable
from photodesk.ui import ops


class ServerDialog(QDialog):
    """Unpaired: a form (server, email, password or API key). Paired: the state and actions.
    Every call to the server runs off the GUI thread."""

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self._asked = 0
        self.setWindowTitle("Server")
        self.resize(520, 300)
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
        self.sync_button = QPushButton("Sync now")
        self.unpair_button = QPushButton("Unpair")
        self.pair_button.clicked.connect(self.pair)
        self.sync_button.clicked.connect(self.sync_now)
        self.unpair_button.clicked.connect(self.unpair)
        row = QHBoxLayout()
        for b in (self.pair_button, self.sync_button, self.unpair_button):
            row.addWidget(b)
        row.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "Pair this library with your account on a photodesk server: your photos and "
                "edits sync both ways, and everything keeps working offline."
            )
        )
        layout.addWidget(self.form)
        layout.addWidget(self.status)
        layout.addWidget(self.worker)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(close)
        self.refresh()

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
        ops.query(self, lambda: pairing.sync(self.library), self._synced, self._on_error)

    def _synced(self, report: Any) -> None:
        text = (
            f"Pulled {report.pulled}, pushed {report.pushed}, uploaded {report.uploaded}, "
            f"thumbnails {report.thumbnails}, conflicts decided {len(report.conflicts)}."
        )
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
        if isinstance(exc, RemoteUnavailable):
            self.message.setText(f"The server cannot be reached: {exc}")
        elif isinstance(exc, RemoteRefused | PhotodeskError | ValueError):
            self.message.setText(str(exc))
        else:
            self.message.setText(f"Error: {exc}")
