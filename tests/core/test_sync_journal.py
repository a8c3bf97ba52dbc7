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


def test_photos_from_before_the_journal_are_in_the_feed(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import text

    from photodesk.core.catalog.db import migrate
    from photodesk.core.catalog.db.engine import make_engine

    root = tmp_path / "lib"
    root.mkdir()
    engine = make_engine(root / "catalog.db", writer=True)
    cfg = migrate._config()
    with engine.begin() as conn:  # a catalog from before the journal, with one photo
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.execute(
            text(
                "INSERT INTO users (id, email, name, is_admin, created_at) "
                "VALUES (1, 'me@home', 'Me', 1, '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO assets (id, owner_id, checksum, kind, file_type, mime, size, rating, "
                "favorite, archived, offline, has_thumbnail, created_at, updated_at) VALUES "
                "(5, 1, 'ab', 'photo', 'JPEG', 'image/jpeg', 1, 0, 0, 0, 0, 0, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()
    with Library.open(root) as lib:
        assert _log(lib) == [(5, "asset")]
        page = lib.sync.changes(1, 0, 100)
        assert [item.checksum for item in page.items] == ["ab"]
