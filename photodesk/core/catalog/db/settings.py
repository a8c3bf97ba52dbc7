"""Setting rows: small JSON values by key (paused queues, search thresholds, rounds)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Setting


def get(s: Session, key: str) -> Any:
    """The value stored under ``key``, or None."""
    row = s.get(Setting, key)
    return None if row is None else row.value


def put(s: Session, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` (replacing what was there)."""
    s.merge(Setting(key=key, value=value))


def get_or(s: Session, key: str, default: Any = None) -> Any:
    """The value stored under ``key`` (None when stored so), or ``default`` when none is."""
    row = s.get(Setting, key)
    return default if row is None else row.value


def remove(s: Session, keys: Iterable[str]) -> None:
    """Forget these keys (those not stored: nothing)."""
    for key in keys:
        row = s.get(Setting, key)
        if row is not None:
            s.delete(row)


def read(s: Session, keys: Iterable[str]) -> dict[str, Any]:
    """The stored values of ``keys`` (those stored), in one lean statement: for a read
    session, which has no pending writes to flush first (a sync round reads a dozen settings,
    and the ORM's ``get`` costs twice as much)."""
    wanted = list(keys)
    rows = s.connection().execute(select(Setting.key, Setting.value).where(Setting.key.in_(wanted)))
    return {key: value for key, value in rows}
