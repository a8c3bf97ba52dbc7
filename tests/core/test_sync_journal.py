"""The sync journal: triggers log every synced write, clocks order them, merges are decided."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from photodesk.core import Library
from photodesk.core.catalog.db.sync_log import SyncChange, SyncClock
from photodesk.core.sync import clock, fields, journal
from photodesk.core.sync.clock import Hlc
from tests.conftest import make_jpeg


def _log(lib: Library) -> list[tuple[int, str]]:
    with lib.read() as s:
        return [
            (r.asset_id, r.field)
            for r in s.execute(
                select(SyncChange.asset_id, SyncChange.field).order_by(SyncChange.seq)
            )
        ]


def _one(lib: Library, tmp_path: Path, seed: int = 1) -> int:
    f = make_jpeg(tmp_path / f"p{seed}.jpg", seed=seed)
    [aid] = lib.importer.import_paths([str(f)]).asset_ids
    return int(aid)


def test_every_synced_write_is_journalled(library: Library, tmp_path: Path) -> None:
    aid = _one(library, tmp_path)
    assert _log(library) == [(aid, "asset")]
    library.assets.set_rating([aid], 3)
    library.assets.set_rating([aid], 3)  # no change, no row
    library.assets.set_favorite([aid])
    library.tags.add([aid], "Places/Paris")
    library.albums.create("Trip")
    library.albums.add("Trip", [aid])
    library.albums.rename("Trip", "Trip 2026")
    library.tags.delete("Places")
    library.edits.set_title([aid], "Hello")
    library.assets.trash([aid])
    assert _log(library)[1:] == [
        (aid, "rating"),
        (aid, "favorite"),
        (aid, "tag:Places/Paris"),
        (aid, "album:Trip"),
        (aid, "album:Trip"),  # a rename: the old element goes...
        (aid, "album:Trip 2026"),  # ...and the new one comes
        (aid, "tag:Places/Paris"),  # the tag's deletion
        (aid, "title"),
        (aid, "trashed"),
    ]


def test_stamping_gives_increasing_clocks_and_field_clocks(
    library: Library, tmp_path: Path
) -> None:
    aid = _one(library, tmp_path)
    library.assets.set_rating([aid], 3)
    library.assets.set_rating([aid], 4)
    with library.write() as s:
        assert journal.stamp(s) == 3
        stamps = list(s.scalars(select(SyncChange.hlc).order_by(SyncChange.seq)))
        rating = s.get(SyncClock, (aid, "rating"))
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    assert rating is not None and rating.hlc == stamps[-1]
    with library.write() as s:
        assert journal.stamp(s) == 0


def test_a_received_clock_moves_the_local_clock_past_it(library: Library, tmp_path: Path) -> None:
    aid = _one(library, tmp_path)
    future = str(Hlc(clock.now_ms() + 3_600_000, 5, "other"))
    with library.write() as s:
        journal.stamp(s)
        journal.observe(s, [future])
    library.assets.set_rating([aid], 2)  # written after the future clock was seen
    with library.write() as s:
        journal.stamp(s)
        mine = s.get(SyncClock, (aid, "rating"))
    assert mine is not None and mine.hlc > future


def test_merge_order_is_total_and_the_same_everywhere() -> None:
    early, late = str(Hlc(1000, 0, "a")), str(Hlc(1000, 1, "b"))
    assert fields.wins((1, late), (5, early))
    assert not fields.wins((5, early), (1, late))
    # equal clocks: the greater value, whichever side asks
    assert fields.wins((True, ""), (False, "")) and not fields.wins((False, ""), (True, ""))
    assert fields.wins(("b", late), ("a", late)) != fields.wins(("a", late), ("b", late))
    assert not fields.wins((3, late), (3, late))


def test_clock_text_sorts_like_the_clock() -> None:
    a, b = Hlc(999, 12, "x"), Hlc(1000, 0, "a")
    assert (str(a) < str(b)) == (a < b)
    assert Hlc.parse(str(a)) == a
    assert clock.tick(b, 10, "n") == Hlc(1000, 1, "n")  # a wall clock that went back
    assert clock.tick(b, 2000, "n") == Hlc(2000, 0, "n")
