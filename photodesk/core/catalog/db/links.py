"""Public link rows: create, find by key or slug, revoke, and what a link reaches."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Album, AlbumAsset, Asset, AssetFile, ShareLinkAsset
from photodesk.core.catalog.db.schema import ShareLink as LinkRow
from photodesk.core.catalog.types import LinkFile, ShareLink


def _link(row: LinkRow, album_name: str | None) -> ShareLink:
    return ShareLink(
        id=row.id,
        owner_id=row.owner_id,
        key=row.key,
        slug=row.slug,
        album_id=row.album_id,
        album_name=album_name,
        title=row.title or album_name or "",
        has_password=row.password_hash is not None,
        expires_at=row.expires_at,
        allow_download=bool(row.allow_download),
        allow_upload=bool(row.allow_upload),
        show_metadata=bool(row.show_metadata),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def slug_taken(s: Session, slug: str) -> bool:
    return s.scalar(select(LinkRow.id).where(LinkRow.slug == slug)) is not None


def add(
    s: Session,
    *,
    owner_id: int,
    album_id: int | None,
    album_name: str | None,
    asset_ids: Sequence[int],
    key: str,
    slug: str | None,
    title: str,
    password_hash: str | None,
    expires_at: datetime | None,
    allow_download: bool,
    allow_upload: bool,
    show_metadata: bool,
    created_at: datetime,
) -> ShareLink:
    """A new link row (with its selection of assets, in order)."""
    row = LinkRow(
        owner_id=owner_id,
        album_id=album_id,
        key=key,
        slug=slug,
        title=title,
        password_hash=password_hash,
        expires_at=expires_at,
        allow_download=allow_download,
        allow_upload=allow_upload,
        show_metadata=show_metadata,
        created_at=created_at,
    )
    s.add(row)
    s.flush()
    for pos, aid in enumerate(asset_ids):
        s.add(ShareLinkAsset(link_id=row.id, asset_id=aid, position=pos))
    return _link(row, album_name)


def links(s: Session, owner_id: int | None, *, revoked: bool) -> list[ShareLink]:
    """Links (of one owner, or all), newest first; revoked ones only when asked."""
    stmt = (
        select(LinkRow, Album.name)
        .outerjoin(Album, Album.id == LinkRow.album_id)
        .order_by(LinkRow.id.desc())
    )
    if owner_id is not None:
        stmt = stmt.where(LinkRow.owner_id == owner_id)
    if not revoked:
        stmt = stmt.where(LinkRow.revoked_at.is_(None))
    return [_link(row, name) for row, name in s.execute(stmt)]


def revoke(s: Session, text: str, owner_id: int | None, now: datetime) -> ShareLink | None:
    """Revoke the active link whose key, slug or id is ``text`` (only the owner's, when
    ``owner_id`` is set); its slug becomes free. None if there is no such link."""
    cond = or_(LinkRow.key == text, LinkRow.slug == text.lower())
    if text.isdigit() and len(text) < 19:
        cond = or_(cond, LinkRow.id == int(text))
    stmt = select(LinkRow).where(cond, LinkRow.revoked_at.is_(None))
    if owner_id is not None:
        stmt = stmt.where(LinkRow.owner_id == owner_id)
    row = s.scalars(stmt).first()
    if row is None:
        return None
    row.revoked_at = now
    row.slug = None
    s.flush()
    name = s.scalar(select(Album.name).where(Album.id == row.album_id))
    return _link(row, name)


def find(s: Session, *, key: str | None = None, slug: str | None = None) -> ShareLink | None:
    """The link with this key (or else this slug), revoked and expired ones included."""
    cond: ColumnElement[bool] = LinkRow.key == key if key is not None else LinkRow.slug == slug
    found = s.execute(
        select(LinkRow, Album.name).outerjoin(Album, Album.id == LinkRow.album_id).where(cond)
    ).first()
    return None if found is None else _link(found[0], found[1])


def password_hash(s: Session, link_id: int) -> str | None:
    return s.scalar(select(LinkRow.password_hash).where(LinkRow.id == link_id))


def selection_ids(s: Session, link_id: int) -> list[int]:
    """The untrashed assets of a link to a selection, in its order."""
    return list(
        s.scalars(
            select(Asset.id)
            .join(ShareLinkAsset, ShareLinkAsset.asset_id == Asset.id)
            .where(ShareLinkAsset.link_id == link_id, Asset.trashed_at.is_(None))
            .order_by(ShareLinkAsset.position)
        )
    )


def _inside(link: ShareLink) -> ColumnElement[bool]:
    if link.album_id is not None:
        return exists().where(AlbumAsset.album_id == link.album_id, AlbumAsset.asset_id == Asset.id)
    return exists().where(ShareLinkAsset.link_id == link.id, ShareLinkAsset.asset_id == Asset.id)


def reaches(s: Session, link: ShareLink, asset_id: int) -> bool:
    """Whether the asset is in the link's album or selection (trashed or not)."""
    if link.album_id is not None:
        inside = select(AlbumAsset.asset_id).where(
            AlbumAsset.album_id == link.album_id, AlbumAsset.asset_id == int(asset_id)
        )
    else:
        inside = select(ShareLinkAsset.asset_id).where(
            ShareLinkAsset.link_id == link.id, ShareLinkAsset.asset_id == int(asset_id)
        )
    return bool(s.scalar(inside))


def file(s: Session, link: ShareLink, asset_id: int) -> LinkFile | None:
    """The file facts of an untrashed asset the link reaches."""
    row = s.execute(
        select(
            Asset.id,
            Asset.kind,
            Asset.file_type,
            Asset.mime,
            Asset.checksum,
            AssetFile.path,
            Asset.orientation,
            Asset.offline,
        )
        .join(AssetFile, and_(AssetFile.asset_id == Asset.id, AssetFile.role == "original"))
        .where(Asset.id == int(asset_id), Asset.trashed_at.is_(None), _inside(link))
    ).first()
    if row is None:
        return None
    return LinkFile(
        row.id,
        row.kind,
        row.file_type or "",
        row.mime or "",
        row.checksum,
        row.path,
        row.orientation,
        bool(row.offline),
    )


def add_upload(s: Session, album_id: int, asset_id: int, now: datetime) -> None:
    """Put an asset into the album (once); it becomes the cover of an album without one."""
    have = s.scalar(
        select(AlbumAsset.asset_id).where(
            AlbumAsset.album_id == album_id, AlbumAsset.asset_id == asset_id
        )
    )
    if have is None:
        s.add(AlbumAsset(album_id=album_id, asset_id=asset_id, added_at=now))
    album = s.get(Album, album_id)
    if album is not None and album.cover_asset_id is None:
        album.cover_asset_id = asset_id
