"""Moving a catalog from its SQLite file into a PostgreSQL database (``db migrate-to``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from photodesk.core.catalog.db.engine import is_database_url, redact
from photodesk.core.catalog.db.transfer import Progress, TransferReport, copy_into
from photodesk.core.catalog.errors import InvalidInput

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store

__all__ = ["Progress", "TransferReport", "migrate_to"]


def migrate_to(store: Store, url: str, progress: Progress | None = None) -> TransferReport:
    """Copy the store's SQLite catalog into the empty PostgreSQL database at ``url``.

    Run it again after an interruption: it resumes. Stop the server first (writes made during
    the copy may be missed; the verification then reports the tables that differ).
    """
    if store.database is not None:
        raise InvalidInput("this library's catalog is already in PostgreSQL")
    if not is_database_url(url):
        raise InvalidInput(f"not a PostgreSQL URL: {redact(url)!r} (postgresql://...)")
    with store.read() as s:
        return copy_into(s, url, source_label=str(store.db_path), progress=progress)
