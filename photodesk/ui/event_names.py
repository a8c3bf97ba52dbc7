"""Events in the timeline: names the user gave events (kept per library) and header titles.

Events are computed from time and place, so a rename is kept here, by the event's key ("e<id>":
stable while its first photo stays); naming an event also saves it as an album of that name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta

from PySide6.QtCore import QSettings

from photodesk.core import Event, Library

EVENTS_SETTING = "timeline/events"  # View > Group timeline by events


def events_setting(settings: QSettings | None = None) -> bool:
    value = (settings or QSettings("photodesk", "photodesk")).value(EVENTS_SETTING, False)
    return value in (True, "true", "1", 1)


class EventNames:
    """The names given to a library's events (QSettings, one group per library folder)."""

    def __init__(self, library: Library, settings: QSettings | None = None) -> None:
        self.settings = settings or QSettings("photodesk", "photodesk")
        where = str(getattr(library, "root", "") or id(library))
        self.group = "event-names/" + hashlib.sha1(where.encode()).hexdigest()[:16]

    def get(self, event: Event) -> str:
        name = self.settings.value(f"{self.group}/{event.key}")
        return str(name) if name else event.title

    def set(self, event: Event | str, name: str) -> None:
        key = event if isinstance(event, str) else event.key
        self.settings.setValue(f"{self.group}/{key}", name)


def titles_by_day(events: Sequence[Event], names: EventNames) -> dict[date, str]:
    """The title over each event's newest day (the timeline runs newest first); two events that
    end on the same day share its header."""
    out: dict[date, list[str]] = {}
    for e in events:
        out.setdefault(e.end.date(), []).append(names.get(e))
    return {day: " · ".join(titles) for day, titles in out.items()}


def events_by_day(events: Sequence[Event]) -> dict[date, list[Event]]:
    """Each day an event covers, with the events on it (newest first)."""
    out: dict[date, list[Event]] = {}
    for e in events:
        day = e.end.date()
        while day >= e.start.date():
            out.setdefault(day, []).append(e)
            day -= timedelta(days=1)
    return out
