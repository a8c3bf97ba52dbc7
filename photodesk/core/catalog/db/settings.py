"""Setting rows: small JSON values by key (paused queues, search thresholds, rounds)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Setting


def get(s: Session, key: str) -> Any:
    """The value stored under ``key``, or None."""
    row = s.get(Setting, key)
    return None if row is None else row.value


def put(s: Session, key: str, value: Any) -> None:
    """Store ``value`` under ``key`` (replacing what was there)."""
    s.merge(Setting(key=key, value=value))
