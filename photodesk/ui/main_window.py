"""The main window: the toolbar, the sidebar, the views, import actions and background progress."""

from __future__ import annotations

import importlib
import logging
import os
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import JobProgress, Library, LibraryStats
from photodesk.ui import icons, ops, style
from photodesk.ui.bridge import Bridge
from photodesk.ui.event_names import EVENTS_SETTING, events_setting
from photodesk.ui.identity import app_icon, show_about
from photodesk.ui.views.albums import shared_albums
from photodesk.ui.views.base import ErrorView, View
from photodesk.ui.widgets.jobs_status import JobsStatus
from photodesk.ui.widgets.sidebar import Sidebar
from photodesk.ui.widgets.sync_status import SyncStatus

if TYPE_CHECKING:
    from photodesk.ui.views.viewer import ViewerView

log = logging.getLogger(__name__)

# Sidebar section -> "module:Class" of its view (imported when first shown); the sidebar groups
# them (widgets/sidebar.py GROUPS).
SECTIONS: dict[str, str] = {
    "Timeline": "photodesk.ui.views.timeline:TimelineView",
    "Memories": "photodesk.ui.views.moments:MemoriesView",
    "Events": "photodesk.ui.views.moments:EventsView",
    "Map": "photodesk.ui.views.map:MapView",
    "People": "photodesk.ui.views.people:PeopleView",
    "Search": "photodesk.ui.views.search:SearchView",
    "Albums": "photodesk.ui.views.albums:AlbumsView",
    "Tags": "photodesk.ui.views.tags:TagsView",
    "Folders": "photodesk.ui.views.folders:FoldersView",
    "Duplicates": "photodesk.ui.views.moments:DuplicatesView",
    "Favourites": "photodesk.ui.views.grid:FavouritesView",
    "Archive": "photodesk.ui.views.grid:ArchiveView",
    "Trash": "photodesk.ui.views.grid:TrashView",
}
VIEWER = "photodesk.ui.views.viewer:ViewerView"


def _load(spec: str) -> Any:
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
        font.setPixelSize(style.HEADLINE)
        font.setBold(True)
        self.headline.setFont(font)
        self.detail = QLabel(
            "Add a folder of photos: photodesk reads them where they are, or copies them into "
            "the library.\nYou can also drop files and folders onto this window."
        )
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        self.detail.setObjectName("muted")
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

        self.sidebar = Sidebar(list(SECTIONS))
        self.sidebar.assets_dropped.connect(self._on_sidebar_drop)
        self.sidebar.album_chosen.connect(self.show_album)
        self.stack = QStackedWidget()
        self.empty = EmptyState(self)
        self.stack.addWidget(self.empty)
        self.views: dict[str, View] = {}
        self.viewer: ViewerView | None = None
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
        self.sync_status = SyncStatus(library, self)  # hidden unless paired with a server
        self.statusBar().addPermanentWidget(self.sync_status)
        self.bridge.notice.connect(self._on_notice)
        self.bridge.changed.connect(self._on_changed)
        self._build_menus()
        self._build_toolbar()
        self._counts_timer = QTimer(self, singleShot=True, interval=1000)
        self._counts_timer.timeout.connect(self._refresh_empty)
        self._unsubscribe_theme = style.on_change(self._on_theme)

        self.sidebar.section_chosen.connect(self.show_section)
        last = self.settings.value("section", "Timeline") if restore else "Timeline"
        if restore and (geometry := self.settings.value("geometry")) is not None:
            self.restoreGeometry(geometry)
        self.sidebar.select(str(last) if last in SECTIONS else "Timeline")
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
        act = QAction("&Server…", self)  # pair with a photodesk server and sync
        act.triggered.connect(self.edit_server)
        file_menu.addAction(act)
        file_menu.addSeparator()
        act = QAction("&Quit", self)
        act.setShortcut(QKeySequence.StandardKey.Quit)
        act.triggered.connect(self.close)
        file_menu.addAction(act)
        view_menu = self.menuBar().addMenu("&View")
        appearance = view_menu.addMenu("&Appearance")
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for mode, text in (
            ("system", "Follow the &system"),
            ("light", "&Light"),
            ("dark", "&Dark"),
        ):
            act = QAction(text, self, checkable=True)
            act.setChecked(style.saved_mode() == mode)
            act.triggered.connect(lambda _=False, m=mode: self.set_theme(m))
            group.addAction(act)
            appearance.addAction(act)
            self.theme_actions[mode] = act
        self.events_action = QAction("Group timeline by &events", self, checkable=True)
        self.events_action.setChecked(events_setting())
        self.events_action.toggled.connect(self.set_events_grouping)
        view_menu.addAction(self.events_action)

        help_menu = self.menuBar().addMenu("&Help")
        act = QAction("&About photodesk", self)
        act.setMenuRole(QAction.MenuRole.AboutRole)
        act.triggered.connect(lambda: show_about(self))
        help_menu.addAction(act)

    def _build_toolbar(self) -> None:
        bar = QToolBar("Main")
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.import_action = QAction("Import", self)
        self.import_action.setToolTip("Import a folder of photos (Ctrl+I)")
        self.import_action.triggered.connect(lambda: self.import_folder(copy=False))
        bar.addAction(self.import_action)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.search_field = QLineEdit()
        self.search_field.setObjectName("searchField")
        self.search_field.setPlaceholderText("Search photos, places, cameras…")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setFixedWidth(360)
        self.search_field.returnPressed.connect(self._on_search)
        self.search_icon = self.search_field.addAction(
            icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition
        )
        bar.addWidget(self.search_field)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        self.theme_button = QToolButton()
        self.theme_button.setToolTip("Light or dark (View > Appearance)")
        self.theme_button.setAutoRaise(True)
        self.theme_button.clicked.connect(self._toggle_theme)
        bar.addWidget(self.theme_button)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar
        self._on_theme(style.current())

    def set_events_grouping(self, on: bool) -> None:
        """The timeline's big titles name events ("Thursday in Berlin") or months."""
        timeline = self.views.get("Timeline")
        if timeline is not None and hasattr(timeline, "set_events_grouping"):
            timeline.set_events_grouping(on)
        else:
            QSettings("photodesk", "photodesk").setValue(EVENTS_SETTING, on)

    def set_theme(self, mode: str) -> None:
        """Light, dark or the system's: saved, and applied to the whole app now."""
        style.save_mode(mode)
        if (app := QApplication.instance()) is not None:
            style.apply(app, mode)  # type: ignore[arg-type]
        if mode in self.theme_actions:
            self.theme_actions[mode].setChecked(True)

    def _toggle_theme(self) -> None:
        self.set_theme("light" if style.current().dark else "dark")

    def _on_theme(self, theme: style.Theme) -> None:
        icons.clear()
        content = self.stack.palette()  # views sit on the grid's colour, not the chrome's
        content.setColor(content.ColorRole.Window, QColor(theme.window))
        self.stack.setPalette(content)
        self.stack.setAutoFillBackground(True)
        self.import_action.setIcon(icons.icon("import", theme.text))
        self.theme_button.setIcon(icons.icon("light" if theme.dark else "dark", theme.text))
        self.search_icon.setIcon(icons.icon("search"))
        self.sidebar.refresh_icons()
        for view in self.views.values():
            view.theme_changed(theme)
        if self.viewer is not None:
            self.viewer.theme_changed(theme)

    def _on_search(self) -> None:
        text = self.search_field.text().strip()
        self.sidebar.select("Search")
        self.view("Search").search_for(text)

    def show_album(self, name: str) -> None:
        """The Albums view on album ``name`` (picked in the sidebar)."""
        self.show_section("Albums")
        self.view("Albums").show_collection(name)

    def _on_sidebar_drop(self, ids: list[int], kind: str, name: str) -> None:
        if kind == "album":
            ops.query(
                self,
                lambda: self.library.albums.add(name, ids),
                lambda n: self.statusBar().showMessage(f"Added {n} to {name}", 4000),
                self._on_error,
            )
        elif name == "Favourites":
            ops.query(
                self,
                lambda: self.library.assets.set_favorite(ids, True),
                lambda _: self.statusBar().showMessage("Marked as favourites", 4000),
                self._on_error,
            )

    def edit_watched_folders(self) -> None:
        from photodesk.ui.dialogs.watch_dialog import WatchDialog

        WatchDialog(self.library, self).exec()

    def edit_server(self) -> None:
        from photodesk.ui.dialogs.server_dialog import ServerDialog

        ServerDialog(self.library, self).exec()

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
    def view(self, section: str) -> View:
        if section not in self.views:
            view: View
            try:
                view = _load(SECTIONS[section])(self.library, self.bridge, self)
            except Exception as exc:  # one broken view must not take the app down
                log.exception("the %s view failed to load", section)
                message = f"The {section} view could not be opened: {exc}"
                view = ErrorView(self.library, self.bridge, message, self)
            view.open_assets.connect(self.open_viewer)
            view.similar_wanted.connect(self.find_similar)
            self.views[section] = view
            self.stack.addWidget(view)
        return self.views[section]

    def find_similar(self, asset_id: int) -> None:
        """Open the Search view on the photos that look like ``asset_id``."""
        self.show_section("Search")
        view = self.views.get("Search")
        if view is not None:
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
        view.activate()

    def open_viewer(self, ids: list[int], index: int) -> None:
        if self.viewer is None:
            self.viewer = _load(VIEWER)(self.library, self.bridge, self)
            self.viewer.closed.connect(self.close_viewer)
            self.stack.addWidget(self.viewer)
        self._before_viewer = self.stack.currentWidget()
        self.sidebar.hide()  # the viewer takes the whole window
        self.toolbar.hide()
        self.stack.setCurrentWidget(self.viewer)
        self.viewer.show_assets(ids, index)

    def close_viewer(self) -> None:
        self.sidebar.show()
        self.toolbar.show()
        if self._before_viewer is not None:
            self.stack.setCurrentWidget(self._before_viewer)
            self._before_viewer.setFocus()

    def current_section(self) -> str:
        return self.sidebar.current()

    def select_section(self, section: str) -> None:
        """Pick ``section`` in the sidebar (which shows it)."""
        self.sidebar.select(section)

    # ----- events ----------------------------------------------------------------------------
    def _refresh_empty(self) -> None:
        library = self.library

        def read() -> tuple[LibraryStats, list[tuple[str, int]], list[tuple[str, str, int, str]]]:
            own = [(a.name, a.asset_count) for a in library.albums.list()]
            return library.assets.stats(), own, shared_albums(library)

        ops.query(self, read, self._on_stats, self._on_error, latest="stats")

    def _on_stats(
        self, read: tuple[LibraryStats, list[tuple[str, int]], list[tuple[str, str, int, str]]]
    ) -> None:
        stats, albums, shared = read
        self.sidebar.set_counts(
            {
                "Timeline": stats.assets - stats.archived,
                "People": stats.people or None,
                "Albums": stats.albums,
                "Tags": stats.tags,
                "Favourites": stats.favorites,
                "Archive": stats.archived,
                "Trash": stats.trashed,
            }
        )
        self.sidebar.set_albums(albums, shared)
        was = self._library_empty
        self._library_empty = stats.assets == 0 and stats.trashed == 0
        if was != self._library_empty:
            if self.viewer is not None and self.stack.currentWidget() is self.viewer:
                return
            self.show_section(self.current_section())

    def _on_changed(self, changes: object) -> None:
        if self._library_empty and getattr(changes, "assets_added", False):
            self._refresh_empty()
        elif not self._counts_timer.isActive():  # the sidebar's counts, at most once a second
            self._counts_timer.start()

    def _on_notice(self, event: object) -> None:
        if isinstance(event, JobProgress):
            self.jobs_status.update_progress(event)

    def _on_error(self, exc: Exception) -> None:
        log.error("%s", exc)
        self.statusBar().showMessage(f"Error: {exc}", 10000)

    def closeEvent(self, event: object) -> None:
        self.settings.setValue("geometry", self.saveGeometry())
        self._unsubscribe_theme()
        self.bridge.close()
        super().closeEvent(event)  # type: ignore[arg-type]
