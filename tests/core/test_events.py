"""Events: photos grouped by time gaps and place changes, named from place and day."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from photodesk.core import Library
from photodesk.core.catalog.db.memories import Candidate
from photodesk.core.organize.events import day_span, group
from tests.conftest import make_jpeg


def photo(i: int, when: str, city: str | None = None, country: str | None = None) -> Candidate:
    taken = datetime.fromisoformat(when)
    return Candidate(i, taken, "JPEG", "Canon", f"p{i}.jpg", None, None, city, country, None)


def test_a_day_in_a_city_and_a_trip_abroad_are_named_from_place_and_day():
    photos = [
        photo(1, "2024-06-01 10:00", "Berlin", "Germany"),  # home: most photos are in Germany
        photo(2, "2024-06-01 12:00", "Berlin", "Germany"),
        photo(3, "2024-06-20 09:00", "Berlin", "Germany"),
        photo(4, "2024-06-20 10:00", "Potsdam", "Germany"),  # same morning, another city
        photo(5, "2024-07-03 09:00", "Reykjavik", "Iceland"),
        photo(6, "2024-07-06 15:00", "Vik", "Iceland"),
        photo(7, "2024-07-09 18:00", "Reykjavik", "Iceland"),
        photo(8, "2024-08-01 10:00", "Berlin", "Germany"),
    ]
    events = group(photos)
    assert [e.title for e in events] == [
        "Thursday in Berlin",
        "Trip to Iceland, 3-9 July 2024",
        "Thursday in Potsdam",
        "Thursday in Berlin",
        "Saturday in Berlin",
    ]
    trip = events[1]
    assert trip.trip and trip.asset_ids == (5, 6, 7) and trip.key == "e5"
    assert events[-1].asset_ids == (1, 2)


def test_a_few_geotagged_photos_do_not_name_a_day():
    photos = [photo(1, "2024-06-01 10:00", "Berlin", "Germany")]
    photos += [photo(i, f"2024-06-01 11:{i:02d}") for i in range(2, 6)]
    assert [e.title for e in group(photos)] == ["Saturday, 1 June 2024"]


def test_a_gap_splits_events_and_undated_places_fall_back_to_the_day():
    photos = [photo(2, "2023-01-02 20:00"), photo(1, "2023-01-02 09:00")]
    events = group(photos, gap_hours=8)
    assert [(e.title, e.asset_ids) for e in events] == [
        ("Monday, 2 January 2023", (2,)),
        ("Monday, 2 January 2023", (1,)),
    ]
    assert [e.asset_ids for e in group(photos, gap_hours=12)] == [(1, 2)]


def test_day_spans_read_naturally():
    assert day_span(date(2024, 7, 3), date(2024, 7, 9)) == "3-9 July 2024"
    assert day_span(date(2024, 6, 28), date(2024, 7, 2)) == "28 June - 2 July 2024"
    assert day_span(date(2023, 12, 30), date(2024, 1, 2)) == "30 Dec 2023 - 2 Jan 2024"


def test_events_of_a_library_leave_out_the_trash(library: Library, tmp_path: Path):
    src = tmp_path / "src"
    make_jpeg(src / "a.jpg", when="2022:05:05 10:00:00", seed=1)
    make_jpeg(src / "b.jpg", when="2022:05:05 11:00:00", seed=2)
    make_jpeg(src / "c.jpg", when="2022:05:09 11:00:00", seed=3)
    library.importer.import_paths([src], workers=1)
    ids = {Path(a.path).name: int(a.id) for a in library.assets.list()}
    library.assets.trash([ids["c.jpg"]])
    (event,) = library.event_groups.events()
    assert event.title == "Thursday, 5 May 2022"
    assert set(event.asset_ids) == {ids["a.jpg"], ids["b.jpg"]}
