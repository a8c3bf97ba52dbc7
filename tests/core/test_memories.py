"""Memories: "on this day" and "this week N years ago" on a library with known dates."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from photodesk.core import Library
from tests.conftest import make_jpeg


def _import(library: Library, folder: Path) -> dict[str, int]:
    library.importer.import_paths([folder], workers=1)
    return {Path(a.path).name: int(a.id) for a in library.assets.list()}


def test_on_this_day_and_this_week_group_by_year_newest_first(library: Library, tmp_path: Path):
    src = tmp_path / "src"
    make_jpeg(src / "a2019.jpg", when="2019:03:14 09:00:00", seed=1)
    make_jpeg(src / "b2019.jpg", when="2019:03:14 18:30:00", seed=2)
    make_jpeg(src / "c2021.jpg", when="2021:03:14 12:00:00", seed=3)
    make_jpeg(src / "week2021.jpg", when="2021:03:12 12:00:00", seed=4)
    make_jpeg(src / "far2021.jpg", when="2021:03:25 12:00:00", seed=5)  # not that week
    make_jpeg(src / "now.jpg", when="2024:03:14 12:00:00", seed=6)  # this year: not a memory
    ids = _import(library, src)

    got = library.memories.memories(date(2024, 3, 14))

    assert [(m.title, m.year, m.kind) for m in got] == [
        ("3 years ago today", 2021, "day"),
        ("This week 3 years ago", 2021, "week"),
        ("5 years ago today", 2019, "day"),
    ]
    assert got[0].asset_ids == (ids["c2021.jpg"],)
    assert got[1].asset_ids == (ids["week2021.jpg"],)
    assert set(got[2].asset_ids) == {ids["a2019.jpg"], ids["b2019.jpg"]}
    assert got[2].to_json()["asset_ids"] == [ids["a2019.jpg"], ids["b2019.jpg"]]


def test_trashed_archived_screenshots_and_bursts_are_left_out(library: Library, tmp_path: Path):
    src = tmp_path / "src"
    make_jpeg(src / "keep.jpg", when="2020:06:01 10:00:00", seed=1)
    make_jpeg(src / "burst.jpg", when="2020:06:01 10:00:01", seed=2)  # a second later
    make_jpeg(src / "later.jpg", when="2020:06:01 10:05:00", seed=3)
    make_jpeg(src / "trashed.jpg", when="2020:06:01 11:00:00", seed=4)
    make_jpeg(src / "archived.jpg", when="2020:06:01 12:00:00", seed=5)
    make_jpeg(src / "Screenshot 2020-06-01.jpg", when="2020:06:01 13:00:00", seed=6)
    ids = _import(library, src)
    library.assets.trash([ids["trashed.jpg"]])
    library.assets.set_archived([ids["archived.jpg"]])

    (memory,) = library.memories.memories(date(2023, 6, 1))

    assert memory.asset_ids == (ids["keep.jpg"], ids["later.jpg"])


def test_the_29th_of_february_is_remembered_on_the_28th(library: Library, tmp_path: Path):
    make_jpeg(tmp_path / "src" / "leap.jpg", when="2021:02:28 10:00:00")
    _import(library, tmp_path / "src")
    (memory,) = library.memories.memories(date(2024, 2, 29))
    assert (memory.title, memory.day) == ("3 years ago today", date(2021, 2, 28))


def test_an_empty_library_has_no_memories(library: Library):
    assert library.memories.memories(date(2024, 1, 1)) == []
