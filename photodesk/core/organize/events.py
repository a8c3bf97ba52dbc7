"""Events: the library's photos grouped by gaps in time and changes of place, and named.

A new event starts after a gap of ``GAP_HOURS`` or when the city changes. Consecutive events in a
country other than the library's home country (where most photos were taken), less than
``TRIP_GAP_DAYS`` apart, become one trip: "Trip to Iceland, 3-9 July 2024". A one-day event is
named from its weekday and place ("Thursday in Berlin"). Pure reads; nothing is stored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import memories as repo
from photodesk.core.catalog.db.memories import Candidate
from photodesk.core.catalog.types import AssetId

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

GAP_HOURS = 8
TRIP_GAP_DAYS = 4
MIN_PHOTOS = 1
PLACE_SHARE = 1 / 3


@dataclass(frozen=True)
class Event:
    """Photos taken together: ``key`` is stable while its first photo stays ("e<id>")."""

    key: str
    title: str
    start: datetime
    end: datetime
    city: str | None
    country: str | None
    trip: bool
    asset_ids: tuple[AssetId, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "city": self.city,
            "country": self.country,
            "trip": self.trip,
            "asset_ids": [int(i) for i in self.asset_ids],
        }


@dataclass
class _Run:
    photos: list[Candidate] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.photos[0].taken_at

    @property
    def end(self) -> datetime:
        return self.photos[-1].taken_at

    def most(self, attr: str) -> str | None:
        """The most common city or country, if at least ``PLACE_SHARE`` of the photos have it
        (one geotagged photo among sixty does not name a day)."""
        values = Counter(getattr(p, attr) for p in self.photos if getattr(p, attr))
        if not values:
            return None
        value, count = values.most_common(1)[0]
        return value if count >= PLACE_SHARE * len(self.photos) else None


def day_span(start: date, end: date) -> str:
    """ "3 July 2024", "3-9 July 2024", "28 June - 2 July 2024", "30 Dec 2023 - 2 Jan 2024"."""
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{end.day} {end:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} - {end.day} {end:%B %Y}"
    return f"{start.day} {start:%b %Y} - {end.day} {end:%b %Y}"


def title_of(run: _Run, *, trip: bool) -> str:
    city, country = run.most("city"), run.most("country")
    first, last = run.start.date(), run.end.date()
    if trip and country:
        return f"Trip to {country}, {day_span(first, last)}"
    if first == last:
        where = city or country
        return f"{first:%A} in {where}" if where else f"{first:%A}, {day_span(first, last)}"
    where = city or country
    return f"{where}, {day_span(first, last)}" if where else day_span(first, last)


def split(photos: list[Candidate], gap_hours: float = GAP_HOURS) -> list[_Run]:
    """Runs of photos (oldest first) broken at time gaps and changes of city."""
    runs: list[_Run] = []
    gap = timedelta(hours=gap_hours)
    city: str | None = None
    for p in photos:
        moved = p.city and city and p.city != city
        if not runs or p.taken_at - runs[-1].end > gap or moved:
            runs.append(_Run())
            city = None
        runs[-1].photos.append(p)
        city = p.city or city
    return runs


def group(photos: list[Candidate], gap_hours: float = GAP_HOURS) -> list[Event]:
    """Events of ``photos`` (any order), newest first."""
    photos = sorted(photos, key=lambda c: (c.taken_at, c.id))
    home = Counter(p.country for p in photos if p.country).most_common(1)
    home_country = home[0][0] if home else None
    runs = split(photos, gap_hours)
    merged: list[tuple[_Run, bool]] = []
    for run in runs:
        country = run.most("country")
        away = country is not None and country != home_country
        if merged and away:
            last, _ = merged[-1]
            same_trip = last.most("country") == country
            if same_trip and run.start - last.end < timedelta(days=TRIP_GAP_DAYS):
                merged[-1] = (_Run(last.photos + run.photos), True)
                continue
        merged.append((run, away and run.start.date() != run.end.date()))
    events = [
        Event(
            key=f"e{run.photos[0].id}",
            title=title_of(run, trip=trip),
            start=run.start,
            end=run.end,
            city=run.most("city"),
            country=run.most("country"),
            trip=trip,
            asset_ids=tuple(AssetId(p.id) for p in run.photos),
        )
        for run, trip in merged
        if len(run.photos) >= MIN_PHOTOS
    ]
    return events[::-1]


class EventService:
    """``events()``: every dated photo of the library in events, newest first."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def events(self, gap_hours: float = GAP_HOURS) -> list[Event]:
        with self._store.read() as s:
            first = repo.first_taken(s, self._store.owner_id)
            if first is None:
                return []
            photos = repo.in_windows(s, self._store.owner_id, [(first, datetime.max)])
        return group(photos, gap_hours)
