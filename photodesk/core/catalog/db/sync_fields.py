"""The SQL behind an asset's synced fields: lean reads of rows, tags, albums, clocks and file
names (a feed reads them by the thousand: Core statements, rows by position), the element
writes of tags and albums, and the assets a feed or a push names.

What the values mean and which write wins is ``photodesk.core.sync.fields``' business.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import (
    Album,
    AlbumAsset,
    Asset,
    AssetFile,
    AssetTag,
    Place,
    Tag,
)
from photodesk.core.catalog.db.sync_log import SyncClock, SyncRemote

CHUNK = 900  # below SQLite's bound-parameter limit
PLACE_NAMES = ("city", "admin1", "admin2", "country_code", "country")

_COLUMNS = list(Asset.__table__.c)
AT = {c.key: i for i, c in enumerate(_COLUMNS)}  # an asset column's position in a read row
PLACE_AT = len(_COLUMNS)  # place_found, then the names in PLACE_NAMES
_LOOKUP = select(
    *_COLUMNS,
    Place.id.label("place_found"),
    *(getattr(Place, k).label(f"place_{k}") for k in PLACE_NAMES),
).outerjoin(Place, Place.id == Asset.place_id)


class Chunk:
    """What ``read`` found of up to ``CHUNK`` assets."""

    __slots__ = ("albums", "clocks", "names", "rows", "tags")

    def __init__(self) -> None:
        self.clocks: dict[int, dict[str, str]] = defaultdict(dict)  # field -> clock
        self.tags: dict[int, list[str]] = defaultdict(list)  # tag paths
        self.albums: dict[int, list[str]] = defaultdict(list)  # album names
        self.names: dict[int, str] = {}  # the original's file name
        self.rows: list[Any] = []  # asset columns by position (AT), then the place (PLACE_AT)


def read(s: Session, asset_ids: Sequence[int]) -> Iterator[Chunk]:
    """The assets' rows, clocks, tags, albums and file names, a chunk at a time."""
    conn = s.connection()  # Core statements: no ORM bookkeeping for rows read by the thousand
    ids = list(asset_ids)
    for k in range(0, len(ids), CHUNK):
        chunk = ids[k : k + CHUNK]
        out = Chunk()
        for aid, field, hlc in conn.execute(
            select(SyncClock.asset_id, SyncClock.field, SyncClock.hlc).where(
                SyncClock.asset_id.in_(chunk)
            )
        ):
            out.clocks[aid][field] = hlc
        for aid, path in conn.execute(
            select(AssetTag.asset_id, Tag.path)
            .join(Tag, Tag.id == AssetTag.tag_id)
            .join(Asset, Asset.id == AssetTag.asset_id)
            .where(AssetTag.asset_id.in_(chunk), Tag.owner_id == Asset.owner_id)
        ):
            out.tags[aid].append(path)
        for aid, name in conn.execute(
            select(AlbumAsset.asset_id, Album.name)
            .join(Album, Album.id == AlbumAsset.album_id)
            .join(Asset, Asset.id == AlbumAsset.asset_id)
            # the owner's own albums only: one of another account that an editor put the
            # photo in travels with that album (docs/sync.md, "Shared albums")
            .where(AlbumAsset.asset_id.in_(chunk), Album.owner_id == Asset.owner_id)
        ):
            out.albums[aid].append(name)
        for aid, path in conn.execute(
            select(AssetFile.asset_id, AssetFile.path)
            .where(AssetFile.asset_id.in_(chunk), AssetFile.role == "original")
            .order_by(AssetFile.id.desc())
        ):
            out.names[aid] = os.path.basename(path)
        out.rows = list(conn.execute(_LOOKUP.where(Asset.id.in_(chunk))))
        yield out


# -- assets a feed or a push names -------------------------------------------------------------


def ids_after(s: Session, owner: int, after: int, limit: int) -> list[int]:
    """``owner``'s asset ids after ``after``, ascending, at most ``limit``."""
    return list(
        s.scalars(
            select(Asset.id)
            .where(Asset.owner_id == owner, Asset.id > after)
            .order_by(Asset.id)
            .limit(limit)
        )
    )


def count(s: Session, owner: int, *, upto: int | None = None) -> int:
    """How many assets ``owner`` has (with an id up to ``upto``, if given)."""
    query = select(func.count()).where(Asset.owner_id == owner)
    if upto is not None:
        query = query.where(Asset.id <= upto)
    return int(s.scalar(query) or 0)


def by_checksum(s: Session, owner: int, checksum: str) -> Asset | None:
    """``owner``'s asset with this checksum (the row, for writing)."""
    return s.scalars(
        select(Asset).where(Asset.owner_id == owner, Asset.checksum == checksum)
    ).first()


def by_checksums(s: Session, owner: int, checksums: Sequence[str]) -> list[Asset]:
    return list(
        s.scalars(select(Asset).where(Asset.owner_id == owner, Asset.checksum.in_(checksums)))
    )


def ids_by_checksum(s: Session, owner: int, checksums: Sequence[str] | set[str]) -> dict[str, int]:
    """checksum -> id of ``owner``'s assets with these checksums."""
    return {
        c: int(i)
        for c, i in s.execute(
            select(Asset.checksum, Asset.id).where(
                Asset.owner_id == owner, Asset.checksum.in_(checksums)
            )
        )
    }


def by_ids(s: Session, ids: Sequence[int] | set[int]) -> dict[int, Asset]:
    """id -> row of these assets (for writing)."""
    return {a.id: a for a in s.scalars(select(Asset).where(Asset.id.in_(ids)))}


def with_files(s: Session, ids: Sequence[int]) -> set[int]:
    """Which of these assets have a file here (an original only on the server has none)."""
    return set(s.scalars(select(AssetFile.asset_id).where(AssetFile.asset_id.in_(list(ids)))))


# -- element writes ----------------------------------------------------------------------------


def tag(s: Session, asset_id: int, tag_id: int, *, fresh: bool) -> None:
    """Tag an asset (``fresh``: it was just made, it has no tags)."""
    if fresh or s.get(AssetTag, (asset_id, tag_id)) is None:
        s.add(AssetTag(asset_id=asset_id, tag_id=tag_id))


def untag(s: Session, owner: int, asset_id: int, path: str) -> None:
    """Take the owner's tag at ``path`` off an asset (no such tag: nothing)."""
    found = s.scalar(select(Tag.id).where(Tag.owner_id == owner, Tag.path == path))
    if found is not None:
        s.execute(delete(AssetTag).where(AssetTag.asset_id == asset_id, AssetTag.tag_id == found))


def album(s: Session, owner: int, name: str) -> Album | None:
    return s.scalars(select(Album).where(Album.owner_id == owner, Album.name == name)).first()


def album_id(s: Session, owner: int, name: str) -> int | None:
    return s.scalar(select(Album.id).where(Album.owner_id == owner, Album.name == name))


def make_album(s: Session, owner: int, name: str, now: datetime) -> Album:
    row = Album(owner_id=owner, name=name, description="", created_at=now, updated_at=now)
    s.add(row)
    s.flush()
    return row


def add_member(s: Session, album_id: int, asset_id: int, now: datetime) -> None:
    """Put an asset in an album (there already: nothing)."""
    if s.get(AlbumAsset, (album_id, asset_id)) is None:
        s.add(AlbumAsset(album_id=album_id, asset_id=asset_id, added_at=now))


def remove_member(s: Session, album_id: int, asset_id: int) -> None:
    s.execute(
        delete(AlbumAsset).where(AlbumAsset.album_id == album_id, AlbumAsset.asset_id == asset_id)
    )


# -- bulk inserts: assets only the server has (a first sync is mostly this) ------------------

# left out: the id (made here) and the XMP state (none yet: SQL NULL, not JSON null)
FRESH_COLUMNS = [c.key for c in Asset.__table__.columns if c.key not in ("id", "xmp_state")]


def insert_assets(s: Session, owner: int, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Insert asset rows (``FRESH_COLUMNS`` each; one Core executemany, no ORM bookkeeping):
    checksum -> the id each got."""
    conn = s.connection()
    # ids grow: the rows made here are the owner's above the highest id before (read back in
    # one range scan, not an IN list of every checksum: binding those cost more than inserting)
    before = conn.execute(select(func.coalesce(func.max(Asset.id), 0))).scalar_one()
    conn.execute(insert(Asset), list(rows))
    wanted = {r["checksum"] for r in rows}
    found = conn.execute(
        select(Asset.checksum, Asset.id).where(Asset.owner_id == owner, Asset.id > before)
    )
    return {checksum: aid for checksum, aid in found if checksum in wanted}


def insert_rows(
    s: Session,
    *,
    links: Sequence[dict[str, Any]] = (),
    clocks: Sequence[dict[str, Any]] = (),
    tags: Sequence[dict[str, Any]] = (),
    members: Sequence[dict[str, Any]] = (),
) -> None:
    """Insert links to server assets (asset_id, remote_id, filename), field clocks (asset_id,
    field, hlc), taggings (asset_id, tag_id), album members (album_id, asset_id, added_at):
    one Core executemany each."""
    conn = s.connection()
    for table, values in (
        (SyncRemote, links), (SyncClock, clocks), (AssetTag, tags), (AlbumAsset, members),
    ):  # fmt: skip
        if values:
            conn.execute(insert(table), list(values))
