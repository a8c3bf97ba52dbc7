"""Watched-folders settings: add and remove the folders whose changes photodesk follows."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import Library, WatchedFolder
from photodesk.ui import ops


class WatchDialog(QDialog):
    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.setWindowTitle("Watched folders")
        self.resize(560, 360)
        self.folders = QListWidget()
        self.copy = QCheckBox("Copy new photos into the library (instead of referencing them)")
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.add_button.clicked.connect(self._on_add)
        self.remove_button.clicked.connect(self._on_remove)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "photodesk imports new photos from these folders while it runs, follows moves and "
                "renames, and marks deleted files offline. Network shares are polled."
            )
        )
        layout.addWidget(self.folders, 1)
        layout.addWidget(self.copy)
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        layout.addWidget(close)
        self.refresh()

    def refresh(self) -> None:
        ops.query(self, self.library.files.watched, self._show, self._on_error, latest="watched")

    def _show(self, folders: list[WatchedFolder]) -> None:
        self.folders.clear()
        for f in folders:
            item = QListWidgetItem(f.path + ("  (copied into the library)" if f.copy else ""))
            item.setData(256, f.path)
            self.folders.addItem(item)
        self.remove_button.setEnabled(bool(folders))

    def add_folder(self, path: str, copy: bool) -> None:
        lib = self.library

        def add() -> None:
            lib.files.add_watched(path, copy=copy)
            lib.watch.reload()

        ops.query(self, add, lambda _: self.refresh(), self._on_error)

    def _on_add(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Watch a folder")
        if path:
            self.add_folder(path, self.copy.isChecked())

    def _on_remove(self) -> None:
        item = self.folders.currentItem()
        if item is None:
            return
        path = item.data(256)
        lib = self.library

        def remove() -> None:
            lib.files.remove_watched(path)
            lib.watch.reload()

        ops.query(self, remove, lambda _: self.refresh(), self._on_error)

    def _on_error(self, exc: Exception) -> None:
        self.error.setText(f"<span style='color:#c0392b'>{exc}</span>")
