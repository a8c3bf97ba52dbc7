"""``lib.maintenance``: check the library, and back its catalog up."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from photodesk.core.maintenance import backups
from photodesk.core.maintenance.check import DEFAULT_GRACE, CheckReport, Progress, check

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store
    from photodesk.core.maintenance import transfer


class MaintenanceService:
    """Integrity checks (``photodesk check``) and catalog backups (``photodesk backup``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def check(
        self,
        *,
        verify_checksums: bool = False,
        fix: bool = False,
        progress: Progress | None = None,
        grace: timedelta = DEFAULT_GRACE,
    ) -> CheckReport:
        """Check the catalog and the library's files; with ``fix``, repair what is safe to
        repair (see ``maintenance.check.check``)."""
        return check(
            self._store, verify_checksums=verify_checksums, fix=fix, progress=progress, grace=grace
        )

    def backup(self, keep: int = backups.DEFAULT_KEEP) -> Path:
        """Back the catalog up now and keep only the newest ``keep`` backups."""
        return backups.backup_catalog(self._store, keep=keep)

    def backup_if_due(self) -> Path | None:
        """The daily automatic backup: made only if the newest is a day old and the catalog
        changed since."""
        return backups.backup_if_due(self._store)

    def backups(self) -> list[Path]:
        """The catalog backups, oldest first."""
        return backups.list_backups(self._store)

    def migrate_to(
        self, url: str, progress: transfer.Progress | None = None
    ) -> transfer.TransferReport:
        """Copy this SQLite catalog into the empty PostgreSQL database at ``url`` (resumable,
        verified by counts and checksums); ``photodesk db migrate-to``."""
        from photodesk.core.maintenance import transfer  # the PostgreSQL dialect, on demand

        return transfer.migrate_to(self._store, url, progress)
