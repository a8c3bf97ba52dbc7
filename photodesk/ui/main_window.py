"""The main window: sidebar navigation, the views, import actions and background-work progress."""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import JobProgress, Library, LibraryStats
from photodesk.ui import ops
from photodesk.ui.bridge import Bridge
from photodesk.ui.identity import app_icon, show_about
from photodesk.ui.widgets.jobs_status import JobsStatus

log = logging.getLogger(__name__)

# Sidebar section -> "module:Class" of its view (imported when first shown).
SECTIONS: dict[str, str] = {
    "Timeline": "photodesk.ui.views.timeline:TimelineView",
    "Map": "photodesk.ui.views.map:MapView",
    "People": "photodesk.ui.views.people:PeopleView",
    "Search": "photodesk.ui.views.search:SearchView",
    "Albums": "photodesk.ui.views.albums:AlbumsView",
    "Tags": "photodesk.ui.views.tags:TagsView",
    "Folders": "photodesk.ui.views.folders:FoldersView",
    "Favourites": "photodesk.ui.views.grid:FavouritesView",
    "Archive": "photodesk.ui.views.grid:ArchiveView",
    "Trash": "photodesk.ui.views.grid:TrashView",
}
VIEWER = "photodesk.ui.views.viewer:ViewerView"


def _load(spec: str) -> type:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


class EmptyState(QWidget):
    """What a new library shows instead of a blank grid: what to do first."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__()
        self.headline = QLabel("Your library is empty")
        self.headline.setObjectName("headline")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.headline.font()
        font.setPointSize(font.pointSize() + 8)
        self.headline.setFont(font)
        self.detail = QLabel(
            "Add a folder of photos: photodesk reads them where they are, or copies them into "
            "the library.\nYou can also drop files and folders onto this window."
        )
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self.import_button = QPushButton("Import a folder…")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(lambda: window.import_folder(copy=False))
        self.copy_button = QPushButton("Copy a folder into the library…")
        self.copy_button.clicked.connect(lambda: window.import_folder(copy=True))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addStretch(1)
        column.addWidget(self.headline)
        column.addWidget(self.detail)
        column.addSpacing(12)
        column.addLayout(buttons)
        column.addStretch(2)


class MainWindow(QMainWindow):
    def __init__(self, library: Library, *, restore: bool = True) -> None:
        super().__init__()
        self.library = library
        self.bridge = Bridge(library, self)
        self.settings = QSettings("photodesk", "photodesk")
        self.setWindowTitle(f"photodesk — {library.root.name}")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.resize(1280, 820)

        self.sidebar = QListWidget()
        self.sidebar.addItems(list(SECTIONS))
        self.sidebar.setFixedWidth(170)
        self.stack = QStackedWidget()
        self.empty = EmptyState(self)
        self.stack.addWidget(self.empty)
        self.views: dict[str, QWidget] = {}
        self.viewer: Any = None  # the ViewerView, loaded on first use
        self._before_viewer: QWidget | None = None
        self._library_empty: bool | None = None

        body = QWidget()
        row = QHBoxLayout(body)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(body)

        self.jobs_status = JobsStatus(library, self)
        self.statusBar().addPermanentWidget(self.jobs_status)
        self.bridge.notice.connect(self._on_notice)
        self.bridge.changed.connect(self._on_changed)
        self._build_menus()

        self.sidebar.currentTextChanged.connect(self.show_section)
        last = self.settings.value("section", "Timeline") if restore else "Timeline"
        if restore and (geometry := self.settings.value("geometry")) is not None:
            self.restoreGeometry(geometry)
        self.sidebar.setCurrentRow(max(0, list(SECTIONS).index(last) if last in SECTIONS else 0))
        self._refresh_empty()

    # ----- menus and import ------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        act = QAction("&Import folder…", self)
        act.setShortcut(QKeySequence("Ctrl+I"))
        act.triggered.connect(lambda: self.import_folder(copy=False))
        file_menu.addAction(act)
        act = QAction("Import and &copy into library…", self)
        act.triggered.connect(lambda: self.import_folder(copy=True))
        file_menu.addAction(act)
        act = QAction("&Watched folders…", self)
        act.triggered.connect(self.edit_watched_folders)
        file_menu.addAction(act)
        file_menu.addSeparator()
        act = QAction("&Quit", self)
        act.setShortcut(QKeySequence.StandardKey.Quit)
        act.triggered.connect(self.close)
        file_menu.addAction(act)
        help_menu = self.menuBar().addMenu("&Help")
        act = QAction("&About photodesk", self)
        act.setMenuRole(QAction.MenuRole.AboutRole)
        act.triggered.connect(lambda: show_about(self))
        help_menu.addAction(act)

    def edit_watched_folders(self) -> None:
        from photodesk.ui.dialogs.watch_dialog import WatchDialog

        WatchDialog(self.library, self).exec()

    def import_folder(self, *, copy: bool) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of photos")
        if folder:
            self.import_paths([folder], copy=copy)

    def import_paths(self, paths: list[str], *, copy: bool = False) -> None:
        """Queue an import job; the job engine runs it off the GUI thread."""
        payload = {"paths": [os.path.abspath(p) for p in paths], "copy": copy}
        ops.query(
            self,
            lambda: self.library.jobs.enqueue("import", None, payload, priority=10),
            lambda _job: self.statusBar().showMessage("Import queued", 3000),
            self._on_error,
        )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.import_paths(paths)
            event.acceptProposedAction()

    # ----- views -----------------------------------------------------------------------------
    def view(self, section: str) -> QWidget:
        if section not in self.views:
            try:
                cls = _load(SECTIONS[section])
                view = cls(self.library, self.bridge, self)
            except Exception as exc:  # one broken view must not take the app down
                log.exception("the %s view failed to load", section)
                view = QLabel(f"The {section} view could not be opened: {exc}")
                view.setAlignment(Qt.AlignmentFlag.AlignCenter)
            if hasattr(view, "open_assets"):
                view.open_assets.connect(self.open_viewer)
            self.views[section] = view
            self.stack.addWidget(view)
        return self.views[section]

    def find_similar(self, asset_id: int) -> None:
        """Open the Search view on the photos that look like ``asset_id``."""
        self.show_section("Search")
        view = self.views.get("Search")
        if view is not None and hasattr(view, "show_similar"):
            view.show_similar(asset_id)

    def show_section(self, section: str) -> None:
        if section not in SECTIONS:
            return
        self.settings.setValue("section", section)
        if section == "Timeline" and self._library_empty:
            self.stack.setCurrentWidget(self.empty)
            return
        view = self.view(section)
        self.stack.setCurrentWidget(view)
        if hasattr(view, "activate"):
            view.activate()

    def open_viewer(self, ids: list[int], index: int) -> None:
        if self.viewer is None:
            self.viewer = _load(VIEWER)(self.library, self.bridge, self)
            self.viewer.closed.connect(self.close_viewer)
            self.stack.addWidget(self.viewer)
        self._before_viewer = self.stack.currentWidget()
        self.sidebar.hide()  # the viewer takes the whole window
        self.stack.setCurrentWidget(self.viewer)
        self.viewer.show_assets(ids, index)

    def close_viewer(self) -> None:
        self.sidebar.show()
        if self._before_viewer is not None:
            self.stack.setCurrentWidget(self._before_viewer)
            self._before_viewer.setFocus()

    def current_section(self) -> str:
        item = self.sidebar.currentItem()
        return item.text() if item else "Timeline"

    # ----- events ----------------------------------------------------------------------------
    def _refresh_empty(self) -> None:
        ops.query(self, self.library.assets.stats, self._on_stats, self._on_error)

    def _on_stats(self, stats: LibraryStats) -> None:
        was = self._library_empty
        self._library_empty = stats.assets == 0 and stats.trashed == 0
        if was != self._library_empty:
            if self.viewer is not None and self.stack.currentWidget() is self.viewer:
                return
            self.show_section(self.current_section())

    def _on_changed(self, changes: object) -> None:
        if self._library_empty and getattr(changes, "assets_added", False):
            self._refresh_empty()

    def _on_notice(self, event: object) -> None:
        if isinstance(event, JobProgress):
            self.jobs_status.update_progress(event)

    def _on_error(self, exc: Exception) -> None:
        log.error("%s", exc)
        self.statusBar().showMessage(f"Error: {exc}", 10000)

    def closeEvent(self, event: object) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self.bridge.close()
        super().closeEvent(event)  # type: ignore[arg-type]
