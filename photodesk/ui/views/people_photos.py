"""One person's page in the People view: the name to edit, their photos, "this is not <name>"."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QIcon, QImage, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import FaceRecord, Library, PersonSummary
from photodesk.ui import ops
from photodesk.ui.views.people_grid import PixmapLoader

Index = QModelIndex | QPersistentModelIndex
THUMB = 150  # logical px of a square photo tile


def square_thumb(
    library: Library, asset_id: int, centre: tuple[float, float] | None
) -> QImage | None:
    """The photo's thumbnail cut square around ``centre`` (0-1; the person's face), at twice
    the tile size (worker thread)."""
    path = library.assets.thumbnail_path(asset_id)
    image = QImage(str(path)) if path else QImage()
    if image.isNull():
        return None
    w, h = image.width(), image.height()
    side = min(w, h)
    cx, cy = centre or (0.5, 0.5)
    x = min(max(int(cx * w - side / 2), 0), w - side)
    y = min(max(int(cy * h - side / 2), 0), h - side)
    return image.copy(QRect(x, y, side, side)).scaled(
        THUMB * 2,
        THUMB * 2,
        Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )


class PhotosModel(QAbstractListModel):
    """A person's photos as square thumbnails, loaded as they are shown."""

    def __init__(self, thumbs: PixmapLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ids: list[int] = []
        self.thumbs = thumbs
        thumbs.loaded.connect(self._on_thumb)

    def set_ids(self, ids: list[int]) -> None:
        self.beginResetModel()
        self.ids = ids
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self.thumbs.get(self.ids[index.row()])
            return QIcon(pixmap) if pixmap is not None else None
        if role == Qt.ItemDataRole.SizeHintRole:  # before its thumbnail arrives, too
            return QSize(THUMB, THUMB)
        return None

    def _on_thumb(self, asset_id: int) -> None:
        if asset_id in self.ids:
            row = self.ids.index(asset_id)
            self.dataChanged.emit(self.index(row), self.index(row))


class PersonPage(QWidget):
    """One person: the name to edit, their photos; "this is not <name>" and the cover face.

    Writes go off the GUI thread; the view refreshes the page on the change event.
    """

    back = Signal()
    rename_requested = Signal(int, str)
    open_assets = Signal(list, int)
    failed = Signal(object)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.person: PersonSummary | None = None
        self.face_of: dict[int, int] = {}  # asset id -> this person's face on it
        self.centre_of: dict[int, tuple[float, float]] = {}  # asset id -> that face's centre
        self.back_button = QToolButton()
        self.back_button.setText("‹ People")
        self.back_button.setAutoRaise(True)
        self.back_button.clicked.connect(self.back)
        self.name = QLineEdit()
        self.name.setPlaceholderText("Add a name")
        self.name.setFrame(False)
        font = self.name.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        self.name.setFont(font)
        palette = self.name.palette()  # a title until clicked, not a white field
        palette.setColor(QPalette.ColorRole.Base, palette.color(QPalette.ColorRole.Window))
        self.name.setPalette(palette)
        self.name.editingFinished.connect(self._on_name_edited)
        self.count = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.name, 1)
        top.addWidget(self.count)
        thumbs = PixmapLoader(
            lambda aid: square_thumb(library, aid, self.centre_of.get(aid)), 400, self
        )
        self.model = PhotosModel(thumbs, self)
        self.photos = QListView()
        self.photos.setFrameShape(QFrame.Shape.NoFrame)
        self.photos.setModel(self.model)
        self.photos.setViewMode(QListView.ViewMode.IconMode)
        self.photos.setMovement(QListView.Movement.Static)
        self.photos.setResizeMode(QListView.ResizeMode.Adjust)
        self.photos.setUniformItemSizes(True)
        self.photos.setIconSize(QSize(THUMB, THUMB))
        self.photos.setSpacing(4)
        self.photos.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.photos.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.photos.customContextMenuRequested.connect(self._on_context_menu)
        self.photos.activated.connect(lambda i: self.open_assets.emit(self.model.ids, i.row()))
        for key in ("Esc", "Backspace", "Alt+Left"):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.back)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel()
        muted = self.hint.palette()
        muted.setColor(
            QPalette.ColorRole.WindowText, muted.color(QPalette.ColorRole.PlaceholderText)
        )
        self.hint.setPalette(muted)
        column.addLayout(top)
        column.addWidget(self.hint)
        column.addWidget(self.photos, 1)

    def show_person(self, person: PersonSummary) -> None:
        if self.person is None or person.id != self.person.id:
            self.model.set_ids([])
            self.model.thumbs.clear()  # crops are centred on this person's face
            self.count.clear()
        self.person = person
        self.name.setText(person.name)
        self.refresh()

    def refresh(self) -> None:
        if self.person is None:
            return
        pid, people = self.person.id, self.library.people

        def load() -> tuple[int, PersonSummary | None, Sequence[int], list[FaceRecord]]:
            found = [p for p in people.list(include_hidden=True) if p.id == pid]
            faces = people.faces(person_id=pid)
            return pid, (found[0] if found else None), people.photos(pid), faces

        ops.query(self, load, self._on_loaded, self.failed.emit, latest="person")

    def _on_loaded(
        self, result: tuple[int, PersonSummary | None, list[int], list[FaceRecord]]
    ) -> None:
        pid, person, ids, faces = result
        if self.person is None or pid != self.person.id:
            return
        if person is None:  # merged away, or no faces left: back to the grid
            self.person = None
            self.back.emit()
            return
        self.person = person
        self.face_of = {int(f.asset_id): int(f.id) for f in faces}
        for f in faces:
            x1, y1, x2, y2 = f.box
            self.centre_of[int(f.asset_id)] = ((x1 + x2) / 2, (y1 + y2) / 2)
        if not self.name.hasFocus():
            self.name.setText(person.name)
        who = person.name or "this person"
        self.hint.setText(f"Right-click a photo to say it is not {who}, or to use it as the cover.")
        self.count.setText(f"{len(ids)} photo{'s' if len(ids) != 1 else ''}")
        if ids != self.model.ids:
            self.model.set_ids(ids)

    def selected(self) -> list[int]:
        return [self.model.ids[i.row()] for i in self.photos.selectionModel().selectedIndexes()]

    def not_this_person(self, asset_ids: list[int]) -> None:
        """Take this person's faces off these photos, remembering they are not them."""
        faces = [self.face_of[a] for a in asset_ids if a in self.face_of]
        self._write(lambda: [self.library.people.remove_face(f) for f in faces])

    def use_as_cover(self, asset_id: int) -> None:
        if self.person is not None and asset_id in self.face_of:
            pid, face = self.person.id, self.face_of[asset_id]
            self._write(lambda: self.library.people.set_cover(pid, face))

    def _write(self, fn: Callable[[], object]) -> None:
        ops.query(self, fn, lambda _r: None, self.failed.emit)

    def _on_name_edited(self) -> None:
        if self.person is not None and self.name.text().strip() != self.person.name:
            self.rename_requested.emit(self.person.id, self.name.text().strip())

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.photos.indexAt(pos)
        if not index.isValid() or self.person is None:
            return
        ids = self.selected() or [self.model.ids[index.row()]]
        who = self.person.name or "this person"
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_assets.emit(self.model.ids, index.row()))
        menu.addAction(f"This is not {who}", lambda: self.not_this_person(ids))
        if len(ids) == 1:
            menu.addAction("Use this face as the cover", lambda: self.use_as_cover(ids[0]))
        menu.exec(self.photos.viewport().mapToGlobal(pos))
