"""Import error rows: why a file did not become an asset, by path (shown by ``photodesk
status``, retried by the next import of the path)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import ImportError_

CHUNK = 500  # paths per statement, as many as an import batch looks up at once


def clear(s: Session, paths: Sequence[str]) -> None:
    """Forget the errors of ``paths`` (an import is about to try them again)."""
    for i in range(0, len(paths), CHUNK):
        s.execute(delete(ImportError_).where(ImportError_.path.in_(paths[i : i + CHUNK])))


def record(
    s: Session, owner_id: int, path: str, error: str, size: int | None, mtime_ns: int | None
) -> None:
    """Why the file at ``path`` was not imported (no error may be recorded for it yet)."""
    s.execute(
        insert(ImportError_).values(
            owner_id=owner_id,
            path=path,
            error=error,
            size=size,
            mtime_ns=mtime_ns,
            created_at=datetime.now(),
        )
    )


def replace(
    s: Session, owner_id: int, path: str, error: str, size: int | None, mtime_ns: int | None
) -> None:
    """``record``, dropping the error ``path`` had before."""
    s.execute(delete(ImportError_).where(ImportError_.path == path))
    record(s, owner_id, path, error, size, mtime_ns)
