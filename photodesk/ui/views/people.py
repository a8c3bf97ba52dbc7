"""The People view: people to name, merge and hide, named first; a person's photos when opened."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from photodesk.core import Changes, Conflict, Library, PersonSummary
from photodesk.ui import ops
from photodesk.ui.bridge import Bridge
from photodesk.ui.views.base import View
from photodesk.ui.views.people_grid import (
    CROP_PX,
    PeopleModel,
    PersonDelegate,
    PixmapLoader,
    round_image,
)
from photodesk.ui.views.people_photos import PersonPage

log = logging.getLogger(__name__)


class PeopleView(View):
    """People, named first by photo count, then unnamed clusters; a person's photos on open."""

    title = "People"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.faces = PixmapLoader(
            lambda fid: round_image(self.library.people.face_crop(fid, CROP_PX)), 600, self
        )
        self.model = PeopleModel(self.faces, self)
        self.model.rename_requested.connect(self.rename)
        self.model.merge_requested.connect(self._on_merge_requested)
        self.show_hidden = QCheckBox("Show hidden people")
        self.show_hidden.toggled.connect(lambda _on: self.refresh())
        self.grid = QListView()
        self.grid.setFrameShape(QFrame.Shape.NoFrame)
        self.grid.setModel(self.model)
        self.grid.setItemDelegate(PersonDelegate(self.grid))
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setSpacing(8)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.grid.viewport().setAcceptDrops(True)  # setMovement(Static) turned it off
        self.grid.setDragDropOverwriteMode(True)
        self.grid.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.grid.setDropIndicatorShown(True)
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.grid.customContextMenuRequested.connect(self._on_context_menu)
        self.grid.activated.connect(lambda i: self.open_person(self.model.people[i.row()].id))
        self.summary = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        palette = self.message.palette()
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        palette.setColor(QPalette.ColorRole.WindowText, muted)
        self.message.setPalette(palette)
        self.summary.setPalette(palette)
        self.empty = QLabel(
            "No people yet.\nFaces show up here once photodesk has found them in your photos."
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()

        heading = QLabel("People")
        font = heading.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        heading.setFont(font)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(12)
        top.addWidget(self.summary)
        top.addStretch(1)
        top.addWidget(self.show_hidden)
        grid_page = QWidget()
        column = QVBoxLayout(grid_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self.message)
        column.addWidget(self.grid, 1)
        column.addWidget(self.empty, 1)

        self.person_page = PersonPage(library, self)
        self.person_page.back.connect(self.back)
        self.person_page.rename_requested.connect(self.rename)
        self.person_page.open_assets.connect(self.open_assets)
        self.person_page.failed.connect(self._on_error)
        self.pages = QStackedWidget()
        self.pages.addWidget(grid_page)
        self.pages.addWidget(self.person_page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 8)
        outer.addWidget(self.pages)

        self._loaded = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(120)
        self._refresh_timer.timeout.connect(self.refresh)
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.timeout.connect(self.message.clear)
        self.bridge.changed.connect(self._on_changed)

    # ----- loading ---------------------------------------------------------------------------
    def activate(self) -> None:
        first = not self._activated
        super().activate()
        if first or not self._loaded:
            self.refresh()

    def refresh(self) -> None:
        hidden = self.show_hidden.isChecked()

        def load() -> list[PersonSummary]:
            return self.library.people.list(include_hidden=hidden)

        ops.query(self, load, self._on_people, self._on_error, latest="people")
        self.person_page.refresh()

    def _on_people(self, people: list[PersonSummary]) -> None:
        self._loaded = True
        current = self.grid.currentIndex()
        keep = self.model.people[current.row()].id if current.isValid() else None
        scroll = self.grid.verticalScrollBar().value()
        self.model.set_people(people)
        if keep is not None and (row := self.model.row_of(keep)) >= 0:
            self.grid.setCurrentIndex(self.model.index(row))
        self.grid.verticalScrollBar().setValue(scroll)
        named = sum(1 for p in people if p.name)
        self.summary.setText(f"{named} named · {len(people) - named} to name")
        self.grid.setVisible(bool(people))
        self.empty.setVisible(not people)
        if people and not self.message.text():
            self.say("Double-click a person to see their photos; drag one onto another to merge.")

    def _on_changed(self, changes: object) -> None:
        if not isinstance(changes, Changes):
            return
        if changes.people or changes.assets_removed or changes.assets:
            if self.isVisible():
                self._refresh_timer.start()
            else:
                self._loaded = False

    # ----- actions (each a write off the GUI thread; the change event refreshes) -------------
    def _write(
        self, fn: Callable[[], object], done: Callable[[object], None] | None = None
    ) -> None:
        ops.query(self, fn, done or (lambda _r: None), self._on_error)

    def rename(self, person_id: int, name: str) -> None:
        def renamed_or_conflict() -> object:
            try:
                self.library.people.rename(person_id, name)
            except Conflict:
                return self.library.people.find(name)
            return None

        def done(other: object) -> None:
            if isinstance(other, int) and self.ask(
                f"“{name}” is already someone in your library. Are these the same person?",
                "Merge",
            ):
                self.merge(person_id, other)

        self._write(renamed_or_conflict, done)

    def merge(self, source_id: int, into_id: int) -> None:
        self._write(lambda: self.library.people.merge(source_id, into_id))

    def hide_person(self, person_id: int, hidden: bool = True) -> None:
        self._write(lambda: self.library.people.hide(person_id, hidden))

    def _on_merge_requested(self, source_id: int, into_id: int) -> None:
        rows = self.model.row_of(source_id), self.model.row_of(into_id)
        if min(rows) < 0:
            return
        source, into = (self.model.people[r] for r in rows)
        both_named = source.name and into.name and source.name != into.name
        if both_named and not self.ask(
            f"Merge “{source.name}” into “{into.name}”? "
            f"All {source.photo_count} photos will be shown as {into.name}.",
            "Merge",
        ):
            return
        self.merge(source_id, into_id)

    def merge_into_chosen(self, source_id: int) -> None:
        others = [p for p in self.model.people if p.id != source_id]
        labels = [f"{p.name or f'Unnamed #{p.id}'} ({p.photo_count} photos)" for p in others]
        chosen = self.choose("Merge into", "Merge this person into:", labels)
        if chosen is not None:
            self._on_merge_requested(source_id, others[labels.index(chosen)].id)

    # ----- person page -----------------------------------------------------------------------
    def open_person(self, person_id: int) -> None:
        row = self.model.row_of(person_id)
        if row >= 0:
            self.person_page.show_person(self.model.people[row])
            self.pages.setCurrentWidget(self.person_page)

    def back(self) -> None:
        self.person_page.person = None
        self.pages.setCurrentIndex(0)
        self.grid.setFocus()

    # ----- menus, dialogs, messages ----------------------------------------------------------
    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.grid.indexAt(pos)
        if not index.isValid():
            return
        p = self.model.people[index.row()]
        menu = QMenu(self)
        menu.addAction("Show photos", lambda: self.open_person(p.id))
        menu.addAction("Rename…" if p.name else "Add a name…", lambda: self.grid.edit(index))
        menu.addAction("Merge into…", lambda: self.merge_into_chosen(p.id))
        menu.addSeparator()
        if p.hidden:
            menu.addAction("Show again", lambda: self.hide_person(p.id, False))
        else:
            menu.addAction("Hide", lambda: self.hide_person(p.id))
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    def ask(self, question: str, action: str) -> bool:
        """A yes/no question (tests replace it)."""
        box = QMessageBox(QMessageBox.Icon.Question, "People", question, parent=self)
        yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is yes

    def choose(self, title: str, prompt: str, items: list[str]) -> str | None:
        """Pick one of ``items`` (tests replace it)."""
        item, ok = QInputDialog.getItem(self, title, prompt, items, 0, False)
        return item if ok and item else None

    def say(self, text: str, ms: int = 8000) -> None:
        self.message.setText(text)
        self._message_timer.start(ms)

    def _on_error(self, exc: Exception) -> None:
        log.warning("people: %s", exc)
        self.say(f"That did not work: {exc}")
