"""The timeline view: the whole library by day under month titles, with the date scrubber.

With View > Group timeline by events on, the big titles name events instead of months
("Thursday in Berlin", "Trip to Iceland, 3-9 July 2024"); right-clicking a day's header names
its event and saves it as an album of that name, in one action.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QInputDialog, QMenu, QVBoxLayout, QWidget

from photodesk.core import AssetQuery, Changes, Event, Library
from photodesk.ui import ops
from photodesk.ui.bridge import Bridge
from photodesk.ui.event_names import (
    EVENTS_SETTING,
    EventNames,
    events_by_day,
    events_setting,
    titles_by_day,
)
from photodesk.ui.views.base import View
from photodesk.ui.views.grid import AssetGridView
from photodesk.ui.widgets.asset_grid import AssetGrid
from photodesk.ui.widgets.memories_strip import MemoriesStrip

__all__ = ["AssetGrid", "TimelineView"]


class TimelineView(View):
    """The whole library by day under month titles, newest first, with the date scrubber."""

    title = "Timeline"

    def __init__(self, library: Library, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(library, bridge, parent)
        self.body = AssetGridView(
            library,
            bridge,
            self,
            query=AssetQuery(),
            title=self.title,
            empty_text="No photos yet: File > Import folder…, or drop a folder here",
        )
        self.grid, self.model, self.scrubber = self.body.grid, self.body.model, self.body.scrubber
        self.body.open_assets.connect(self.open_assets)
        self.body.similar_wanted.connect(self.similar_wanted)
        self.body.header_menu_for = self.event_menu  # type: ignore[attr-defined]
        self.strip = MemoriesStrip(library, self)
        self.strip.open_assets.connect(self.open_assets)
        body = self.body.layout()
        assert isinstance(body, QVBoxLayout)
        body.insertWidget(1, self.strip)  # under the title, over the grid
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.body)
        self.names = EventNames(library)
        self.events: list[Event] = []
        self.by_day: dict[date, list[Event]] = {}
        self.grouped_by_events = False
        self._events_timer = QTimer(self, singleShot=True, interval=1500)
        self._events_timer.timeout.connect(self.load_events)
        bridge.changed.connect(self._on_changed)

    def activate(self) -> None:
        super().activate()
        self.body.activate()
        self.strip.load_soon()
        if events_setting() != self.grouped_by_events:
            self.set_events_grouping(events_setting())

    # ----- events as groups --------------------------------------------------------------------
    def set_events_grouping(self, on: bool) -> None:
        """Titles name events (on) or months (off); kept as a setting."""
        QSettings("photodesk", "photodesk").setValue(EVENTS_SETTING, on)
        self.grouped_by_events = on
        if on:
            self.load_events()
        else:
            self.events, self.by_day = [], {}
            self.grid.set_event_titles(None)

    def load_events(self) -> None:
        if not self.grouped_by_events:
            return
        groups = self.library.event_groups
        ops.query(self, groups.events, self._on_events, self.body._on_error, latest="events")

    def _on_events(self, events: list[Event]) -> None:
        if not self.grouped_by_events:
            return
        self.events, self.by_day = events, events_by_day(events)
        self.grid.set_event_titles(titles_by_day(events, self.names))

    def _on_changed(self, changes: Changes) -> None:
        if self.grouped_by_events and any(
            getattr(changes, k, False) for k in ("assets", "assets_added", "assets_removed")
        ):
            self._events_timer.start()

    def events_at(self, gi: int) -> list[Event]:
        """The events of group ``gi``'s day, newest first."""
        day = self.grid.layout_.groups[gi].day
        return self.by_day.get(day, []) if day is not None else []

    def event_menu(self, gi: int) -> QMenu | None:
        """Right-click on a day's header: name its event(s) and save each as an album."""
        events = self.events_at(gi)
        if not events:
            return None
        menu = QMenu(self)
        for event in events:
            title = self.names.get(event)
            act = menu.addAction(f"Rename “{title}” and make album…")
            act.triggered.connect(lambda _=False, e=event: self.ask_rename(e))
        return menu

    def ask_rename(self, event: Event) -> None:
        label = "Name of the event (saved as an album):"
        name, ok = QInputDialog.getText(self, "Rename event", label, text=self.names.get(event))
        if ok and name.strip():
            self.rename_event(event, name.strip())

    def rename_event(self, event: Event, name: str) -> None:
        """The event takes ``name`` in the timeline and becomes (or joins) the album ``name``."""
        self.names.set(event, name)
        self.grid.set_event_titles(titles_by_day(self.events, self.names))
        ids, albums = [int(i) for i in event.asset_ids], self.library.albums

        def write() -> int:
            return albums.add(albums.ensure(name), ids)

        def done(added: int) -> None:
            self.body._say(f"“{name}”: an album of {len(ids)} photos ({added} new to it)")

        ops.query(self, write, done, self.body._on_error)
