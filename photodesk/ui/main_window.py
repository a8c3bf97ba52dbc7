"""The main window: a navigation sidebar and the library overview (or an empty state)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import Library, LibraryStats
from photodesk.ui import ops

SECTIONS = [
    "Timeline",
    "Map",
    "People",
    "Search",
    "Albums",
    "Tags",
    "Folders",
    "Favourites",
    "Archive",
    "Trash",
]


class MainWindow(QMainWindow):
    def __init__(self, library: Library) -> None:
        super().__init__()
        self._library = library
        self.setWindowTitle(f"photodesk — {library.root.name}")
        self.resize(1100, 720)
        self.sidebar = QListWidget()
        self.sidebar.addItems(SECTIONS)
        self.sidebar.setCurrentRow(0)
        self.sidebar.setFixedWidth(180)
        self.headline = QLabel("Loading your library…")
        self.headline.setObjectName("headline")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.headline.font()
        font.setPointSize(font.pointSize() + 6)
        self.headline.setFont(font)
        self.detail = QLabel("")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        center = QWidget()
        column = QVBoxLayout(center)
        column.addStretch(1)
        column.addWidget(self.headline)
        column.addWidget(self.detail)
        column.addStretch(1)
        body = QWidget()
        row = QHBoxLayout(body)
        row.addWidget(self.sidebar)
        row.addWidget(center, 1)
        self.setCentralWidget(body)
        self.statusBar().showMessage(str(library.root))
        ops.query(self, library.assets.stats, self._on_stats, self._on_error)

    def _on_stats(self, stats: LibraryStats) -> None:
        if stats.assets == 0:
            self.headline.setText("Your library is empty")
            self.detail.setText(
                "Import a folder of photos to get started:\n"
                f'photodesk --library "{self._library.root}" import ~/Pictures'
            )
        else:
            self.headline.setText(f"{stats.assets:,} photos and videos")
            span = (
                f"{stats.oldest:%B %Y} – {stats.newest:%B %Y}"
                if stats.oldest and stats.newest
                else ""
            )
            self.detail.setText(span)

    def _on_error(self, exc: Exception) -> None:
        self.headline.setText("The library could not be read")
        self.detail.setText(str(exc))
