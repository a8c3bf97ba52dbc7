"""A paired desktop's links to its server's assets (``sync_remote``) and the queries of what is
only on the server: thumbnails to fetch, originals to keep offline, a downloaded original
attached. Also the server's answer of which files make a thumbnail a device asks for.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy import delete as sql_delete
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.grants import album_grants_read
from photodesk.core.catalog.db.schema import Album, AlbumAsset, Asset, AssetFile, User
from photodesk.core.catalog.db.sync_log import SyncRemote


def linked(s: Session, remote_ids: Collection[int]) -> dict[int, int]:
    """remote id -> local asset id of the assets linked to these server assets."""
    return {
        int(r): int(a)
        for r, a in s.execute(
            select(SyncRemote.remote_id, SyncRemote.asset_id).where(
                SyncRemote.remote_id.in_(list(remote_ids))
            )
        ).all()
    }


def linked_assets(s: Session, asset_ids: Collection[int]) -> set[int]:
    """Which of these local assets are linked to a server asset."""
    return set(
        s.scalars(select(SyncRemote.asset_id).where(SyncRemote.asset_id.in_(set(asset_ids))))
    )


def relink(s: Session, links: Sequence[tuple[int, int, str]]) -> None:
    """Link local assets to server assets: (asset id, remote id, file name there) each; an
    asset's old link goes."""
    if not links:
        return
    s.execute(sql_delete(SyncRemote).where(SyncRemote.asset_id.in_([a for a, _, _ in links])))
    s.add_all(SyncRemote(asset_id=a, remote_id=r, filename=f) for a, r, f in links)
    s.flush()


def link_upload(s: Session, asset_id: int, remote_id: int, filename: str) -> None:
    """Link an uploaded asset to what the server made of it (an older link to that goes)."""
    s.execute(sql_delete(SyncRemote).where(SyncRemote.remote_id == remote_id))
    s.add(SyncRemote(asset_id=asset_id, remote_id=remote_id, filename=filename))


def unlink_all(s: Session) -> None:
    s.query(SyncRemote).delete()


def link(s: Session, asset_id: int) -> tuple[int, str] | None:
    """(remote id, file name there) of an asset linked to the server (None: not linked)."""
    row = s.get(SyncRemote, asset_id)
    return None if row is None else (int(row.remote_id), row.filename)


def _remote_only() -> ColumnElement[bool]:
    return ~exists().where(AssetFile.asset_id == Asset.id)


def without_thumbnail(s: Session) -> list[Any]:
    """(id, checksum, remote_id) of linked assets with no file and no thumbnail here: own
    photos and those of albums shared with the account."""
    return list(
        s.execute(
            select(Asset.id, Asset.checksum, SyncRemote.remote_id)
            .join(SyncRemote, SyncRemote.asset_id == Asset.id)
            .where(~Asset.has_thumbnail, _remote_only())
            .order_by(Asset.id)
        ).all()
    )


def mark_thumbnails(s: Session, asset_ids: Collection[int]) -> None:
    s.execute(
        update(Asset)
        .where(Asset.id.in_(list(asset_ids)))
        .values(has_thumbnail=True)
        .execution_options(synchronize_session=False)
    )


def remote_only(s: Session, owner: int, albums: Sequence[str] | None = None) -> list[Any]:
    """(id, checksum, remote_id, filename, file_type) of ``owner``'s linked assets not in the
    trash with no file here (in one of the owner's ``albums``, if given)."""
    query = (
        select(Asset.id, Asset.checksum, SyncRemote.remote_id, SyncRemote.filename, Asset.file_type)
        .join(SyncRemote, SyncRemote.asset_id == Asset.id)
        .where(Asset.owner_id == owner, Asset.trashed_at.is_(None), _remote_only())
        .order_by(Asset.id)
    )
    if albums is not None:
        query = query.where(
            exists()
            .where(AlbumAsset.asset_id == Asset.id, AlbumAsset.album_id == Album.id)
            .where(Album.owner_id == owner, Album.name.in_(albums))
        )
    return list(s.execute(query).all())


def has_file(s: Session, asset_id: int) -> bool:
    found = s.scalar(select(AssetFile.id).where(AssetFile.asset_id == asset_id).limit(1))
    return found is not None


def attach_original(s: Session, asset_id: int, path: str, size: int, mtime_ns: int) -> bool:
    """A downloaded original becomes the asset's file (False: no such asset)."""
    asset = s.get(Asset, asset_id)
    if asset is None:
        return False
    s.add(
        AssetFile(
            asset_id=asset_id, role="original", path=path, size=size, mtime_ns=mtime_ns,
            checksum=asset.checksum, copied=True,
        )
    )  # fmt: skip
    asset.offline = False
    return True


def thumbnail_sources(
    s: Session, user_id: int, ids: Sequence[int]
) -> list[tuple[int, str, str, str, str, int | None]]:
    """(id, checksum, original path, file type, kind, orientation) of the user's own assets
    and those of albums shared with them."""
    rows = s.execute(
        select(
            Asset.id,
            Asset.checksum,
            func.min(AssetFile.path),
            Asset.file_type,
            Asset.kind,
            Asset.orientation,
        )
        .outerjoin(AssetFile, (AssetFile.asset_id == Asset.id) & (AssetFile.role == "original"))
        .where(Asset.id.in_(list(ids)), or_(Asset.owner_id == user_id, album_grants_read(user_id)))
        .group_by(Asset.id)
    ).all()
    return [(int(r[0]), r[1], r[2] or "", r[3], r[4], r[5]) for r in rows]


def take_account(s: Session, owner: int, email: str, name: str) -> bool:
    """Pairing: the library's owner becomes the server account ``email`` (its name too, when
    given). False: another user of this library has that email."""
    user = s.get(User, owner)
    assert user is not None
    other = s.scalar(select(User.id).where(User.email == email, User.id != owner))
    if other is not None:
        return False
    user.email, user.name = email, name or user.name
    return True
