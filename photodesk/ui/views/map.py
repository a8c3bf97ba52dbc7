"""The Map view: photos on an offline world map; a clicked cluster or a region lists its photos."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import AssetQuery, GeoPoint, GeoService, Library, MarkerIndex
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.base import View
from photodesk.ui.widgets.map_basemap import Basemap
from photodesk.ui.widgets.map_canvas import MapCanvas
from photodesk.ui.widgets.map_thumbs import MapThumbs, query_for
from photodesk.ui.widgets.map_tiles import DEFAULT_TILE_URL, Fetcher, TileLayer, fetch_url

log = logging.getLogger(__name__)

AnyIndex = QModelIndex | QPersistentModelIndex
ICON = 96
HINT = "Click a cluster, or shift-drag a region"


class SelectionModel(QAbstractListModel):
    """The selected photos (newest first) with their thumbnails, for the list beside the map.

    It holds ids only; dates and thumbnails are looked up in the marker index as rows show.
    """

    def __init__(self, thumbs: MapThumbs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ids: list[int] = []
        self._index: MarkerIndex | None = None
        self._thumbs = thumbs
        self._placeholder = QPixmap(ICON, ICON)
        self._placeholder.fill(QColor(128, 128, 128, 60))
        thumbs.changed.connect(self._on_thumbs)

    def set_ids(self, index: MarkerIndex | None, ids: list[int]) -> None:
        self.beginResetModel()
        self._index, self._ids = index, list(ids)
        self.endResetModel()

    def set_index(self, index: MarkerIndex) -> None:
        """Newer data for the same ids (after a catalog change)."""
        self._index = index
        if self._ids:
            self.dataChanged.emit(self.index(0), self.index(len(self._ids) - 1))

    def ids(self) -> list[int]:
        return list(self._ids)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def point(self, row: int) -> GeoPoint | None:
        if self._index is None or not 0 <= row < len(self._ids):
            return None
        return self._index.get(self._ids[row])

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        p = self.point(index.row()) if index.isValid() else None
        if p is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return p.taken_at.strftime("%d %b %Y") if p.taken_at else ""
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbs.get(p.checksum) or self._placeholder
        if role == Qt.ItemDataRole.ToolTipRole:
            when = p.taken_at.strftime("%Y-%m-%d %H:%M") if p.taken_at else "unknown date"
            return f"{when}\n{p.lat:.5f}, {p.lon:.5f}"
        if role == Qt.ItemDataRole.UserRole:
            return p.id
        return None

    def _on_thumbs(self) -> None:
        if self._ids:
            last = self.index(len(self._ids) - 1)
            self.dataChanged.emit(self.index(0), last, [Qt.ItemDataRole.DecorationRole])


class MapView(View):
    """The canvas, a bar (counts, "show all", online tiles) and the list of selected photos."""

    title = "Map"

    def __init__(
        self,
        library: Library,
        bridge: Bridge,
        parent: QWidget | None = None,
        *,
        fetch: Fetcher = fetch_url,
        shared_grid: bool = True,
    ) -> None:
        super().__init__(library, bridge, parent)
        self.geo: GeoService = library.geo
        self.query = AssetQuery()
        self.index: MarkerIndex | None = None
        self._fetch = fetch
        self._fit_next = True
        self._stale = False  # the catalog changed while the map was hidden
        self.settings = QSettings("photodesk", "photodesk")
        self.thumbs = MapThumbs(library.thumbnails.thumb_path, size=ICON, parent=self)
        self.canvas = MapCanvas(self.thumbs)
        self.canvas.selection_changed.connect(self._on_selection)

        self.summary = QLabel("Loading the map…")
        self.fit_button = QToolButton()
        self.fit_button.setText("Show all")
        self.fit_button.clicked.connect(self.show_all)
        self.tiles_box = QCheckBox("Online map tiles")
        self.tiles_box.setToolTip("Street-level detail from an XYZ tile server (cached on disk)")
        self.tile_url = QLineEdit(str(self.settings.value("map/tile_url", DEFAULT_TILE_URL)))
        self.tile_url.setPlaceholderText(DEFAULT_TILE_URL)
        self.tile_url.setMinimumWidth(280)
        self.tile_url.editingFinished.connect(self._on_tile_url)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.fit_button)
        bar.addSpacing(12)
        bar.addWidget(self.tiles_box)
        bar.addWidget(self.tile_url)

        self.list_title = QLabel(HINT)
        self.list_title.setWordWrap(True)
        self.model = SelectionModel(self.thumbs, self)
        self.grid = _shared_grid(library, bridge) if shared_grid else None
        if self.grid is not None:
            self.grid.open_assets.connect(self.open_assets)
            self.grid.similar_wanted.connect(self.similar_wanted)
        self.list = self.grid if self.grid is not None else self._make_list()
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(*((0, 0, 0, 0) if self.grid is not None else (6, 6, 6, 6)))
        column.addWidget(self.list_title)
        self.list_title.setVisible(self.grid is None)  # the grid has a heading and a count
        column.addWidget(self.list, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([960, 420])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(400)
        self._reload_timer.timeout.connect(self.reload)
        self.bridge.changed.connect(self._on_changed)
        enabled = str(self.settings.value("map/tiles", "false")).lower() == "true"
        self.tiles_box.setChecked(enabled)
        self.tile_url.setVisible(enabled)
        self.tiles_box.toggled.connect(self.set_tiles_enabled)

    def _make_list(self) -> QListView:
        view = QListView()
        view.setModel(self.model)
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setIconSize(QSize(ICON, ICON))
        view.setGridSize(QSize(ICON + 16, ICON + 26))
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setMovement(QListView.Movement.Static)
        view.setUniformItemSizes(True)
        view.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        view.setWordWrap(False)
        view.setLayoutMode(QListView.LayoutMode.Batched)  # 50,000 photos lay out in steps
        view.setBatchSize(500)
        view.activated.connect(self._on_activated)
        return view

    # ----- loading ---------------------------------------------------------------------------
    def activate(self) -> None:
        first = not self._activated
        super().activate()
        if first:
            query_for(self, Basemap.shared, self.canvas.set_basemap, self._on_error)
            if self.tiles_box.isChecked():
                self.set_tiles_enabled(True)
            self.reload()
        elif self._stale:
            self.reload()

    def reload(self) -> None:
        """Reload the markers (off the GUI thread)."""
        self._stale = False
        geo, query = self.geo, self.query
        query_for(self, lambda: geo.index(query), self._on_index, self._on_error)

    def _on_index(self, index: MarkerIndex) -> None:
        self.index = index
        if self._fit_next and (bounds := index.bounds()) is not None:
            self._fit_next = False
            self.canvas.fit(bounds)  # first, so that clusters are made for this zoom only
        self.canvas.set_index(index)
        n = len(index)
        self.summary.setText(
            f"{n:,} photo{'s' if n != 1 else ''} with a location"
            if n
            else "No photos with a location"
        )
        shown = self.model.ids()
        if shown:
            kept = [i for i in shown if index.get(i) is not None]
            if len(kept) != len(shown):
                self._show_ids(kept)
            else:
                self.model.set_index(index)
                self.canvas.select_ids(shown)

    def show_all(self) -> None:
        bounds = self.index.bounds() if self.index is not None else None
        if bounds is not None:
            self.canvas.fit(bounds)

    # ----- selection -------------------------------------------------------------------------
    def _on_selection(self, ids: list[int]) -> None:
        self._show_ids(ids)

    def _show_ids(self, ids: list[int]) -> None:
        self.model.set_ids(self.index, ids)
        if self.grid is not None:  # newest first, in one block (the map is the grouping)
            self.grid.set_ids(ids, by_date=False)
        n = len(ids)
        self.list_title.setText(f"{n:,} photo{'s' if n != 1 else ''}" if n else HINT)
        self.canvas.select_ids(ids)

    def shown_ids(self) -> list[int]:
        """The photos listed beside the map (newest first)."""
        return self.model.ids()

    def _on_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_assets.emit(self.model.ids(), index.row())

    # ----- online tiles ----------------------------------------------------------------------
    def set_tiles_enabled(self, on: bool) -> None:
        """Turn the online XYZ layer on or off (off by default; tiles are cached on disk)."""
        self.settings.setValue("map/tiles", on)
        self.tile_url.setVisible(on)
        if self.tiles_box.isChecked() != on:
            self.tiles_box.setChecked(on)
        layer = None
        if on:
            url = self.tile_url.text().strip() or DEFAULT_TILE_URL
            layer = TileLayer(self.library.root / "tiles", url, self._fetch, self)
        old = self.canvas.tiles
        self.canvas.set_tile_layer(layer)
        if old is not None:
            old.cancel_pending()
            old.deleteLater()

    def _on_tile_url(self) -> None:
        url = self.tile_url.text().strip() or DEFAULT_TILE_URL
        self.settings.setValue("map/tile_url", url)
        tiles = self.canvas.tiles
        if tiles is not None and tiles.template != url:
            self.set_tiles_enabled(True)

    # ----- events ----------------------------------------------------------------------------
    def _on_changed(self, changes: object) -> None:
        if not self._activated:
            return
        if any(getattr(changes, k, False) for k in ("assets", "assets_added", "assets_removed")):
            self.thumbs.forget_missing()
            if self.isVisible():
                self._reload_timer.start()
            else:  # an import into a hidden map: reload once, when it is shown again
                self._stale = True

    def _on_error(self, exc: Exception) -> None:
        log.error("map: %s", exc)
        self.summary.setText(f"The map could not load: {exc}")


def _shared_grid(library: Library, bridge: Bridge) -> Any:
    """The app's photo grid view, or None when it cannot be built (the map uses its own list)."""
    from photodesk.ui.views.grid import AssetGridView

    try:
        grid = AssetGridView(library, bridge, title="On the map", empty_text=HINT)
        grid.set_ids([], by_date=False)
    except Exception:
        log.exception("the photo grid could not be embedded in the map")
        return None
    return grid
