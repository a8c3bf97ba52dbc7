"""Timeline reads: month/day buckets, keyset pages in display order, stacks as one tile, refresh."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, insert, update
from sqlalchemy.engine import Engine

from photodesk.core import AssetQuery, Library
from photodesk.core.catalog.db.schema import Asset, Stack
from photodesk.core.organize.timeline import Cursor, GridItem, MonthBucket, TimelineService
from tests.conftest import make_jpeg

WHENS = [
    "2023:07:04 10:15:00",
    "2023:07:04 10:15:00",  # same second: the id breaks the tie
    "2023:07:04 18:00:00",
    "2023:07:05 09:00:00",
    "2023:06:30 12:00:00",
    "2022:12:31 23:59:59",
    "2022:01:01 00:00:01",
    "2019:03:15 08:30:00",
]


@pytest.fixture
def lib(library: Library, tmp_path: Path) -> Library:
    for i, when in enumerate(WHENS):
        make_jpeg(tmp_path / "in" / f"p{i}.jpg", when=when, seed=i)
    library.importer.import_paths([tmp_path / "in"], workers=1)
    return library


def _by_name(lib: Library) -> dict[str, int]:
    return {Path(a.path).stem: int(a.id) for a in lib.assets.list()}


def _stack(lib: Library, primary: int, *members: int) -> int:
    with lib.write() as s:
        stack_id = s.execute(
            insert(Stack)
            .values(owner_id=lib.owner_id, primary_asset_id=primary)
            .returning(Stack.id)
        ).scalar_one()
        s.execute(update(Asset).where(Asset.id.in_([primary, *members])).values(stack_id=stack_id))
    return int(stack_id)


def _all_pages(tl: TimelineService, q: AssetQuery | None = None, limit: int = 3) -> list[GridItem]:
    items: list[GridItem] = []
    cursor: Cursor | None = None
    while True:
        page = tl.page(q, cursor, limit)
        items += page.items
        if page.next is None:
            return items
        cursor = page.next


def test_months_and_days_count_tiles_newest_first(lib: Library) -> None:
    tl = TimelineService(lib)
    assert tl.months() == [
        MonthBucket(202307, 4),
        MonthBucket(202306, 1),
        MonthBucket(202212, 1),
        MonthBucket(202201, 1),
        MonthBucket(201903, 1),
    ]
    assert tl.months()[0].year == 2023 and tl.months()[0].month_number == 7
    days = tl.days(month=202307)
    assert [(d.day, d.count) for d in days] == [(date(2023, 7, 5), 1), (date(2023, 7, 4), 3)]
    assert sum(d.count for d in tl.days()) == len(WHENS)
    oldest = tl.months(AssetQuery(newest_first=False))
    assert [m.month for m in oldest][:2] == [201903, 202201]


def test_keyset_pages_walk_every_tile_once_in_display_order(lib: Library) -> None:
    tl = TimelineService(lib)
    offsets: list[object] = []

    def spy(conn: object, cursor: object, sql: str, params: tuple[object, ...], *_: object) -> None:
        if "OFFSET" in sql.upper():  # SQLAlchemy always writes "LIMIT ? OFFSET ?" for SQLite
            offsets.append(params[-1])

    event.listen(Engine, "before_cursor_execute", spy)
    try:
        newest = _all_pages(tl, limit=3)
        oldest = _all_pages(tl, AssetQuery(newest_first=False), limit=2)
    finally:
        event.remove(Engine, "before_cursor_execute", spy)
    assert [i.id for i in newest] == lib.assets.ids()
    assert [i.id for i in oldest] == list(reversed(lib.assets.ids()))
    assert offsets and set(offsets) == {0}  # keyset: every page starts at offset 0
    first = newest[0]
    assert first.taken_at == datetime(2023, 7, 5, 9, 0)
    assert (first.kind, first.width, first.height, first.stack_size) == ("photo", 120, 80, 1)


def test_undated_assets_come_last_in_both_orders(lib: Library) -> None:
    names = _by_name(lib)
    undated = [names["p0"], names["p7"]]
    with lib.write() as s:
        s.execute(
            update(Asset).where(Asset.id.in_(undated)).values(taken_at=None, taken_month=None)
        )
    tl = TimelineService(lib)
    newest = [int(i.id) for i in _all_pages(tl, limit=2)]
    oldest = [int(i.id) for i in _all_pages(tl, AssetQuery(newest_first=False), limit=4)]
    assert sorted(newest[-2:]) == sorted(undated) and sorted(oldest[-2:]) == sorted(undated)
    assert len(set(newest)) == len(WHENS) == len(set(oldest))
    assert tl.months()[-1] == MonthBucket(0, 2)
    assert tl.days()[-1].day is None


def test_a_stack_is_one_tile_with_its_size(lib: Library) -> None:
    names = _by_name(lib)
    stack = _stack(lib, names["p0"], names["p1"])
    tl = TimelineService(lib)
    items = _all_pages(tl, limit=2)
    assert len(items) == len(WHENS) - 1
    top = next(i for i in items if i.id == names["p0"])
    assert (top.stack_id, top.stack_size) == (stack, 2)
    assert names["p1"] not in {i.id for i in items}
    assert tl.months()[0] == MonthBucket(202307, 3)
    assert sorted(tl.stack_members([names["p0"]])) == sorted([names["p0"], names["p1"]])
    # A member the query matches without its primary shows on its own.
    lib.assets.set_favorite([names["p1"]])
    favourites = _all_pages(tl, AssetQuery(favorite=True))
    assert [i.id for i in favourites] == [names["p1"]]


def test_queries_are_reused_for_other_views(lib: Library) -> None:
    names = _by_name(lib)
    tl = TimelineService(lib)
    lib.assets.trash([names["p2"]])
    lib.assets.set_archived([names["p3"]])
    lib.tags.add([names["p4"], names["p5"]], "Places/France")
    album = lib.albums.create("Trip")
    lib.albums.add(album, [names["p6"]])
    assert [i.id for i in _all_pages(tl, AssetQuery(trashed=True, archived=None))] == [names["p2"]]
    trashed = tl.items([names["p2"]])[0]
    assert trashed.trashed and not trashed.archived
    assert [i.id for i in _all_pages(tl, AssetQuery(archived=True))] == [names["p3"]]
    assert {i.id for i in _all_pages(tl, AssetQuery(tag="Places"))} == {names["p4"], names["p5"]}
    assert [i.id for i in _all_pages(tl, AssetQuery(album="Trip"))] == [names["p6"]]
    assert sum(m.count for m in tl.months()) == len(WHENS) - 2


def test_refresh_says_what_a_query_shows_now_of_changed_assets(lib: Library) -> None:
    names = _by_name(lib)
    tl = TimelineService(lib)
    favourites = AssetQuery(favorite=True)
    lib.assets.set_favorite([names["p1"], names["p2"]])
    lib.assets.set_rating([names["p1"]], 4)
    now = tl.refresh(favourites, [names["p1"], names["p2"], names["p3"]])
    assert {i.id for i in now.items} == {names["p1"], names["p2"]}
    assert now.considered == {names["p1"], names["p2"], names["p3"]}
    assert next(i for i in now.items if i.id == names["p1"]).rating == 4
    lib.assets.trash([names["p2"]])
    gone = tl.refresh(None, [names["p2"]])
    assert gone.items == () and gone.considered == {names["p2"]}


def test_items_keep_the_order_asked_and_skip_unknown_ids(lib: Library) -> None:
    names = _by_name(lib)
    tl = TimelineService(lib)
    asked = [names["p5"], 999_999, names["p0"]]
    assert [i.id for i in tl.items(asked)] == [names["p5"], names["p0"]]
