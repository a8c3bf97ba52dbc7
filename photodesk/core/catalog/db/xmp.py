"""XMP sidecar rows: an asset's sync state, its sidecar file rows, queued write-back jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetFile, Job


def asset(s: Session, asset_id: int) -> Asset | None:
    """The asset's row, read-only for the caller."""
    return s.get(Asset, asset_id)


def files_of(s: Session, asset_id: int, roles: Sequence[str]) -> list[tuple[str, str, Any, bool]]:
    """(role, path, checksum, missing) of the asset's files in ``roles``."""
    rows = s.execute(
        select(AssetFile.role, AssetFile.path, AssetFile.checksum, AssetFile.missing).where(
            AssetFile.asset_id == asset_id, AssetFile.role.in_(roles)
        )
    )
    return [(r, p, c, bool(m)) for r, p, c, m in rows]


def states(s: Session, ids: Sequence[int]) -> list[tuple[int, int, dict[str, Any] | None]]:
    """(id, owner id, xmp_state) of these assets."""
    rows = s.execute(select(Asset.id, Asset.owner_id, Asset.xmp_state).where(Asset.id.in_(ids)))
    return [(int(i), int(o), st) for i, o, st in rows]


def set_state(
    s: Session, asset_id: int, state: dict[str, Any], *, written_at: datetime | None = None
) -> None:
    """Store the asset's XMP sync state (and when its sidecar was written, if it was)."""
    values: dict[str, Any] = {"xmp_state": state}
    if written_at is not None:
        values["xmp_written_at"] = written_at
    s.execute(update(Asset).where(Asset.id == asset_id).values(**values))


def queued_targets(s: Session, kind: str, targets: Sequence[str]) -> set[str]:
    """Those of ``targets`` with a job of ``kind`` queued already."""
    return set(
        s.scalars(
            select(Job.target).where(
                Job.kind == kind, Job.state == "queued", Job.target.in_(targets)
            )
        )
    )


def queued_jobs(s: Session, kinds: Sequence[str], owner_id: int) -> list[int]:
    """Ids of the owner's queued jobs of these kinds."""
    return list(
        s.scalars(
            select(Job.id).where(
                Job.kind.in_(kinds), Job.state == "queued", Job.owner_id == owner_id
            )
        )
    )


def record_sidecar(
    s: Session, asset_id: int, path: str, size: int, mtime_ns: int, sha1: str
) -> None:
    """Point the asset's sidecar row at ``path`` with this stat and checksum."""
    row = s.scalars(select(AssetFile).where(AssetFile.path == path)).first()
    if row is None:
        s.execute(
            insert(AssetFile).values(
                asset_id=asset_id,
                role="sidecar",
                path=path,
                size=size,
                mtime_ns=mtime_ns,
                checksum=sha1,
                copied=False,
                missing=False,
            )
        )
    else:
        row.size, row.mtime_ns, row.checksum, row.missing = size, mtime_ns, sha1, False


def online_assets(s: Session, owner_id: int) -> list[int]:
    """The owner's assets whose files are reachable, by id."""
    return list(
        s.scalars(
            select(Asset.id)
            .where(Asset.owner_id == owner_id, Asset.offline.is_(False))
            .order_by(Asset.id)
        )
    )


def sidecar_files(s: Session, owner_id: int, paths: Sequence[str]) -> list[tuple[Any, ...]]:
    """(path, asset id, size, mtime_ns, checksum, owner id) of the owner's sidecar rows at
    ``paths``."""
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(paths), 500):
        rows += [
            tuple(r)
            for r in s.execute(
                select(
                    AssetFile.path,
                    AssetFile.asset_id,
                    AssetFile.size,
                    AssetFile.mtime_ns,
                    AssetFile.checksum,
                    Asset.owner_id,
                )
                .join(Asset, Asset.id == AssetFile.asset_id)
                .where(
                    AssetFile.path.in_(paths[start : start + 500]),
                    AssetFile.role == "sidecar",
                    Asset.owner_id == owner_id,
                )
            )
        ]
    return rows


def set_file_stat(s: Session, path: str, size: int, mtime_ns: int) -> None:
    s.execute(update(AssetFile).where(AssetFile.path == path).values(size=size, mtime_ns=mtime_ns))
