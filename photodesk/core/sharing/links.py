"""Public links to an album or a selection of photos: keys, slugs, passwords, what they reach."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, exists, or_, select

from photodesk.core.accounts.service import password_hasher
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db.schema import Album as AlbumRow
from photodesk.core.catalog.db.schema import AlbumAsset, Asset, AssetFile, ShareLinkAsset
from photodesk.core.catalog.db.schema import ShareLink as LinkRow
from photodesk.core.catalog.errors import Conflict, Forbidden, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import AssetRecord

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from photodesk.core.catalog.store import Store

KEY_BYTES = 32  # secrets.token_urlsafe(32): 43 URL-safe characters
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$")
RESERVED_SLUGS = frozenset({"api", "admin", "login", "upload", "share", "static", "new"})
_DURATION_RE = re.compile(r"^\s*(\d{1,12})\s*([smhdw])\s*$", re.IGNORECASE | re.ASCII)
MAX_EXPIRY_DAYS = 100 * 366  # an expiry further away is a mistake (and past datetime's range)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_SELECTION = 10_000
COOKIE_DAYS = 7


@dataclass(frozen=True)
class ShareLink:
    """A public link's facts (the key is the secret that opens it)."""

    id: int
    owner_id: int
    key: str
    slug: str | None
    album_id: int | None
    album_name: str | None
    title: str
    has_password: bool
    expires_at: datetime | None
    allow_download: bool
    allow_upload: bool
    show_metadata: bool
    created_at: datetime
    revoked_at: datetime | None

    def active(self, now: datetime | None = None) -> bool:
        now = now or datetime.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class LinkItem:
    """What a public gallery needs of one photo (no paths, no metadata)."""

    id: int
    kind: str
    mime: str
    width: int | None
    height: int | None
    duration: float | None
    filename: str


@dataclass(frozen=True)
class LinkFile:
    """What serving one file of a link needs (one query; no tags, albums or people)."""

    id: int
    kind: str
    file_type: str
    mime: str
    checksum: str
    path: str
    orientation: int | None
    offline: bool


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """``7d``, ``12h``, ``30m``, ``2w`` or an ISO date/time; empty or ``never``: no expiry."""
    if text is None or text.strip().lower() in ("", "never", "none"):
        return None
    now = now or datetime.now()
    m = _DURATION_RE.match(text)
    if m:
        seconds = int(m.group(1)) * _UNIT_S[m.group(2).lower()]
        if seconds <= 0:
            raise InvalidInput("an expiry must be in the future")
        if seconds > MAX_EXPIRY_DAYS * 86400:
            raise InvalidInput("an expiry may be at most 100 years away (or give none)")
        return now + timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text.strip())
        if when.tzinfo is not None:
            when = when.astimezone().replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"not an expiry: {text[:40]!r} (use e.g. 7d, 12h or 2026-12-31)"
        ) from None
    if when <= now:
        raise InvalidInput("an expiry must be in the future")
    if when - now > timedelta(days=MAX_EXPIRY_DAYS):
        raise InvalidInput("an expiry may be at most 100 years away (or give none)")
    return when


def check_slug(slug: str) -> str:
    """A custom slug: 3-64 lowercase letters, digits and inner dashes, not a reserved word."""
    text = slug.strip().lower()
    if not SLUG_RE.match(text) or "--" in text:
        raise InvalidInput(
            f"not a usable slug: {slug!r} (3-64 lowercase letters, digits and single dashes, "
            "starting and ending with a letter or digit)"
        )
    if text in RESERVED_SLUGS:
        raise InvalidInput(f"the slug {text!r} is reserved")
    return text


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


class LinkService:
    """The public-link half of ``lib.shares`` (``ShareService`` adds albums shared with users)."""

    _store: Store

    def _album(self, s: Session, album_id: int) -> AlbumRow:
        row = s.get(AlbumRow, int(album_id))
        if row is None:
            raise NotFound(f"no album {album_id}")
        return row

    def _owned_album(self, s: Session, owner_id: int, album_id: int) -> AlbumRow:
        row = s.get(AlbumRow, int(album_id))
        if row is None or row.owner_id != owner_id:
            raise NotFound(f"no album {album_id}")  # another user's album is not revealed
        return row

    def _album_ids(self, s: Session, album_id: int) -> list[int]:
        desc = s.scalar(select(AlbumRow.sort_order).where(AlbumRow.id == album_id)) == "desc"
        order = (
            (Asset.taken_at.desc(), Asset.id.desc()) if desc else (Asset.taken_at.asc(), Asset.id)
        )
        return list(
            s.scalars(
                select(Asset.id)
                .join(AlbumAsset, AlbumAsset.asset_id == Asset.id)
                .where(AlbumAsset.album_id == album_id, Asset.trashed_at.is_(None))
                .order_by(*order)
            )
        )

    # ----- public links -----------------------------------------------------------------------
    def create_link(
        self,
        owner_id: int,
        *,
        album_id: int | None = None,
        asset_ids: Sequence[int] | None = None,
        password: str | None = None,
        expires_at: datetime | None = None,
        slug: str | None = None,
        title: str = "",
        allow_download: bool = False,
        allow_upload: bool = False,
        show_metadata: bool = True,
    ) -> ShareLink:
        """A new public link to one of the owner's albums, or to a selection of their photos."""
        if (album_id is None) == (asset_ids is None):
            raise InvalidInput("a link is for an album or for a selection of photos")
        if asset_ids is not None and not 0 < len(asset_ids) <= MAX_SELECTION:
            raise InvalidInput(f"a selection has 1 to {MAX_SELECTION} photos")
        if allow_upload and album_id is None:
            raise InvalidInput("uploads need a link to an album (they land in it)")
        if expires_at is not None and expires_at <= datetime.now():
            raise InvalidInput("an expiry must be in the future")
        if password is not None and not 1 <= len(password) <= 1024:
            raise InvalidInput("a link password has 1 to 1024 characters")
        slug = check_slug(slug) if slug else None
        hashed = password_hasher().hash(password) if password is not None else None
        with self._store.write(Changes(albums=True)) as s:
            name = None
            if album_id is not None:
                name = self._owned_album(s, owner_id, album_id).name
            else:
                wanted = list(dict.fromkeys(int(i) for i in asset_ids or ()))
                owned = set(
                    s.scalars(
                        select(Asset.id).where(Asset.id.in_(wanted), Asset.owner_id == owner_id)
                    )
                )
                missing = [i for i in wanted if i not in owned]
                if missing:
                    raise NotFound(f"no asset with id {missing[0]}")
            if slug and s.scalar(select(LinkRow.id).where(LinkRow.slug == slug)) is not None:
                raise Conflict(f"the slug {slug!r} is taken")
            row = LinkRow(
                owner_id=owner_id,
                album_id=album_id,
                key=secrets.token_urlsafe(KEY_BYTES),
                slug=slug,
                title=title.strip()[:300],
                password_hash=hashed,
                expires_at=expires_at,
                allow_download=allow_download,
                allow_upload=allow_upload,
                show_metadata=show_metadata,
                created_at=datetime.now(),
            )
            s.add(row)
            s.flush()
            if album_id is None:
                for pos, aid in enumerate(wanted):
                    s.add(ShareLinkAsset(link_id=row.id, asset_id=aid, position=pos))
            return _link(row, name)

    def list_links(self, owner_id: int | None = None, *, revoked: bool = False) -> list[ShareLink]:
        """Links (of one owner, or all), newest first; revoked ones only when asked."""
        with self._store.read() as s:
            stmt = (
                select(LinkRow, AlbumRow.name)
                .outerjoin(AlbumRow, AlbumRow.id == LinkRow.album_id)
                .order_by(LinkRow.id.desc())
            )
            if owner_id is not None:
                stmt = stmt.where(LinkRow.owner_id == owner_id)
            if not revoked:
                stmt = stmt.where(LinkRow.revoked_at.is_(None))
            return [_link(row, name) for row, name in s.execute(stmt)]

    def revoke_link(self, id_or_key: int | str, *, owner_id: int | None = None) -> ShareLink:
        """Revoke a link by id, key or slug (only the owner's, when ``owner_id`` is set)."""
        text = str(id_or_key).strip()
        with self._store.write(Changes(albums=True)) as s:
            cond = or_(LinkRow.key == text, LinkRow.slug == text.lower())
            if text.isdigit() and len(text) < 19:
                cond = or_(cond, LinkRow.id == int(text))
            stmt = select(LinkRow).where(cond, LinkRow.revoked_at.is_(None))
            if owner_id is not None:
                stmt = stmt.where(LinkRow.owner_id == owner_id)
            row = s.scalars(stmt).first()
            if row is None:
                raise NotFound(f"no active link {text!r}")
            row.revoked_at = datetime.now()
            row.slug = None  # a revoked slug becomes free for a new link
            s.flush()
            name = s.scalar(select(AlbumRow.name).where(AlbumRow.id == row.album_id))
            return _link(row, name)

    def resolve(self, *, key: str | None = None, slug: str | None = None) -> ShareLink | None:
        """The active link with this key or slug; None when unknown, revoked or expired."""
        if key is not None:
            if not 20 <= len(key) <= 100:
                return None
            cond = LinkRow.key == key
        elif slug is not None:
            if not 3 <= len(slug) <= 64:
                return None
            cond = LinkRow.slug == slug.lower()
        else:
            return None
        with self._store.read() as s:
            found = s.execute(
                select(LinkRow, AlbumRow.name)
                .outerjoin(AlbumRow, AlbumRow.id == LinkRow.album_id)
                .where(cond)
            ).first()
            if found is None:
                return None
            link = _link(found[0], found[1])
        if key is not None and not hmac.compare_digest(link.key, key):
            return None
        return link if link.active() else None

    def check_password(self, link: ShareLink, password: str) -> bool:
        """Whether ``password`` opens the link (Argon2id verify)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        with self._store.read() as s:
            stored = s.scalar(select(LinkRow.password_hash).where(LinkRow.id == link.id))
        if stored is None:
            return True
        try:
            return bool(password_hasher().verify(stored, password[:1024]))
        except (VerificationError, InvalidHashError):
            return False

    def _cookie_key(self, link_id: int) -> bytes:
        with self._store.read() as s:
            stored = s.scalar(select(LinkRow.password_hash).where(LinkRow.id == link_id))
        return (stored or "").encode()

    def unlock_token(self, link: ShareLink, *, days: int = COOKIE_DAYS) -> str:
        """A cookie value proving the password was given: an HMAC keyed by the stored hash, so
        it opens only this link and dies with a password change."""
        until = int(time.time()) + days * 86400
        mac = hmac.new(self._cookie_key(link.id), f"{link.id}:{until}".encode(), "sha256")
        return f"{until}.{mac.hexdigest()}"

    def check_unlock_token(self, link: ShareLink, token: str | None) -> bool:
        if not link.has_password:
            return True
        if not token or len(token) > 200 or "." not in token:
            return False
        until_text, _, mac = token.partition(".")
        if not until_text.isdigit() or int(until_text) < time.time():
            return False
        want = hmac.new(self._cookie_key(link.id), f"{link.id}:{until_text}".encode(), "sha256")
        return hmac.compare_digest(want.hexdigest(), mac)

    def _link_ids(self, s: Session, link: ShareLink) -> list[int]:
        if link.album_id is not None:
            return self._album_ids(s, link.album_id)
        return list(
            s.scalars(
                select(Asset.id)
                .join(ShareLinkAsset, ShareLinkAsset.asset_id == Asset.id)
                .where(ShareLinkAsset.link_id == link.id, Asset.trashed_at.is_(None))
                .order_by(ShareLinkAsset.position)
            )
        )

    def link_items(self, link: ShareLink) -> list[LinkItem]:
        """The link's photos in order, with only what a gallery grid needs."""
        with self._store.read() as s:
            return self._items_of(s, self._link_ids(s, link))

    def _items_of(self, s: Session, ids: list[int]) -> list[LinkItem]:
        """What a gallery grid needs of these photos, in this order."""
        rows: dict[int, LinkItem] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for r in s.execute(
                select(
                    Asset.id,
                    Asset.kind,
                    Asset.mime,
                    Asset.width,
                    Asset.height,
                    Asset.duration,
                    AssetFile.path,
                    Asset.orientation,
                )
                .outerjoin(
                    AssetFile,
                    and_(AssetFile.asset_id == Asset.id, AssetFile.role == "original"),
                )
                .where(Asset.id.in_(chunk))
            ):
                width, height = r.width, r.height
                if r.orientation in (5, 6, 7, 8):
                    width, height = height, width
                name = str(r.path or "").replace("\\", "/").rsplit("/", 1)[-1]
                rows[r.id] = LinkItem(r.id, r.kind, r.mime or "", width, height, r.duration, name)
        return [rows[i] for i in ids if i in rows]

    def link_asset(self, link: ShareLink, asset_id: int) -> AssetRecord:
        """One photo of the link; NotFound for anything outside it (existence not revealed)."""
        with self._store.read() as s:
            if link.album_id is not None:
                inside = select(AlbumAsset.asset_id).where(
                    AlbumAsset.album_id == link.album_id, AlbumAsset.asset_id == int(asset_id)
                )
            else:
                inside = select(ShareLinkAsset.asset_id).where(
                    ShareLinkAsset.link_id == link.id, ShareLinkAsset.asset_id == int(asset_id)
                )
            found = asset_repo.records(s, [int(asset_id)]) if s.scalar(inside) else []
        if not found or found[0].trashed_at is not None:
            raise NotFound(f"no asset with id {asset_id}")
        return found[0]

    def link_file(self, link: ShareLink, asset_id: int) -> LinkFile:
        """The file facts of one photo of the link; NotFound for anything outside it."""
        aid = int(asset_id)
        if link.album_id is not None:
            inside = exists().where(
                AlbumAsset.album_id == link.album_id, AlbumAsset.asset_id == Asset.id
            )
        else:
            inside = exists().where(
                ShareLinkAsset.link_id == link.id, ShareLinkAsset.asset_id == Asset.id
            )
        with self._store.read() as s:
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
                .join(
                    AssetFile,
                    and_(AssetFile.asset_id == Asset.id, AssetFile.role == "original"),
                )
                .where(Asset.id == aid, Asset.trashed_at.is_(None), inside)
            ).first()
        if row is None:
            raise NotFound(f"no asset with id {asset_id}")
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

    def link_records(self, link: ShareLink) -> list[AssetRecord]:
        with self._store.read() as s:
            return asset_repo.records(s, self._link_ids(s, link))

    def add_upload(self, link: ShareLink, asset_id: int) -> None:
        """Put a visitor's upload (already an asset of the link's owner) into the link's album."""
        if link.album_id is None or not link.allow_upload:
            raise Forbidden("this link does not take uploads")
        with self._store.write(Changes(albums=True, assets=frozenset({int(asset_id)}))) as s:
            owner = s.scalar(select(Asset.owner_id).where(Asset.id == int(asset_id)))
            if owner != link.owner_id:
                raise NotFound(f"no asset with id {asset_id}")
            have = s.scalar(
                select(AlbumAsset.asset_id).where(
                    AlbumAsset.album_id == link.album_id, AlbumAsset.asset_id == int(asset_id)
                )
            )
            if have is None:
                s.add(
                    AlbumAsset(
                        album_id=link.album_id, asset_id=int(asset_id), added_at=datetime.now()
                    )
                )
            album = self._album(s, link.album_id)
            if album.cover_asset_id is None:
                album.cover_asset_id = int(asset_id)
