"""The full-window viewer: preview first, the original for 1:1, navigation, info panel, videos."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import (
    PREVIEW_SIZE,
    AssetRecord,
    EditService,
    FaceBox,
    Library,
    NotFound,
    PhotodeskError,
    RenderedImage,
    render_record,
)
from photodesk.core.sync import RemoteRefused, RemoteUnavailable
from photodesk.ui import ops, style
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.base import View
from photodesk.ui.widgets.image_canvas import FaceMark, ImageCanvas, mip_levels
from photodesk.ui.widgets.info_panel import InfoPanel

log = logging.getLogger(__name__)

CACHE_SIZE = 10  # previews kept (~6 MB each): the current one, its neighbours, first and last
ORIGINAL_DELAY_MS = 250  # decode the original once the user stays on a photo this long


def bar_style(t: style.Theme) -> str:
    """The viewer's top bar in the theme's viewer colours."""
    return f"""
#viewerBar {{ background: {t.viewer_bar}; border-bottom: 1px solid {t.border}; }}
#viewerBar QLabel {{ color: {t.viewer_text}; }}
#viewerBar QLabel#muted {{ color: {t.muted}; }}
#viewerBar QToolButton, #viewerBar QPushButton {{
    color: {t.viewer_text}; background: transparent; border: 1px solid transparent;
    border-radius: {style.RADIUS}px; padding: 3px 8px;
}}
#viewerBar QToolButton:hover, #viewerBar QPushButton:hover {{ background: {t.hover}; }}
#viewerBar QToolButton:focus, #viewerBar QPushButton:focus {{ border-color: {t.accent}; }}
#viewerBar QToolButton:checked {{ background: {t.selected}; }}
"""


@dataclass(frozen=True)
class Loaded:
    """A preview ready to paint, made off the GUI thread."""

    record: AssetRecord
    image: QImage
    full: QSize  # the original's upright size
    error: str = ""
    label: str = ""  # the file's name (a remote-only original's: "IMG_1.jpg · on the server")


def record_of(library: Library, asset_id: int) -> AssetRecord:
    """The record of a photo the acting user may see: their own, or one of an album another
    account shared with them (synced from the server). NotFound otherwise."""
    return library.accounts.readable_asset(library.owner_id, asset_id)


def file_label(library: Library, rec: AssetRecord) -> str:
    """The viewer's file-name label: the file's name, or for an original that is only on the
    paired server its original name and where it is (reads the catalog: a worker thread)."""
    if rec.path:
        return Path(rec.path).name
    name = library.sync.original_name(rec.id)
    return f"{name or 'Original'} · on the server"


def to_qimage(rendered: RenderedImage) -> QImage:
    """Packed RGB bytes from the core as a QImage that owns its pixels."""
    image = QImage(
        rendered.data, rendered.width, rendered.height, rendered.stride, QImage.Format.Format_RGB888
    )
    return image.copy()


def full_size(rec: AssetRecord, preview: QImage) -> QSize:
    """The original's upright size: the catalog's pixels, turned as the preview is."""
    if preview.isNull():
        return QSize(rec.width or 0, rec.height or 0)
    if not (rec.width and rec.height) or rec.kind == "video":
        return preview.size()
    w, h = rec.width, rec.height
    ratio = preview.width() / preview.height()
    if abs(h / w - ratio) < abs(w / h - ratio):
        w, h = h, w  # stored sideways (EXIF orientation 5-8)
    return QSize(w, h)


def load_preview(library: Library, asset_id: int) -> Loaded:
    """The record and its 1440 px preview; without a cached preview, decode one (worker thread).
    A photo whose original is only on the paired server gets the server's preview (or, offline,
    its thumbnail)."""
    rec = record_of(library, asset_id)
    label = file_label(library, rec)
    path = library.thumbnails.preview_path(rec.checksum)
    image = QImage(str(path)) if path.is_file() else QImage()
    error = ""
    if image.isNull() and not rec.path and library.sync.is_remote_only(asset_id):
        try:
            fetched = library.sync.fetch_preview(asset_id)
            image = QImage(str(fetched)) if fetched is not None else QImage()
        except (RemoteUnavailable, RemoteRefused, LookupError, OSError) as exc:
            log.info("no preview from the server: %s", exc)
        if image.isNull():
            thumb = library.thumbnails.thumb_path(rec.checksum)
            image = QImage(str(thumb)) if thumb.is_file() else QImage()
        if image.isNull():
            error = "This photo is on the server, which cannot be reached now"
        return Loaded(rec, image, full_size(rec, image), error, label)
    if image.isNull():
        try:
            image = to_qimage(render_record(rec, PREVIEW_SIZE))
        except (OSError, PhotodeskError) as exc:
            error = f"This {'video' if rec.kind == 'video' else 'photo'} cannot be shown: {exc}"
    return Loaded(rec, image, full_size(rec, image), error, label)


def load_original(library: Library, rec: AssetRecord) -> tuple[int, list[QImage]]:
    """The whole original, decoded by the core, with halvings for smooth zooming (worker).
    An original that is only on the paired server is downloaded first (and stays here)."""
    if not rec.path and library.sync.is_remote_only(rec.id):
        library.sync.fetch_original(rec.id)
        rec = record_of(library, rec.id)
    return rec.id, mip_levels(to_qimage(render_record(rec)), PREVIEW_SIZE)


class ViewerView(View):
    """``show_assets(ids, index)`` opens ``ids[index]``; Esc emits ``closed``."""

    closed = Signal()
    title = "Viewer"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.edits: EditService = library.edits
        self.open_external: Callable[[QUrl], object] = QDesktopServices.openUrl
        self.ids: list[int] = []
        self.index = -1
        self.cache: OrderedDict[int, Loaded] = OrderedDict()
        self.records: dict[int, AssetRecord] = {}
        self._pending: set[int] = set()
        self._original: int | None = None  # asset whose original is shown or being decoded
        self._decoding = False
        self._original_timer = QTimer(self, singleShot=True, interval=ORIGINAL_DELAY_MS)
        self._original_timer.timeout.connect(self._load_original)

        self.canvas = ImageCanvas()
        self.canvas.zoom_changed.connect(self._on_zoom)
        self.canvas.wants_original.connect(self._original_timer.start)
        self.canvas.activated.connect(self.play)
        self.panel = InfoPanel(library, bridge, self.edits)
        self.panel.setFixedWidth(340)
        self.panel.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows navigate, not scroll
        self.panel.faces_toggled.connect(self.canvas.set_faces_visible)

        self.back = QToolButton()
        self.back.setText("‹ Back")
        self.back.setToolTip("Back (Esc)")
        self.back.clicked.connect(self.closed)
        self.position = QLabel()
        self.name = QLabel()
        self.position.setObjectName("muted")
        self.zoom_label = QLabel()
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Fit to the window (0)")
        self.fit_button.clicked.connect(self.canvas.fit)
        self.actual_button = QToolButton()
        self.actual_button.setText("1:1")
        self.actual_button.setToolTip("Actual pixels (1)")
        self.actual_button.clicked.connect(lambda: self.canvas.actual_size())
        self.play_button = QPushButton("▶ Play in external player")
        self.play_button.clicked.connect(self.play)
        self.info_button = QToolButton()
        self.info_button.setText("Info")
        self.info_button.setToolTip("Show or hide the info panel (I)")
        self.info_button.setCheckable(True)
        self.info_button.setChecked(True)
        self.info_button.toggled.connect(self.panel.setVisible)

        self.bar = QWidget()
        self.bar.setObjectName("viewerBar")
        self.bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.bar.setStyleSheet(bar_style(style.current()))
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(6, 4, 6, 4)
        bar.setSpacing(10)
        for w in (self.back, self.position, self.name):
            bar.addWidget(w)
        bar.addStretch(1)
        for tool in (self.play_button, self.zoom_label, self.fit_button, self.actual_button):
            bar.addWidget(tool)
        bar.addWidget(self.info_button)
        stage = QVBoxLayout()
        stage.setContentsMargins(0, 0, 0, 0)
        stage.setSpacing(0)
        stage.addWidget(self.bar)
        stage.addWidget(self.canvas, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addLayout(stage, 1)
        row.addWidget(self.panel)
        self.setFocusProxy(self.canvas)
        bridge.changed.connect(self._on_changed)

    # ----- opening and navigating ----------------------------------------------------------------
    def theme_changed(self, theme: style.Theme) -> None:
        self.bar.setStyleSheet(bar_style(theme))
        self.canvas.update()

    def show_assets(self, ids: list[int], index: int) -> None:
        """Open ``ids[index]``; left/right move through ``ids``."""
        self.ids = [int(i) for i in ids]
        self.go(index)
        self.canvas.setFocus()

    def current_id(self) -> int | None:
        return self.ids[self.index] if 0 <= self.index < len(self.ids) else None

    def current_record(self) -> AssetRecord | None:
        aid = self.current_id()
        return self.records.get(aid) if aid is not None else None

    def go(self, index: int) -> None:
        if not self.ids:
            self.index = -1
            self.canvas.clear("Nothing to show")
            self.panel.set_record(None)
            return
        self.index = max(0, min(len(self.ids) - 1, index))
        aid = self.ids[self.index]
        self._original = None
        self._original_timer.stop()
        self.position.setText(f"{self.index + 1} of {len(self.ids)}")
        if aid in self.cache:
            self._display(aid)
        else:
            self.canvas.clear()
            self.panel.set_record(None)
            self.name.clear()
            self.play_button.hide()
            self._fetch(aid)
        self._prefetch()

    def next(self) -> None:
        self.go(self.index + 1)

    def previous(self) -> None:
        self.go(self.index - 1)

    def _fetch(self, aid: int) -> None:
        if aid in self._pending:
            return
        self._pending.add(aid)
        ops.query(
            self,
            lambda: load_preview(self.library, aid),
            self._on_loaded,
            lambda exc: self._on_load_failed(aid, exc),
        )

    def _prefetch(self) -> None:
        """Neighbours first, then the ends (for Home and End)."""
        i, n = self.index, len(self.ids)
        for j in (i + 1, i - 1, i + 2, i - 2, 0, n - 1):
            if 0 <= j < n and self.ids[j] not in self.cache:
                self._fetch(self.ids[j])

    def _on_loaded(self, loaded: Loaded) -> None:
        aid = int(loaded.record.id)
        self._pending.discard(aid)
        self.cache[aid] = loaded
        self.records[aid] = loaded.record
        keep = {
            self.ids[j] for j in range(self.index - 2, self.index + 3) if 0 <= j < len(self.ids)
        }
        while len(self.cache) > CACHE_SIZE:
            old = next((k for k in self.cache if k not in keep), None)
            if old is None:
                break
            del self.cache[old]
            self.records.pop(old, None)
        if aid == self.current_id():
            self._display(aid)

    def _on_load_failed(self, aid: int, exc: Exception) -> None:
        self._pending.discard(aid)
        if aid == self.current_id():
            gone = isinstance(exc, NotFound)
            self.canvas.clear("This photo is no longer in the library" if gone else str(exc))

    def _display(self, aid: int) -> None:
        loaded = self.cache[aid]
        self.cache.move_to_end(aid)
        rec = self.records.get(aid)
        if rec is None:  # changed since it was loaded: show it, then what it is now
            rec = loaded.record
            self._refresh_record(aid)
        self.canvas.play_badge = rec.kind == "video"
        self.canvas.set_image(loaded.image, loaded.full)
        if loaded.error:
            self.canvas.clear(loaded.error)
        self.name.setText(Path(rec.path).name if rec.path else loaded.label)
        self.play_button.setVisible(rec.kind == "video")
        self.panel.set_record(rec)
        self._load_faces(aid)
        if rec.kind != "video" and not loaded.error:
            self._original_timer.start()

    # ----- the original ------------------------------------------------------------------------
    def _load_original(self) -> None:
        rec = self.current_record()
        if rec is None or rec.kind == "video" or self._original == rec.id or self._decoding:
            return
        if not rec.path and rec.owner_id != self.library.owner_id:
            self._original = rec.id  # another account's (a shared album): its preview is all
            self.canvas.set_message("Showing the server's preview of a shared photo")
            return
        self._original, self._decoding = rec.id, True
        if not rec.path:  # only on the paired server: downloaded on a worker first
            self.canvas.set_message("Fetching the original from the server…")
        ops.query(
            self,
            lambda: load_original(self.library, rec),
            self._on_original,
            self._on_original_failed,
        )

    def _on_original(self, result: tuple[int, list[QImage]]) -> None:
        self._decoding = False
        aid, levels = result
        if aid == self.current_id():
            self._original = aid
            self.canvas.add_levels(levels)
            self.canvas.set_message("")
        else:
            self._original_timer.start()  # the user moved on meanwhile: decode the current one

    def _on_original_failed(self, exc: Exception) -> None:
        self._decoding = False
        log.info("original not decoded: %s", exc)
        if self._original == self.current_id():
            self.canvas.set_message(f"Showing the preview: {exc}")

    # ----- faces, info, change events ------------------------------------------------------------
    def _load_faces(self, aid: int) -> None:
        ops.query(
            self,
            lambda: (aid, self.edits.faces(aid)),
            self._on_faces,
            lambda _e: None,
            latest="faces",
        )

    def _on_faces(self, result: tuple[int, list[FaceBox]]) -> None:
        aid, faces = result
        if aid != self.current_id():
            return
        self.panel.set_faces(faces)
        self.canvas.set_faces([FaceMark(f.x1, f.y1, f.x2, f.y2, f.name or "") for f in faces])

    def _on_changed(self, changes: object) -> None:
        """Refresh what the write touched: records in hand, and the one shown."""
        touched = set(getattr(changes, "assets", ()))
        # A tag or album renamed or deleted (no assets named) may show on any record.
        everything = not touched and bool(
            getattr(changes, "tags", False) or getattr(changes, "albums", False)
        )
        for aid in set(self.records) if everything else touched & set(self.records):
            del self.records[aid]
        current = self.current_id()
        if current is not None and current in self.cache and current not in self.records:
            self._refresh_record(current)
        if getattr(changes, "people", False) and current is not None:
            self._load_faces(current)

    def _refresh_record(self, aid: int) -> None:
        ops.query(
            self,
            lambda: record_of(self.library, aid),
            self._on_record,
            lambda exc: self._on_load_failed(aid, exc),
        )

    def _on_record(self, rec: AssetRecord) -> None:
        self.records[int(rec.id)] = rec
        if rec.id == self.current_id():
            self.panel.set_record(rec)
            held = self.cache.get(int(rec.id))
            label = held.label if held is not None else ""
            self.name.setText(Path(rec.path).name if rec.path else label)

    def _on_zoom(self) -> None:
        fit = " (fit)" if self.canvas.is_fit() else ""
        self.zoom_label.setText(f"{self.canvas.zoom():.0%}{fit}")

    def play(self) -> None:
        """Open the current video in the system's player (no QtMultimedia in Essentials)."""
        rec = self.current_record()
        if rec is not None and rec.kind == "video":
            self.open_external(QUrl.fromLocalFile(rec.path))

    # ----- keys --------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, text = event.key(), event.text()
        editing = isinstance(self.focusWidget(), QLineEdit | QPlainTextEdit | QAbstractSpinBox)
        if key == Qt.Key.Key_Escape:
            if editing:
                self.canvas.setFocus()  # leave the field first; a second Esc goes back
            else:
                self.closed.emit()
        elif key == Qt.Key.Key_Right:
            self.next()
        elif key == Qt.Key.Key_Left:
            self.previous()
        elif key == Qt.Key.Key_Home:
            self.go(0)
        elif key == Qt.Key.Key_End:
            self.go(len(self.ids) - 1)
        elif text in ("+", "="):
            self.canvas.zoom_by(1.25)
        elif text == "-":
            self.canvas.zoom_by(1 / 1.25)
        elif text == "1":
            self.canvas.actual_size()
        elif text == "0":
            self.canvas.fit()
        elif text.lower() == "i":
            self.info_button.toggle()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.play()
        else:
            super().keyPressEvent(event)
            return
        event.accept()
