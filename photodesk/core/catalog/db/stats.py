"""Library statistics: counts of a user's assets by kind and state, and of their collections."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Album, Asset, ImportError_, Person, Stack, Tag
from photodesk.core.catalog.types import LibraryStats


def library_stats(s: Session, owner: int) -> LibraryStats:
    mine = Asset.owner_id == owner

    def count(*conds: Any) -> int:
        return int(s.scalar(select(func.count()).select_from(Asset).where(mine, *conds)) or 0)

    def rows(table: Any) -> int:
        return int(
            s.scalar(select(func.count()).select_from(table).where(table.owner_id == owner)) or 0
        )

    live: ColumnElement[bool] = Asset.trashed_at.is_(None)
    oldest, newest, total = s.execute(
        select(func.min(Asset.taken_at), func.max(Asset.taken_at), func.sum(Asset.size)).where(
            mine, live
        )
    ).one()
    return LibraryStats(
        assets=count(live),
        photos=count(live, Asset.kind == "photo"),
        raws=count(live, Asset.kind == "raw"),
        videos=count(live, Asset.kind == "video"),
        total_bytes=int(total or 0),
        with_gps=count(live, Asset.latitude.is_not(None)),
        favorites=count(live, Asset.favorite),
        archived=count(live, Asset.archived),
        trashed=count(Asset.trashed_at.is_not(None)),
        offline=count(Asset.offline),
        stacks=rows(Stack),
        albums=rows(Album),
        tags=rows(Tag),
        people=rows(Person),
        import_errors=rows(ImportError_),
        oldest=oldest,
        newest=newest,
    )
