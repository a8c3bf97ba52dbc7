"""Watched-folder rows: the folders whose files the catalog follows, and the accounts' inboxes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import WatchedFolder as WatchedRow
from photodesk.core.catalog.types import WatchedFolder


def _watched(row: WatchedRow) -> WatchedFolder:
    return WatchedFolder(
        row.id, row.path, row.copy, row.enabled, row.polling, row.last_scan_at,
        row.owner_id, bool(row.inbox), bool(row.delete_after_import),
    )  # fmt: skip


def visible(s: Session, owner_id: int) -> list[WatchedFolder]:
    """The owner's watched folders and every account's inboxes, by path."""
    rows = s.scalars(
        select(WatchedRow)
        .where((WatchedRow.owner_id == owner_id) | WatchedRow.inbox.is_(True))
        .order_by(WatchedRow.path)
    )
    return [_watched(r) for r in rows]


def add(
    s: Session,
    *,
    owner_id: int,
    path: str,
    copy: bool,
    polling: bool | None,
    inbox: bool,
    delete_after_import: bool,
) -> WatchedFolder:
    """A new, enabled watched folder."""
    row = WatchedRow(
        owner_id=owner_id,
        path=path,
        copy=copy,
        enabled=True,
        polling=polling,
        inbox=inbox,
        delete_after_import=delete_after_import,
    )
    s.add(row)
    s.flush()
    return _watched(row)


def remove(s: Session, folder_id: int) -> None:
    s.execute(delete(WatchedRow).where(WatchedRow.id == folder_id))


def mark_scanned(s: Session, folder_id: int, when: datetime) -> None:
    s.execute(update(WatchedRow).where(WatchedRow.id == folder_id).values(last_scan_at=when))
