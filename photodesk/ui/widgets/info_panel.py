"""The viewer's info panel: what the catalog knows about an asset, editable where it makes sense."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QDateTime, QEvent, QObject, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateTimeEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import (
    AssetRecord,
    EditService,
    FaceBox,
    InvalidInput,
    Library,
    PlaceName,
    parse_coordinates,
)
from photodesk.ui import ops, style
from photodesk.ui.bridge import Bridge
from photodesk.ui.widgets.location_picker import LocationPicker
from photodesk.ui.widgets.map_thumbs import MapThumbs

OFFSETS = [None, *range(-12 * 60, 14 * 60 + 1, 15)]
SHARED_READ_ONLY = (
    "This photo is in an album another account shared with you: only its owner can change it"
)


def star_style(color: str) -> str:
    return f"QToolButton {{ font-size: 18px; color: {color}; padding: 0 1px; }}"


def format_offset(minutes: int | None) -> str:
    if minutes is None:
        return "zone unknown"
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_date(rec: AssetRecord) -> str:
    if rec.taken_at is None:
        return "No date"
    d = rec.taken_at
    return f"{d:%a} {d.day} {d:%b %Y}, {d:%H:%M:%S}"


def format_exposure(rec: AssetRecord) -> str:
    t = rec.exposure_time
    parts = [
        (f"1/{round(1 / t)} s" if t < 0.5 else f"{t:g} s") if t else "",
        f"f/{rec.f_number:g}" if rec.f_number else "",
        f"ISO {rec.iso}" if rec.iso else "",
        f"{rec.focal_length:g} mm" if rec.focal_length else "",
    ]
    return " · ".join(p for p in parts if p)


def format_size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def format_place(p: PlaceName) -> str:
    return ", ".join(x for x in (p.city, p.admin1, p.country) if x)


def camera(rec: AssetRecord) -> str:
    make, model = (rec.make or "").strip(), (rec.model or "").strip()
    if make and model.lower().startswith(make.split()[0].lower()):
        return model  # "Canon" + "Canon EOS 6D": say it once
    return " ".join(x for x in (make, model) if x)


def _label(text: str = "", *, heading: bool = False, selectable: bool = False) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    if heading:
        label.setStyleSheet("color: palette(mid); font-weight: 600; margin: 8px 0 0 0; padding: 0;")
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _tool(text: str, tip: str, slot: Callable[..., object], style: str = "") -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.setStyleSheet(style)
    button.clicked.connect(slot)
    return button


def _row(*widgets: QWidget) -> QHBoxLayout:
    """Widgets side by side, the first one taking the room."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for i, widget in enumerate(widgets):
        row.addWidget(widget, 1 if i == 0 else 0)
    return row


def _completer(model: QStringListModel, parent: QObject) -> QCompleter:
    completer = QCompleter(model, parent)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    return completer


class _Chips(QWidget):
    """A list of names (tags, albums), each with a remove button, and a field to add one."""

    removed = Signal(str)
    added = Signal(str)

    def __init__(self, placeholder: str) -> None:
        super().__init__()
        self.rows = QVBoxLayout()
        self.rows.setContentsMargins(0, 0, 0, 0)
        self.rows.setSpacing(2)
        self._items: list[str] = []
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.model = QStringListModel()
        self.completer = _completer(self.model, self)
        self.edit.setCompleter(self.completer)
        self.completer.activated.connect(self._add)
        self.edit.returnPressed.connect(self._add)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self.rows)
        column.addWidget(self.edit)

    def set_items(self, items: tuple[str, ...]) -> None:
        while (old := self.rows.takeAt(0)) is not None:
            if (widget := old.widget()) is not None:
                widget.deleteLater()
        for item in items:
            row = QWidget()
            row.setLayout(_row(_label(item), _tool("✕", f"Remove {item}", self._remover(item))))
            self.rows.addWidget(row)
        self._items = list(items)

    def _remover(self, item: str) -> Callable[[], None]:
        return lambda: self.removed.emit(item)

    def items(self) -> list[str]:
        return list(self._items)

    def _add(self, text: str | None = None) -> None:
        text = (text or self.edit.text()).strip()
        if text:
            self.added.emit(text)
        QTimer.singleShot(0, self.edit.clear)  # after the completer has put its text in


class InfoPanel(QScrollArea):
    """Shows ``set_record``'s asset; edits are written off the GUI thread and come back as
    change events (the viewer then calls ``set_record`` again)."""

    faces_toggled = Signal(bool)

    def __init__(
        self, library: Library, bridge: Bridge, edits: EditService, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library, self.edits = library, edits
        self.record: AssetRecord | None = None
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(300)
        self.body = QWidget()
        col = QVBoxLayout(self.body)
        col.setContentsMargins(12, 8, 12, 12)

        self.title = QLineEdit()
        self.title.setPlaceholderText("Add a title")
        self.title.editingFinished.connect(self._save_title)
        self.description = QPlainTextEdit()
        self.description.setPlaceholderText("Add a description")
        self.description.setFixedHeight(72)
        self.description.installEventFilter(self)
        self.stars = [
            _tool("☆", f"{n} star{'s' * (n > 1)}", self._rater(n), star_style(style.current().star))
            for n in range(1, 6)
        ]
        heart = star_style(style.current().heart)
        self.favorite = _tool("♡", "Favourite", self._save_favorite, heart)
        self.favorite.setCheckable(True)
        rating = QHBoxLayout()
        rating.setSpacing(0)
        for star in self.stars:
            rating.addWidget(star)
        rating.addStretch(1)
        rating.addWidget(self.favorite)
        col.addWidget(self.title)
        col.addWidget(self.description)
        col.addLayout(rating)

        col.addWidget(_label("Date", heading=True))
        self.date = _label()
        self.date_source = _label()
        self.date_source.setStyleSheet("color: palette(mid);")
        self.edit_date = _tool(
            "Correct…", "Correct the date, time and zone", self._open_date_editor
        )
        self.date_edit = QDateTimeEdit()
        self.date_edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.date_edit.setCalendarPopup(True)
        self.zone = QComboBox()
        self.zone.addItems([format_offset(m) for m in OFFSETS])
        self.save_date = QPushButton("Save")
        self.save_date.clicked.connect(self._save_date)
        self.date_editor = QWidget()
        self.date_editor.setLayout(_row(self.date_edit, self.zone, self.save_date))
        self.date_editor.hide()
        col.addLayout(_row(self.date, self.edit_date))
        col.addWidget(self.date_source)
        col.addWidget(self.date_editor)

        col.addWidget(_label("Camera", heading=True))
        self.camera, self.lens, self.exposure = _label(), _label(), _label()
        for info in (self.camera, self.lens, self.exposure):
            col.addWidget(info)
        col.addWidget(_label("File", heading=True))
        self.dimensions, self.paths = _label(), _label(selectable=True)
        col.addWidget(self.dimensions)
        col.addWidget(self.paths)

        col.addWidget(_label("Place", heading=True))
        self.place, self.coords = _label(), _label(selectable=True)
        self.location = QLineEdit()
        self.location.setPlaceholderText("Coordinates (48.8584, 2.2945) or a place")
        self.place_model = QStringListModel()
        self.place_completer = _completer(self.place_model, self)
        self.location.setCompleter(self.place_completer)
        self._places: dict[str, PlaceName] = {}
        self._search = QTimer(self, singleShot=True, interval=250)
        self._search.timeout.connect(self._search_places)
        self.location.textEdited.connect(lambda _: self._search.start())
        self.location.returnPressed.connect(self._save_location)
        self.place_completer.activated.connect(self._save_location)
        self.clear_location = _tool(
            "Remove", "Remove the location", lambda: self._set_location(None)
        )
        self.pick_on_map = _tool("Map…", "Pick the place on a map", self._open_picker)
        self.picker: LocationPicker | None = None
        col.addWidget(self.place)
        col.addLayout(_row(self.coords, self.clear_location))
        col.addLayout(_row(self.location, self.pick_on_map))

        col.addWidget(_label("People", heading=True))
        self.people = _label()
        self.show_faces = QCheckBox("Show faces on the photo")
        self.show_faces.toggled.connect(self.faces_toggled)
        col.addWidget(self.people)
        col.addWidget(self.show_faces)
        col.addWidget(_label("Tags", heading=True))
        self.tags = _Chips("Add a tag (Places/France/Paris)")
        self.tags.added.connect(lambda t: self._write(lambda i: library.tags.add(i, t)))
        self.tags.removed.connect(lambda t: self._write(lambda i: library.tags.remove(i, t)))
        col.addWidget(self.tags)
        col.addWidget(_label("Albums", heading=True))
        self.albums = _Chips("Add to an album")
        self.albums.added.connect(
            lambda a: self._write(lambda i: library.albums.add(library.albums.ensure(a), i))
        )
        self.albums.removed.connect(lambda a: self._write(lambda i: library.albums.remove(a, i)))
        col.addWidget(self.albums)
        self.error = _label()
        self.error.setObjectName("notice")
        col.addWidget(self.error)
        col.addStretch(1)
        self.setWidget(self.body)  # after the fields exist: QScrollArea filters its events
        bridge.changed.connect(self._on_changed)
        self._load_lists(tags=True, albums=True)
        self.set_record(None)

    # ----- showing -----------------------------------------------------------------------------
    def set_record(self, rec: AssetRecord | None) -> None:
        """Show ``rec``; a field being edited for the same asset keeps what is typed."""
        same = rec is not None and self.record is not None and rec.id == self.record.id
        self.record = rec
        self.body.setEnabled(rec is not None)
        if rec is None:
            return
        if not (same and self.title.hasFocus()):
            self.title.setText(rec.title or "")
        if not (same and self.description.hasFocus()):
            self.description.setPlainText(rec.description or "")
        for n, star in enumerate(self.stars, start=1):
            star.setText("★" if n <= rec.rating else "☆")
        self.favorite.setChecked(rec.favorite)
        self.favorite.setText("♥" if rec.favorite else "♡")
        self.date.setText(format_date(rec))
        source = f" · from {rec.taken_at_source}" if rec.taken_at_source else ""
        self.date_source.setText(format_offset(rec.taken_offset) + source)
        if not same:
            self.date_editor.hide()
            self.location.clear()
            self.error.clear()
            self.show_faces.setChecked(False)
            self.show_faces.setEnabled(False)  # until the viewer's set_faces()
        self.camera.setText(camera(rec) or "Unknown camera")
        self.lens.setText(rec.lens or "")
        self.lens.setVisible(bool(rec.lens))
        self.exposure.setText(format_exposure(rec))
        self.exposure.setVisible(bool(self.exposure.text()))
        dims = f"{rec.width} × {rec.height}" if rec.width and rec.height else "Size unknown"
        if rec.width and rec.height:
            dims += f" ({rec.width * rec.height / 1e6:.1f} MP)"
        if rec.duration:
            dims += f" · {rec.duration:.1f} s"
        self.dimensions.setText(f"{dims} · {rec.file_type} · {format_size(rec.size)}")
        self.paths.setText("\n".join(rec.files or (rec.path or "On the paired server",)))
        names = ", ".join(x for x in (rec.city, rec.admin1, rec.country_name) if x)
        self.place.setText(names or "No place")
        has_gps = rec.latitude is not None and rec.longitude is not None
        self.coords.setText(f"{rec.latitude:.6f}, {rec.longitude:.6f}" if has_gps else "")
        self.coords.setVisible(has_gps)
        self.clear_location.setVisible(has_gps)
        self.people.setText(", ".join(rec.people) if rec.people else "Nobody named")
        self.tags.set_items(rec.tags)
        self.albums.set_items(rec.albums)

    def set_faces(self, faces: list[FaceBox]) -> None:
        self.show_faces.setEnabled(bool(faces))
        self.show_faces.setText(
            f"Show {len(faces)} face{'s' * (len(faces) != 1)} on the photo"
            if faces
            else "No faces found"
        )

    def _load_lists(self, *, tags: bool, albums: bool) -> None:
        lib = self.library
        if tags:
            names = lambda: [n.path for n in lib.tags.tree()]  # noqa: E731
            ops.query(self, names, self.tags.model.setStringList, latest="tags")
        if albums:
            names = lambda: [a.name for a in lib.albums.list()]  # noqa: E731
            ops.query(self, names, self.albums.model.setStringList, latest="albums")

    def _on_changed(self, changes: object) -> None:
        self._load_lists(
            tags=bool(getattr(changes, "tags", False)),
            albums=bool(getattr(changes, "albums", False)),
        )

    # ----- editing -----------------------------------------------------------------------------
    def _write(self, fn: Callable[[list[int]], object]) -> None:
        """Run ``fn([asset id])`` off the GUI thread; the change event refreshes the panel."""
        if self.record is None:
            return
        if self.record.owner_id != self.library.owner_id:  # a photo of a shared album
            self.error.setText(SHARED_READ_ONLY)
            return
        ids = [int(self.record.id)]
        self.error.clear()
        ops.query(self, lambda: fn(ids), lambda _: None, self._on_error)

    def _on_error(self, exc: Exception) -> None:
        self.error.setText(str(exc))

    def _save_title(self) -> None:
        if self.record is not None and self.title.text().strip() != (self.record.title or ""):
            text = self.title.text()
            self._write(lambda i: self.edits.set_title(i, text))

    def _save_description(self) -> None:
        text = self.description.toPlainText()
        if self.record is not None and text.strip() != (self.record.description or ""):
            self._write(lambda i: self.edits.set_description(i, text))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.description:
            if event.type() == QEvent.Type.FocusOut:
                self._save_description()
            elif event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
                ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
                if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and ctrl:
                    self._save_description()
                    return True
        return super().eventFilter(watched, event)

    def _rater(self, n: int) -> Callable[[], None]:
        """Clicking the star of the current rating clears it."""

        def rate() -> None:
            rating = 0 if self.record is not None and self.record.rating == n else n
            self._write(lambda i: self.library.assets.set_rating(i, rating))

        return rate

    def _save_favorite(self, on: bool) -> None:
        self._write(lambda i: self.library.assets.set_favorite(i, on))

    def _open_date_editor(self) -> None:
        rec = self.record
        if rec is None:
            return
        when = rec.taken_at or datetime.now().replace(microsecond=0)
        self.date_edit.setDateTime(QDateTime(when))  # type: ignore[call-overload]
        self.zone.setCurrentIndex(
            OFFSETS.index(rec.taken_offset) if rec.taken_offset in OFFSETS else 0
        )
        self.date_editor.setVisible(not self.date_editor.isVisible())

    def _save_date(self) -> None:
        local = self.date_edit.dateTime().toPython()
        assert isinstance(local, datetime)
        offset = OFFSETS[self.zone.currentIndex()]
        self.date_editor.hide()
        self._write(lambda i: self.edits.set_taken_at(i, local, offset))

    def _search_places(self) -> None:
        text = self.location.text().strip()
        if len(text) < 2 or self._coordinates(text, quiet=True):
            return
        ops.query(self, lambda: self.edits.find_places(text, 10), self._on_places)

    def _on_places(self, places: list[PlaceName]) -> None:
        self._places = {format_place(p): p for p in places}
        self.place_model.setStringList(list(self._places))
        if self.location.hasFocus() and self._places:
            self.place_completer.complete()

    def _coordinates(self, text: str, *, quiet: bool = False) -> tuple[float, float] | None:
        try:
            return parse_coordinates(text)
        except InvalidInput as exc:
            if not quiet:
                self.error.setText(str(exc))
            return None

    def _save_location(self, text: str | None = None) -> None:
        text = (text or self.location.text()).strip()
        self.error.clear()
        if not text:
            return
        if (coords := self._coordinates(text)) is not None:
            self._set_location(coords)
        elif (place := self._places.get(text)) is not None:
            self._set_location((place.latitude, place.longitude))
        elif not self.error.text():
            ops.query(self, lambda: self.edits.find_places(text, 1), self._on_typed_place)

    def _on_typed_place(self, places: list[PlaceName]) -> None:
        if places:
            self._set_location((places[0].latitude, places[0].longitude))
        else:
            self.error.setText(f"No place called {self.location.text().strip()!r}")

    def _open_picker(self) -> None:
        """The map in a dialog, on the photo's place if it has one; OK saves the pin."""
        rec = self.record
        if rec is None:
            return
        has_gps = rec.latitude is not None and rec.longitude is not None
        start = (rec.latitude, rec.longitude) if has_gps else None
        thumbs = MapThumbs(self.library.thumbnails.thumb_path, parent=self)
        self.picker = LocationPicker(thumbs, start, self.window())  # type: ignore[arg-type]
        self.picker.accepted.connect(self._on_picked)
        self.picker.finished.connect(thumbs.deleteLater)
        self.picker.open()

    def _on_picked(self) -> None:
        if self.picker is not None and self.picker.location is not None:
            self._set_location(self.picker.location)

    def _set_location(self, coords: tuple[float, float] | None) -> None:
        lat, lon = coords if coords is not None else (None, None)
        QTimer.singleShot(0, self.location.clear)
        self._write(lambda i: self.edits.set_location(i, lat, lon))
