"""The search view: one search field, a chip per filter, results sorted by date or relevance."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import AssetQuery, Changes, Library, SearchFacets, SearchQuery, SearchService
from photodesk.ui import ops
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.base import View, count_label
from photodesk.ui.widgets.photo_grid import PhotoGrid

# filter -> (chip caption, SearchFacets field with its known values, or None)
FILTERS: dict[str, tuple[str, str | None]] = {
    "person": ("Person", "people"),
    "place": ("Place", "places"),
    "camera": ("Camera", "cameras"),
    "lens": ("Lens", "lenses"),
    "dates": ("Taken", None),
    "kind": ("Type", None),
    "album": ("Album", "albums"),
    "tag": ("Tag", "tags"),
    "favorite": ("Favourites", None),
    "min_rating": ("Rating", None),
}
KINDS = {"photo": "Photos", "raw": "RAW", "video": "Videos"}
EVERYTHING = AssetQuery()
NO_SMART = (
    "Smart search needs the ML models: until they are installed, text matches file names, "
    "titles, descriptions, tags and places."
)
CHIP_STYLE = """
QFrame#chip { border: 1px solid palette(mid); border-radius: 13px; background: palette(base); }
QFrame#chip QToolButton { border: none; padding: 0 2px; }
"""


class FilterChip(QFrame):
    """One filter: its caption, an editor for its value, and a button that removes it."""

    changed = Signal()
    removed = Signal(str)

    def __init__(self, name: str, choices: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.name = name
        self.setObjectName("chip")
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 1, 4, 1)
        row.setSpacing(4)
        row.addWidget(QLabel(f"<b>{FILTERS[name][0]}</b>"))
        self.editors: list[QWidget] = []
        if name == "dates":
            today = QDate.currentDate()
            for start in (today.addYears(-1), today):
                edit = QDateEdit(start)
                edit.setCalendarPopup(True)
                edit.setDisplayFormat("d MMM yyyy")
                edit.dateChanged.connect(self.changed)
                self.editors.append(edit)
            row.addWidget(self.editors[0])
            row.addWidget(QLabel("to"))
            row.addWidget(self.editors[1])
        elif name != "favorite":
            box = QComboBox(editable=FILTERS[name][1] is not None, minimumContentsLength=12)
            if name == "kind":
                for kind, label in KINDS.items():
                    box.addItem(label, kind)
            elif name == "min_rating":
                for stars in range(1, 6):
                    box.addItem("★" * stars + " or more", stars)
            else:
                box.addItems(list(choices))
                box.setCurrentIndex(-1)
                line = box.lineEdit()
                assert line is not None
                line.setPlaceholderText(f"any {FILTERS[name][0].lower()}")
                line.textEdited.connect(self.changed)
            box.currentIndexChanged.connect(self.changed)
            box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            self.editors.append(box)
            row.addWidget(box)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Remove this filter")
        close.clicked.connect(lambda: self.removed.emit(self.name))
        row.addWidget(close)

    def set_choices(self, choices: tuple[str, ...]) -> None:
        box = self.editors[0] if self.editors else None
        if isinstance(box, QComboBox) and box.isEditable():
            text = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItems(list(choices))
            box.setEditText(text)
            box.blockSignals(False)

    def set_value(self, value: Any) -> None:
        if self.name == "dates":
            for edit, day in zip(self.editors, value, strict=True):
                edit.setDate(QDate(day.year, day.month, day.day))  # type: ignore[attr-defined]
        elif isinstance(box := self.editors[0] if self.editors else None, QComboBox):
            found = box.findData(value) if self.name in ("kind", "min_rating") else -1
            if found >= 0:
                box.setCurrentIndex(found)
            else:
                box.setEditText(str(value))

    def value(self) -> Any:
        """What goes into the query: a string, (from, to) dates, a kind, stars, or True."""
        if self.name == "favorite":
            return True
        if self.name == "dates":
            first, last = (e.date().toPython() for e in self.editors)  # type: ignore[attr-defined]
            return (min(first, last), max(first, last))
        box: QComboBox = self.editors[0]  # type: ignore[assignment]
        if self.name in ("kind", "min_rating"):
            return box.currentData()
        return box.currentText().strip() or None


SIMILAR_LIMIT = 200  # "Find Similar Photos" shows at most this many


class SearchView(View):
    """Type to search; chips narrow it down; the results fill the grid below."""

    title = "Search"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.search: SearchService = library.search
        self.facets = SearchFacets((), (), (), (), (), ())
        self.chips: dict[str, FilterChip] = {}
        self._debounce = QTimer(self, singleShot=True, interval=250)
        self._debounce.timeout.connect(self.run)
        self.field = QLineEdit(placeholderText="Search file names, titles, tags, places…")
        self.field.setClearButtonEnabled(True)
        self.field.textChanged.connect(lambda _: self._debounce.start())
        self.field.returnPressed.connect(self.run)
        self.add_button = QToolButton()
        self.add_button.setText("Add filter")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self)
        for name, (caption, _) in FILTERS.items():
            self.add_menu.addAction(caption).triggered.connect(lambda _=0, n=name: self._add(n))
        self.add_button.setMenu(self.add_menu)
        self.sort_box = QComboBox()
        self.sort_box.addItem("Newest first", "date")
        self.sort_box.addItem("Best match first", "relevance")
        self.sort_box.currentIndexChanged.connect(lambda _: self.run())
        top = QHBoxLayout()
        top.addWidget(self.field, 1)
        top.addWidget(self.add_button)
        top.addWidget(self.sort_box)
        strip = QWidget()
        self.chip_row = QHBoxLayout(strip)
        self.chip_row.setContentsMargins(0, 0, 0, 0)
        self.chip_row.setSpacing(6)
        self.chip_row.addStretch(1)
        self.chip_area = QScrollArea()  # many chips scroll sideways instead of widening the window
        self.chip_area.setWidget(strip)
        self.chip_area.setWidgetResizable(True)
        self.chip_area.setFrameShape(QFrame.Shape.NoFrame)
        self.chip_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.chip_area.setVisible(False)
        self.status = QLabel()
        self.smart_note = QLabel(NO_SMART)
        self.smart_note.setWordWrap(True)
        self.smart_note.setStyleSheet("color: gray;")
        self.grid = PhotoGrid(library, bridge, empty="No photos match")
        self.grid.opened.connect(self.open_assets)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 0, 0)
        column.addLayout(top)
        column.addWidget(self.chip_area)
        column.addWidget(self.status)
        column.addWidget(self.smart_note)
        column.addWidget(self.grid, 1)
        self.setStyleSheet(CHIP_STYLE)
        QShortcut(QKeySequence.StandardKey.Find, self, self.field.setFocus)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.field, self.field.clear)
        self._generation = 0
        self._dirty = True
        self.results: list[int] = []
        self._shown: object = None  # EVERYTHING, or the ids on show and whether by date
        bridge.changed.connect(self._on_changed)

    # ----- filters ---------------------------------------------------------------------------
    def add_filter(self, name: str, value: Any = None) -> FilterChip:
        """Show the chip of filter ``name`` (once), with ``value`` when given; searches again."""
        chip = self.chips.get(name)
        if chip is None:
            field = FILTERS[name][1]
            chip = FilterChip(name, getattr(self.facets, field) if field else ())
            chip.changed.connect(self._debounce.start)
            chip.removed.connect(self.remove_filter)
            self.chip_row.insertWidget(self.chip_row.count() - 1, chip)
            self.chips[name] = chip
            self._fit_chips()
        if value is not None:
            chip.set_value(value)
        self.run()
        return chip

    def remove_filter(self, name: str) -> None:
        if (chip := self.chips.pop(name, None)) is not None:
            self.chip_row.removeWidget(chip)
            chip.hide()
            chip.deleteLater()
            self._fit_chips()
            self.run()

    def _fit_chips(self) -> None:
        self.chip_area.setVisible(bool(self.chips))
        bar = self.chip_area.horizontalScrollBar().sizeHint().height()
        self.chip_area.setFixedHeight(self.chip_row.sizeHint().height() + bar)

    def _add(self, name: str) -> None:
        chip = self.add_filter(name)
        if chip.editors:
            chip.editors[0].setFocus()

    def current_query(self) -> SearchQuery:
        values = {name: chip.value() for name, chip in self.chips.items()}
        dates = values.pop("dates", None)
        sort = self.sort_box.currentData()
        return SearchQuery(
            text=self.field.text().strip(),
            taken_from=datetime.combine(dates[0], time()) if dates else None,
            taken_to=datetime.combine(dates[1] + timedelta(days=1), time()) if dates else None,
            sort=sort,
            **{k: v for k, v in values.items() if v is not None},
        )

    # ----- searching -------------------------------------------------------------------------
    def activate(self) -> None:
        super().activate()
        if self._dirty:
            self._dirty = False
            self.load_facets()
            self.run()
        self.field.setFocus()

    def load_facets(self) -> None:
        # a load started before a change (an album made) can answer after one started since:
        # the newest answer wins, or the new album would be missing from the chip
        ops.query(self, self.search.facets, self._on_facets, latest="facets")

    def _on_facets(self, facets: SearchFacets) -> None:
        self.facets = facets
        for name, chip in self.chips.items():
            if field := FILTERS[name][1]:
                chip.set_choices(getattr(facets, field))

    def run(self) -> None:
        self._debounce.stop()
        self._generation += 1
        generation, query = self._generation, self.current_query()
        self.smart_note.setVisible(bool(query.text) and not self.search.semantic_available)
        if query.is_empty():  # the whole library: the grid pages it in by itself
            self.results = []
            if self._shown != EVERYTHING:
                self._shown = EVERYTHING
                self.grid.empty_text = "No photos yet: import a folder to start"
                self.grid.show_query(EVERYTHING)
            self.status.setText("Everything, newest first · type to search or add a filter")
            return
        ops.query(
            self,
            lambda: self.search.search(query),
            lambda ids: self._on_results(generation, query, ids),
            self._on_error,
        )

    def search_for(self, text: str) -> None:
        """Search for ``text`` now (the toolbar's field)."""
        self.field.setText(text)
        self._debounce.stop()
        self.run()

    def show_similar(self, asset_id: int) -> None:
        """The photos that look like ``asset_id``, most similar first (typing searches again)."""
        self._debounce.stop()
        self._generation += 1
        generation = self._generation
        self.field.blockSignals(True)
        self.field.clear()
        self.field.blockSignals(False)
        self.smart_note.setVisible(False)
        self.status.setText("Looking for similar photos…")
        search = self.search
        ops.query(
            self,
            lambda: search.similar(asset_id, SIMILAR_LIMIT),
            lambda ids: self._on_similar(generation, ids),
            self._on_error,
        )

    def _on_similar(self, generation: int, ids: list[int]) -> None:
        if generation != self._generation:
            return
        self.results = [int(i) for i in ids]
        self._shown = (self.results, False)
        self.grid.empty_text = "No similar photos"
        self.grid.show_ids(self.results, by_date=False)
        n = len(self.results)
        self.status.setText(f"{n:,} photo{'s' if n != 1 else ''} that look like this one")

    def _on_results(self, generation: int, query: SearchQuery, ids: list[int]) -> None:
        if generation != self._generation:
            return  # an older search, overtaken while it ran
        self.results = [int(i) for i in ids]
        by_date = query.sort == "date" or not query.text
        if (self.results, by_date) != self._shown:  # unchanged: keep the scroll and selection
            self._shown = (self.results, by_date)
            self.grid.empty_text = "No photos match"
            self.grid.show_ids(self.results, by_date=by_date)
        self.status.setText(count_label(len(ids)))

    def _on_error(self, exc: Exception) -> None:
        self.status.setText(f"<span style='color: #c33'>{exc}</span>")

    def _on_changed(self, changes: Changes) -> None:
        self.grid.on_changed(changes)
        if not self.isVisible():
            self._dirty = True
            return
        if changes.tags or changes.albums or changes.people or changes.assets_added:
            self.load_facets()
        if self._shown != EVERYTHING:  # a search (not the whole library) may match otherwise now
            self._debounce.start()
