"""Accounts: users, Argon2id passwords, login sessions, API keys, quotas and who may read what."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, func, select, update

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db.schema import ApiKey, Asset, User, UserSession
from photodesk.core.catalog.errors import Conflict, InvalidInput, LibraryError, NotFound
from photodesk.core.catalog.types import AssetQuery, AssetRecord

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement

    from photodesk.core.accounts.identities import IdentityService
    from photodesk.core.accounts.totp import TotpService
    from photodesk.core.catalog.store import Store
    from photodesk.core.media.thumbnails import ThumbnailStore

MIN_PASSWORD = 8
SESSION_DAYS = 30
KEY_PREFIX = "pd_"
# Immich's permission names; "all" grants every one of them.
PERMISSION_RE = re.compile(r"^[a-z][a-zA-Z0-9_.-]{0,63}$")
_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_TOUCH_EVERY = timedelta(minutes=5)  # how stale last-used stamps may be (saves writes)


class QuotaExceeded(Conflict):
    """An upload would take the user past their storage quota."""


@dataclass(frozen=True)
class Account:
    """A user as front ends see it (never with the password hash)."""

    id: int
    email: str
    name: str
    is_admin: bool
    quota_bytes: int | None
    storage_label: str | None
    has_password: bool
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key's public facts; the secret itself is shown once, when created."""

    id: int
    user_id: int
    name: str
    prefix: str
    permissions: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class KeyGrant:
    """Who an API key acts for, and what it may do."""

    user: Account
    key: ApiKeyInfo


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@cache
def password_hasher() -> Any:
    # Imported lazily: only the server and `users` commands need argon2-cffi.
    try:
        from argon2 import PasswordHasher
    except ImportError as exc:
        raise LibraryError(
            "passwords need argon2-cffi: install photodesk's server extra "
            "(pip install 'photodesk[server]')"
        ) from exc

    return PasswordHasher()  # Argon2id with the library's (RFC 9106 low-memory) parameters


@cache
def _dummy_hash() -> str:
    return str(password_hasher().hash(secrets.token_hex(16)))


HIDDEN_OWNER = "local@photodesk"  # the desktop's owner until someone claims it


def normalize_email(email: str) -> str:
    text = email.strip().lower()
    if not _EMAIL_RE.match(text):
        raise InvalidInput(f"not an email address: {email!r}")
    return text


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidInput("a password may have at most 1024 characters")


def _account(u: User) -> Account:
    return Account(
        id=u.id,
        email=u.email,
        name=u.name or "",
        is_admin=bool(u.is_admin),
        quota_bytes=u.quota_bytes,
        storage_label=u.storage_label,
        has_password=u.password_hash is not None,
        created_at=u.created_at,
    )


def _key_info(k: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=k.id,
        user_id=k.user_id,
        name=k.name,
        prefix=k.prefix,
        permissions=tuple(k.permissions or ()),
        created_at=k.created_at,
        last_used_at=k.last_used_at,
    )


class ReadGrants(Protocol):
    """What read access asks of sharing (``lib.shares``): who else may see an asset."""

    def grants_read(self, user_id: int, asset_id: int) -> bool: ...

    def read_condition(self, user_id: int) -> ColumnElement[bool]: ...


class AccountService:
    """``lib.accounts``: the server's users and their credentials, and read access to assets."""

    def __init__(self, store: Store, thumbnails: ThumbnailStore, shares: ReadGrants) -> None:
        self._store = store
        self._thumbnails = thumbnails
        self._shares = shares

    @cached_property
    def totp(self) -> TotpService:
        """Two-factor sign-in (TOTP and recovery codes) of local accounts."""
        from photodesk.core.accounts.totp import TotpService

        return TotpService(self._store)

    @cached_property
    def identities(self) -> IdentityService:
        """Sign-in through an OpenID provider: identities linked to users."""
        from photodesk.core.accounts.identities import IdentityService

        return IdentityService(self._store, self)

    # -- users -------------------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        password: str | None,
        *,
        admin: bool = False,
        name: str = "",
        quota_bytes: int | None = None,
        storage_label: str | None = None,
    ) -> int:
        """Create a user; returns the new id. A user without a password cannot log in."""
        email = normalize_email(email)
        if password is not None:
            _check_password(password)
        if quota_bytes is not None and quota_bytes < 0:
            raise InvalidInput("a quota cannot be negative")
        if storage_label is not None and not _LABEL_RE.match(storage_label):
            raise InvalidInput(
                "a storage label is letters, digits, '.', '_' and '-' (not starting with '.')"
            )
        hashed = password_hasher().hash(password) if password is not None else None
        with self._store.write() as s:
            if s.scalar(select(User.id).where(User.email == email)) is not None:
                raise Conflict(f"there is already a user {email}")
            if storage_label and s.scalar(
                select(User.id).where(User.storage_label == storage_label)
            ):
                raise Conflict(f"the storage label {storage_label!r} is taken")
            user = User(
                email=email,
                name=name.strip(),
                is_admin=admin,
                password_hash=hashed,
                quota_bytes=quota_bytes,
                storage_label=storage_label,
                created_at=datetime.now(),
            )
            s.add(user)
            s.flush()
            return user.id

    def claim_owner(self, email: str, password: str, *, admin: bool = True, name: str = "") -> int:
        """Make the desktop library's hidden owner (``local@photodesk``) a real account that can
        sign in, keeping every photo, album and tag it has (a box that is desktop and server)."""
        email = normalize_email(email)
        _check_password(password)
        hashed = password_hasher().hash(password)
        with self._store.write() as s:
            owner = s.get(User, self._store.owner_id)
            if owner is None or owner.email != HIDDEN_OWNER:
                raise Conflict(
                    f"this library's owner is {owner.email if owner else '?'} already; "
                    "add other users without --owner"
                )
            if s.scalar(select(User.id).where(User.email == email)) is not None:
                raise Conflict(f"there is already a user {email}")
            owner.email, owner.password_hash = email, hashed
            owner.is_admin = admin or owner.is_admin
            owner.name = name.strip() or owner.name
            return owner.id

    def list_users(self) -> list[Account]:
        with self._store.read() as s:
            return [_account(u) for u in s.scalars(select(User).order_by(User.id))]

    def get(self, user_id: int) -> Account:
        with self._store.read() as s:
            u = s.get(User, user_id)
            if u is None:
                raise NotFound(f"no user with id {user_id}")
            return _account(u)

    def by_email(self, email: str) -> Account:
        with self._store.read() as s:
            u = s.scalars(select(User).where(User.email == email.strip().lower())).first()
            if u is None:
                raise NotFound(f"no user {email}")
            return _account(u)

    def set_password(self, user_id: int, password: str) -> None:
        """Change a password; every session of the user ends (API keys stay)."""
        _check_password(password)
        hashed = password_hasher().hash(password)
        with self._store.write() as s:
            if s.get(User, user_id) is None:
                raise NotFound(f"no user with id {user_id}")
            s.execute(update(User).where(User.id == user_id).values(password_hash=hashed))
            s.execute(delete(UserSession).where(UserSession.user_id == user_id))

    def set_quota(self, user_id: int, quota_bytes: int | None) -> None:
        if quota_bytes is not None and quota_bytes < 0:
            raise InvalidInput("a quota cannot be negative")
        with self._store.write() as s:
            if s.get(User, user_id) is None:
                raise NotFound(f"no user with id {user_id}")
            s.execute(update(User).where(User.id == user_id).values(quota_bytes=quota_bytes))

    def verify_password(self, email: str, password: str) -> Account | None:
        """The user if the password is right, else None (as slow for unknown users)."""
        ph = password_hasher()
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            email = normalize_email(email)
        except InvalidInput:
            email = ""
        with self._store.read() as s:
            u = s.scalars(select(User).where(User.email == email)).first() if email else None
            stored = u.password_hash if u is not None else None
            account = _account(u) if u is not None else None
        try:
            ph.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None or account is None:
            return None
        if ph.check_needs_rehash(stored):
            with self._store.write() as s:
                s.execute(
                    update(User)
                    .where(User.id == account.id)
                    .values(password_hash=ph.hash(password))
                )
        return account

    # -- sessions ----------------------------------------------------------------------------

    def create_session(self, user_id: int, *, days: int = SESSION_DAYS) -> str:
        """A new login session; returns its token (only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now()
        with self._store.write() as s:
            if s.get(User, user_id) is None:
                raise NotFound(f"no user with id {user_id}")
            s.add(
                UserSession(
                    user_id=user_id,
                    token_hash=sha256(token),
                    created_at=now,
                    expires_at=now + timedelta(days=days),
                    last_seen_at=now,
                )
            )
        return token

    def resolve_session(self, token: str) -> Account | None:
        """The user of a live session token, or None; sessions slide forward while used."""
        if not token or len(token) > 200:
            return None
        now = datetime.now()
        with self._store.read() as s:
            row = s.execute(
                select(UserSession, User)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.token_hash == sha256(token))
            ).first()
            if row is None:
                return None
            sess, user = row
            if sess.expires_at <= now:
                return None
            account, sid, seen = _account(user), sess.id, sess.last_seen_at
            lifetime = sess.expires_at - sess.last_seen_at
        if now - seen > _TOUCH_EVERY:
            with self._store.write() as s:
                s.execute(
                    update(UserSession)
                    .where(UserSession.id == sid)
                    .values(last_seen_at=now, expires_at=now + lifetime)
                )
        return account

    def revoke_session(self, token: str) -> None:
        with self._store.write() as s:
            s.execute(delete(UserSession).where(UserSession.token_hash == sha256(token)))

    def purge_sessions(self) -> int:
        """Forget expired sessions; returns how many."""
        with self._store.write() as s:
            result = s.execute(delete(UserSession).where(UserSession.expires_at <= datetime.now()))
            return int(getattr(result, "rowcount", 0) or 0)

    # -- API keys ----------------------------------------------------------------------------

    def create_api_key(
        self, user_id: int, name: str = "", permissions: tuple[str, ...] | list[str] = ("all",)
    ) -> str:
        """A new API key for the user; returns the secret, which is never shown again."""
        perms = tuple(dict.fromkeys(permissions))
        if not perms:
            raise InvalidInput("an API key needs at least one permission")
        bad = [p for p in perms if not PERMISSION_RE.match(p)]
        if bad:
            raise InvalidInput(f"not a permission name: {bad[0]!r}")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._store.write() as s:
            if s.get(User, user_id) is None:
                raise NotFound(f"no user with id {user_id}")
            s.add(
                ApiKey(
                    user_id=user_id,
                    name=name.strip()[:200],
                    key_hash=sha256(secret),
                    prefix=secret[: len(KEY_PREFIX) + 6],
                    permissions=list(perms),
                    created_at=datetime.now(),
                )
            )
        return secret

    def list_api_keys(self, user_id: int | None = None) -> list[ApiKeyInfo]:
        with self._store.read() as s:
            stmt = select(ApiKey).order_by(ApiKey.id)
            if user_id is not None:
                stmt = stmt.where(ApiKey.user_id == user_id)
            return [_key_info(k) for k in s.scalars(stmt)]

    def resolve_api_key(self, secret: str) -> KeyGrant | None:
        """The user and key behind a secret, or None."""
        if not secret or len(secret) > 200:
            return None
        now = datetime.now()
        with self._store.read() as s:
            row = s.execute(
                select(ApiKey, User)
                .join(User, User.id == ApiKey.user_id)
                .where(ApiKey.key_hash == sha256(secret))
            ).first()
            if row is None:
                return None
            key, user = row
            grant = KeyGrant(user=_account(user), key=_key_info(key))
        last = grant.key.last_used_at
        if last is None or now - last > _TOUCH_EVERY:
            with self._store.write() as s:
                s.execute(update(ApiKey).where(ApiKey.id == grant.key.id).values(last_used_at=now))
        return grant

    def revoke_api_key(self, key_id: int, *, user_id: int | None = None) -> None:
        """Delete a key (only the given user's, when ``user_id`` is set)."""
        with self._store.write() as s:
            stmt = delete(ApiKey).where(ApiKey.id == key_id)
            if user_id is not None:
                stmt = stmt.where(ApiKey.user_id == user_id)
            if not getattr(s.execute(stmt), "rowcount", 0):
                raise NotFound(f"no API key with id {key_id}")

    # -- storage -----------------------------------------------------------------------------

    def storage_dir(self, user_id: int, root: Path | None = None) -> Path:
        """The folder under ``root`` (default: the library's originals/) for this user's uploads."""
        account = self.get(user_id)
        label = account.storage_label or f"user-{account.id}"
        base = (root or self._store.originals_dir).resolve()
        folder = (base / label).resolve()
        if folder.parent != base:  # labels are validated; this guards against old rows
            raise InvalidInput(f"bad storage label {label!r}")
        return folder

    def usage_bytes(self, user_id: int) -> int:
        with self._store.read() as s:
            return int(s.scalar(select(func.sum(Asset.size)).where(Asset.owner_id == user_id)) or 0)

    def check_quota(self, user_id: int, incoming_bytes: int) -> None:
        """Raise QuotaExceeded if ``incoming_bytes`` more would pass the user's quota."""
        quota = self.get(user_id).quota_bytes
        if quota is None:
            return
        used = self.usage_bytes(user_id)
        if used + max(0, incoming_bytes) > quota:
            raise QuotaExceeded(
                f"this upload needs {incoming_bytes} bytes; "
                f"{max(0, quota - used)} of the {quota}-byte quota are left"
            )

    # -- read access: the one place that decides who may see an asset -----------------------

    def can_read(self, user_id: int, asset_id: int) -> bool:
        """Whether this user may see this asset: owns it, or an album shared with them holds it."""
        with self._store.read() as s:
            owner = s.scalar(select(Asset.owner_id).where(Asset.id == asset_id))
        if owner is None:
            return False
        return owner == user_id or self._shares.grants_read(user_id, asset_id)

    def readable_asset(self, user_id: int, asset_id: int) -> AssetRecord:
        """The asset if the user may read it; NotFound otherwise (existence is not revealed)."""
        if not self.can_read(user_id, asset_id):
            raise NotFound(f"no asset with id {asset_id}")
        with self._store.read() as s:
            found = asset_repo.records(s, [asset_id])
        if not found:
            raise NotFound(f"no asset with id {asset_id}")
        return found[0]

    def readable_assets(
        self,
        user_id: int,
        query: AssetQuery | None = None,
        *,
        offset: int = 0,
        include_shared: bool = False,
    ) -> list[AssetRecord]:
        """The user's assets matching ``query`` (a page: ``query.limit`` rows after ``offset``);
        ``include_shared`` adds the others ``can_read`` lets them see (albums shared with them)."""
        also = self._shares.read_condition(user_id) if include_shared else None
        stmt = asset_repo.filtered(user_id, query or AssetQuery(), also=also)
        if offset:
            stmt = stmt.offset(offset)
        with self._store.read() as s:
            ids: list[int] = list(s.scalars(stmt))
            return asset_repo.records(s, ids)

    def thumbnail_path(self, user_id: int, asset_id: int, *, preview: bool = False) -> Path | None:
        """The cached thumbnail (or preview) file of a readable asset, if it has been made."""
        rec = self.readable_asset(user_id, asset_id)
        store = self._thumbnails
        path = store.preview_path(rec.checksum) if preview else store.thumb_path(rec.checksum)
        return path if path.exists() else None
