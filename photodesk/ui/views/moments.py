"""Lists of moments (memories, events) on the left, the chosen one's photos on the right."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QPushButton, QWidget

from photodesk.core import AssetQuery, Changes, Library
from photodesk.ui import icons, style
from photodesk.ui.bridge import Bridge
from photodesk.ui.event_names import EventNames
from photodesk.ui.thumbs import cover_of
from photodesk.ui.views.base import ExtraRole, Row, TreeGridView, count_label
from photodesk.ui.widgets.memories_strip import today


class MomentsView(TreeGridView):
    """Rows carry their asset ids (``Row.extra``); the grid shows them by day."""

    key_tips = False
    by_date = True  # the grid groups the photos by day (else: in the row's order)

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.tree.setIconSize(QSize(48, 48))
        self.splitter.setSizes([360, 900])  # room for "Trip to Iceland, 3-9 July 2024"
        self.tree.setDragDropMode(self.tree.DragDropMode.NoDragDrop)
        self.play_button = QPushButton("Play slideshow")
        self.play_button.setIcon(icons.icon("play"))
        self.play_button.clicked.connect(self.play)
        self.header_row.addWidget(self.play_button)

    def ids_of(self, key: str) -> list[int]:
        return list(self.items[key].data(ExtraRole) or ())

    def query(self, key: str) -> AssetQuery:  # not used: the grid shows ids
        return AssetQuery()

    def concerns(self, changes: Changes) -> bool:
        return bool(changes.assets or changes.assets_added or changes.assets_removed)

    def describe(self, key: str) -> str:
        muted = style.current().muted
        return f"<b style='font-size: large'>{escape(self.items[key].text())}</b><br>" + (
            f"<span style='color: {muted}'>{count_label(self.counts[key])}</span>"
        )

    def show_selected(self) -> None:
        if self._rebuilding:
            return
        key = self.selected_key()
        self.grid.empty_text = self.empty if key is not None else self.nothing
        self.play_button.setEnabled(key is not None)
        if key is None:
            self.header.setText("")
            self.grid.show_ids([])
            return
        self.header.setText(self.describe(key))
        ids = self.ids_of(key)
        if ids != self.grid.ids():
            self.grid.show_ids(ids, by_date=self.by_date)

    def play(self) -> None:
        if (key := self.selected_key()) is not None:
            from photodesk.ui.widgets.slideshow import Slideshow

            Slideshow.start(self.library, self.ids_of(key), self.window())


class MemoriesView(MomentsView):
    """ "On this day" and "this week N years ago", newest year first, with a slideshow."""

    title = heading = "Memories"
    empty = "No photos in this memory"
    nothing = "No memories for today yet: photos taken on this date in past years appear here"

    def rows(self) -> list[Row]:
        rows = []
        for m in self.library.memories.memories(today()):
            key = f"{m.kind}-{m.year}"
            label = f"{m.title} · {m.day:%-d %b %Y}"
            cover = cover_of(self.library, m.asset_ids)
            rows.append(Row(key, None, label, len(m.asset_ids), cover, tuple(m.asset_ids)))
        return rows


class EventsView(MomentsView):
    """Photos grouped into events by time and place; an event becomes an album in one action."""

    title = heading = "Events"
    empty = "No photos in this event"
    nothing = "No events yet: photos with dates are grouped here"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.album_button = QPushButton("Make album…")
        self.album_button.setIcon(icons.icon("albums"))
        self.album_button.setToolTip("Save this event as an album, under a name you choose")
        self.album_button.clicked.connect(self.ask_make_album)
        self.header_row.addWidget(self.album_button)

    def rows(self) -> list[Row]:
        rows, names = [], EventNames(self.library)
        for e in self.library.event_groups.events()[:500]:
            cover = cover_of(self.library, e.asset_ids)
            label = names.get(e)  # a name given in the timeline (or here) wins
            rows.append(Row(e.key, None, label, len(e.asset_ids), cover, tuple(e.asset_ids)))
        return rows

    def menu(self, key: str, menu: object) -> None:
        menu.addAction("Make album…").triggered.connect(self.ask_make_album)  # type: ignore[attr-defined]

    def make_album(self, key: str, name: str) -> None:
        """Album ``name`` with the event's photos (created if new, added to if it exists)."""
        ids, albums = self.ids_of(key), self.library.albums

        def write() -> int:
            return albums.add(albums.ensure(name), ids)

        EventNames(self.library).set(key, name)  # the event takes the album's name

        def done(added: int) -> None:
            self.header.setText(self.describe(key) + f"<br>Saved as the album “{escape(name)}”")

        from photodesk.ui import ops

        ops.query(self, write, done, self.show_error)

    def ask_make_album(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        if (key := self.selected_key()) is None:
            return
        name, ok = QInputDialog.getText(
            self, "Make album", "Name of the album:", text=self.labels.get(key, "")
        )
        if ok and name.strip():
            self.make_album(key, name.strip())


class DuplicatesView(MomentsView):
    """Groups of near-identical photos (perceptual hash); keep one, trash the others, merged."""

    title = heading = "Duplicates"
    empty = "No photos in this group"
    nothing = "No duplicates found: rescaled or recompressed copies of a photo show up here"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.play_button.hide()
        self.keep_button = QPushButton("Keep selected, trash the others")
        self.keep_button.setIcon(icons.icon("trash"))
        self.keep_button.setToolTip(
            "The others go to the trash; their albums, tags, rating, favourite and description "
            "move onto the one kept (the first photo when none is selected)"
        )
        self.keep_button.clicked.connect(self.keep_selected)
        self.header_row.addWidget(self.keep_button)

    def rows(self) -> list[Row]:
        service = self.library.duplicates
        service.backfill()  # photos imported before hashing existed
        rows = []
        for group in service.groups():
            ids = tuple(int(i) for i in group)
            name = Path(self.library.assets.get(ids[0]).path).name
            label = f"{name} · {len(ids)} copies"
            rows.append(Row(f"d{ids[0]}", None, label, len(ids), cover_of(self.library, ids), ids))
        return rows

    by_date = False  # the keeper first

    def show_selected(self) -> None:
        super().show_selected()
        self.keep_button.setEnabled(self.selected_key() is not None)

    def keep(self, keeper: int, others: list[int]) -> None:
        service = self.library.duplicates
        self.write(lambda: service.keep(keeper, others), lambda _: None)

    def keep_selected(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        ids = self.ids_of(key)
        chosen = self.grid.selected_ids()
        keeper = chosen[0] if len(chosen) == 1 else ids[0]
        self.keep(keeper, [i for i in ids if i != keeper])
