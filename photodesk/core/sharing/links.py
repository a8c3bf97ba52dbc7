"""Public links to an album or a selection of photos: keys, slugs, passwords, what they reach."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from photodesk.core.accounts.service import password_hasher
from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import grants as grant_repo
from photodesk.core.catalog.db import links as link_repo
from photodesk.core.catalog.errors import Conflict, Forbidden, InvalidInput, NotFound
from photodesk.core.catalog.events import Changes
from photodesk.core.catalog.types import AssetRecord, LinkFile, LinkItem, ShareLink

if TYPE_CHECKING:
    from photodesk.core.catalog.db.grants import AlbumFacts
    from photodesk.core.catalog.store import Session, Store

__all__ = ["LinkFile", "LinkItem", "LinkService", "ShareLink", "check_slug", "parse_expiry"]

KEY_BYTES = 32  # secrets.token_urlsafe(32): 43 URL-safe characters
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,62}[a-z0-9])$")
RESERVED_SLUGS = frozenset({"api", "admin", "login", "upload", "share", "static", "new"})
_DURATION_RE = re.compile(r"^\s*(\d{1,12})\s*([smhdw])\s*$", re.IGNORECASE | re.ASCII)
MAX_EXPIRY_DAYS = 100 * 366  # an expiry further away is a mistake (and past datetime's range)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_SELECTION = 10_000
COOKIE_DAYS = 7


def new_link_key() -> str:
    """A link key: 43 URL-safe characters that never start with "-" (which a command line would
    take for an option: ``share revoke -abc``), drawn again rather than patched, so every allowed
    key stays equally likely."""
    while True:
        key = secrets.token_urlsafe(KEY_BYTES)
        if not key.startswith("-"):
            return key


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


class LinkService:
    """The public-link half of ``lib.shares`` (``ShareService`` adds albums shared with users)."""

    _store: Store

    def _album(self, s: Session, album_id: int) -> AlbumFacts:
        found = grant_repo.album(s, album_id)
        if found is None:
            raise NotFound(f"no album {album_id}")
        return found

    def _owned_album(self, s: Session, owner_id: int, album_id: int) -> AlbumFacts:
        found = grant_repo.album(s, album_id)
        if found is None or found.owner_id != owner_id:
            raise NotFound(f"no album {album_id}")  # another user's album is not revealed
        return found

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
            wanted: list[int] = []
            if album_id is not None:
                name = self._owned_album(s, owner_id, album_id).name
            else:
                wanted = list(dict.fromkeys(int(i) for i in asset_ids or ()))
                owned = grant_repo.owned(s, owner_id, wanted)
                missing = [i for i in wanted if i not in owned]
                if missing:
                    raise NotFound(f"no asset with id {missing[0]}")
            if slug and link_repo.slug_taken(s, slug):
                raise Conflict(f"the slug {slug!r} is taken")
            return link_repo.add(
                s,
                owner_id=owner_id,
                album_id=album_id,
                album_name=name,
                asset_ids=wanted,
                key=new_link_key(),
                slug=slug,
                title=title.strip()[:300],
                password_hash=hashed,
                expires_at=expires_at,
                allow_download=allow_download,
                allow_upload=allow_upload,
                show_metadata=show_metadata,
                created_at=datetime.now(),
            )

    def list_links(self, owner_id: int | None = None, *, revoked: bool = False) -> list[ShareLink]:
        """Links (of one owner, or all), newest first; revoked ones only when asked."""
        with self._store.read() as s:
            return link_repo.links(s, owner_id, revoked=revoked)

    def revoke_link(self, id_or_key: int | str, *, owner_id: int | None = None) -> ShareLink:
        """Revoke a link by id, key or slug (only the owner's, when ``owner_id`` is set)."""
        text = str(id_or_key).strip()
        with self._store.write(Changes(albums=True)) as s:
            found = link_repo.revoke(s, text, owner_id, datetime.now())
        if found is None:
            raise NotFound(f"no active link {text!r}")
        return found

    def resolve(self, *, key: str | None = None, slug: str | None = None) -> ShareLink | None:
        """The active link with this key or slug; None when unknown, revoked or expired."""
        if key is not None:
            if not 20 <= len(key) <= 100:
                return None
        elif slug is not None:
            if not 3 <= len(slug) <= 64:
                return None
            slug = slug.lower()
        else:
            return None
        with self._store.read() as s:
            link = link_repo.find(s, key=key, slug=slug)
        if link is None:
            return None
        if key is not None and not hmac.compare_digest(link.key, key):
            return None
        return link if link.active() else None

    def check_password(self, link: ShareLink, password: str) -> bool:
        """Whether ``password`` opens the link (Argon2id verify)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        with self._store.read() as s:
            stored = link_repo.password_hash(s, link.id)
        if stored is None:
            return True
        try:
            return bool(password_hasher().verify(stored, password[:1024]))
        except (VerificationError, InvalidHashError):
            return False

    def _cookie_key(self, link_id: int) -> bytes:
        with self._store.read() as s:
            stored = link_repo.password_hash(s, link_id)
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
            return grant_repo.album_asset_ids(s, link.album_id)
        return link_repo.selection_ids(s, link.id)

    def link_items(self, link: ShareLink) -> list[LinkItem]:
        """The link's photos in order, with only what a gallery grid needs."""
        with self._store.read() as s:
            return grant_repo.link_items(s, self._link_ids(s, link))

    def link_asset(self, link: ShareLink, asset_id: int) -> AssetRecord:
        """One photo of the link; NotFound for anything outside it (existence not revealed)."""
        with self._store.read() as s:
            inside = link_repo.reaches(s, link, int(asset_id))
            found = asset_repo.records(s, [int(asset_id)]) if inside else []
        if not found or found[0].trashed_at is not None:
            raise NotFound(f"no asset with id {asset_id}")
        return found[0]

    def link_file(self, link: ShareLink, asset_id: int) -> LinkFile:
        """The file facts of one photo of the link; NotFound for anything outside it."""
        with self._store.read() as s:
            found = link_repo.file(s, link, int(asset_id))
        if found is None:
            raise NotFound(f"no asset with id {asset_id}")
        return found

    def link_records(self, link: ShareLink) -> list[AssetRecord]:
        with self._store.read() as s:
            return asset_repo.records(s, self._link_ids(s, link))

    def add_upload(self, link: ShareLink, asset_id: int) -> None:
        """Put a visitor's upload (already an asset of the link's owner) into the link's album."""
        if link.album_id is None or not link.allow_upload:
            raise Forbidden("this link does not take uploads")
        with self._store.write(Changes(albums=True, assets=frozenset({int(asset_id)}))) as s:
            if grant_repo.asset_owner(s, int(asset_id)) != link.owner_id:
                raise NotFound(f"no asset with id {asset_id}")
            self._album(s, link.album_id)
            link_repo.add_upload(s, link.album_id, int(asset_id), datetime.now())
