"""Accounts: users, Argon2id passwords, login sessions, API keys, quotas and who may read what."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db import grants as grant_repo
from photodesk.core.catalog.db import users as user_repo
from photodesk.core.catalog.errors import Conflict, InvalidInput, LibraryError, NotFound
from photodesk.core.catalog.types import Account, ApiKeyInfo, AssetQuery, AssetRecord, KeyGrant

if TYPE_CHECKING:
    from photodesk.core.accounts.identities import IdentityService
    from photodesk.core.accounts.pairing_codes import PairingCodes
    from photodesk.core.accounts.totp import TotpService
    from photodesk.core.catalog.db.users import LiveSession
    from photodesk.core.catalog.store import Session, Store
    from photodesk.core.media.thumbnails import ThumbnailStore

_T = TypeVar("_T")
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


class ReadGrants(Protocol):
    """What read access asks of sharing (``lib.shares``): who else may see an asset."""

    def grants_read(self, user_id: int, asset_id: int) -> bool: ...


class AccountService:
    """``lib.accounts``: the server's users and their credentials, and read access to assets."""

    def __init__(self, store: Store, thumbnails: ThumbnailStore, shares: ReadGrants) -> None:
        self._store = store
        self._thumbnails = thumbnails
        self._shares = shares

    @cached_property
    def pairing_codes(self) -> PairingCodes:
        """One-shot codes of browser pairings (kept hashed in the catalog, five minutes)."""
        from photodesk.core.accounts.pairing_codes import PairingCodes

        return PairingCodes(self._store)

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
            if user_repo.id_by_email(s, email) is not None:
                raise Conflict(f"there is already a user {email}")
            if storage_label and user_repo.label_taken(s, storage_label):
                raise Conflict(f"the storage label {storage_label!r} is taken")
            return user_repo.add(
                s,
                email=email,
                name=name.strip(),
                is_admin=admin,
                password_hash=hashed,
                quota_bytes=quota_bytes,
                storage_label=storage_label,
                created_at=datetime.now(),
            )

    def claim_owner(self, email: str, password: str, *, admin: bool = True, name: str = "") -> int:
        """Make the desktop library's hidden owner (``local@photodesk``) a real account that can
        sign in, keeping every photo, album and tag it has (a box that is desktop and server)."""
        email = normalize_email(email)
        _check_password(password)
        hashed = password_hasher().hash(password)
        with self._store.write() as s:
            owner = user_repo.get(s, self._store.owner_id)
            if owner is None or owner.email != HIDDEN_OWNER:
                raise Conflict(
                    f"this library's owner is {owner.email if owner else '?'} already; "
                    "add other users without --owner"
                )
            if user_repo.id_by_email(s, email) is not None:
                raise Conflict(f"there is already a user {email}")
            user_repo.claim(s, owner.id, email, hashed, admin, name.strip())
            return owner.id

    def list_users(self) -> list[Account]:
        with self._store.read() as s:
            return user_repo.all_accounts(s)

    def get(self, user_id: int) -> Account:
        with self._store.read() as s:
            found = user_repo.get(s, user_id)
        if found is None:
            raise NotFound(f"no user with id {user_id}")
        return found

    def by_email(self, email: str) -> Account:
        with self._store.read() as s:
            found = user_repo.by_email(s, email.strip().lower())
        if found is None:
            raise NotFound(f"no user {email}")
        return found

    def set_password(self, user_id: int, password: str) -> None:
        """Change a password; every session of the user ends (API keys stay)."""
        _check_password(password)
        hashed = password_hasher().hash(password)
        with self._store.write() as s:
            self._known(s, user_id)
            user_repo.set_password_hash(s, user_id, hashed)
            user_repo.delete_sessions_of(s, user_id)

    def set_quota(self, user_id: int, quota_bytes: int | None) -> None:
        if quota_bytes is not None and quota_bytes < 0:
            raise InvalidInput("a quota cannot be negative")
        with self._store.write() as s:
            self._known(s, user_id)
            user_repo.set_quota(s, user_id, quota_bytes)

    @staticmethod
    def _known(s: Session, user_id: int) -> None:
        if not user_repo.exists(s, user_id):
            raise NotFound(f"no user with id {user_id}")

    def verify_password(self, email: str, password: str) -> Account | None:
        """The user if the password is right, else None (as slow for unknown users)."""
        ph = password_hasher()
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            email = normalize_email(email)
        except InvalidInput:
            email = ""
        with self._store.read() as s:
            found = user_repo.password_hash(s, email) if email else None
        account, stored = found if found is not None else (None, None)
        try:
            ph.verify(stored or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None or account is None:
            return None
        if ph.check_needs_rehash(stored):
            with self._store.write() as s:
                user_repo.set_password_hash(s, account.id, ph.hash(password))
        return account

    # -- sessions and API keys: a secret's hash finds its row; last-used stamps lag a little -----

    def _resolve(
        self,
        secret: str,
        find: Callable[[Session, str, datetime], tuple[_T, datetime | None] | None],
        touch: Callable[[Session, _T, datetime], None],
    ) -> _T | None:
        """What ``find`` makes of a secret's hash (None: unknown or dead); ``touch`` runs in a
        write when its last-used stamp is older than ``_TOUCH_EVERY``."""
        if not secret or len(secret) > 200:
            return None
        now = datetime.now()
        with self._store.read() as s:
            found = find(s, sha256(secret), now)
        if found is None:
            return None
        value, last = found
        if last is None or now - last > _TOUCH_EVERY:
            with self._store.write() as s:
                touch(s, value, now)
        return value

    def create_session(self, user_id: int, *, days: int = SESSION_DAYS) -> str:
        """A new login session; returns its token (only its hash is kept)."""
        token = secrets.token_urlsafe(32)
        now = datetime.now()
        with self._store.write() as s:
            self._known(s, user_id)
            user_repo.add_session(s, user_id, sha256(token), now, now + timedelta(days=days))
        return token

    def resolve_session(self, token: str) -> Account | None:
        """The user of a live session token, or None; sessions slide forward while used."""

        def find(s: Session, token_hash: str, now: datetime) -> tuple[LiveSession, datetime] | None:
            found = user_repo.session_by_hash(s, token_hash)
            if found is None or found.expires_at <= now:
                return None
            return found, found.last_seen_at

        def slide(s: Session, found: LiveSession, now: datetime) -> None:
            lifetime = found.expires_at - found.last_seen_at
            user_repo.slide_session(s, found.id, now, now + lifetime)

        live = self._resolve(token, find, slide)
        return live.user if live is not None else None

    def revoke_session(self, token: str) -> None:
        with self._store.write() as s:
            user_repo.delete_session(s, sha256(token))

    def purge_sessions(self) -> int:
        """Forget expired sessions; returns how many."""
        with self._store.write() as s:
            return user_repo.purge_sessions(s, datetime.now())

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
            self._known(s, user_id)
            user_repo.add_api_key(
                s,
                user_id,
                name=name.strip()[:200],
                key_hash=sha256(secret),
                prefix=secret[: len(KEY_PREFIX) + 6],
                permissions=list(perms),
                created_at=datetime.now(),
            )
        return secret

    def list_api_keys(self, user_id: int | None = None) -> list[ApiKeyInfo]:
        with self._store.read() as s:
            return user_repo.api_keys(s, user_id)

    def resolve_api_key(self, secret: str) -> KeyGrant | None:
        """The user and key behind a secret, or None."""

        def find(
            s: Session, key_hash: str, now: datetime
        ) -> tuple[KeyGrant, datetime | None] | None:
            grant = user_repo.api_key_by_hash(s, key_hash)
            return None if grant is None else (grant, grant.key.last_used_at)

        def touch(s: Session, grant: KeyGrant, now: datetime) -> None:
            user_repo.touch_api_key(s, grant.key.id, now)

        return self._resolve(secret, find, touch)

    def revoke_api_key(self, key_id: int, *, user_id: int | None = None) -> None:
        """Delete a key (only the given user's, when ``user_id`` is set)."""
        with self._store.write() as s:
            if not user_repo.delete_api_key(s, key_id, user_id):
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
            return user_repo.usage_bytes(s, user_id)

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
            owner = grant_repo.asset_owner(s, asset_id)
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
        with self._store.read() as s:
            return grant_repo.readable_records(
                s, user_id, query or AssetQuery(), offset=offset, include_shared=include_shared
            )

    def thumbnail_path(self, user_id: int, asset_id: int, *, preview: bool = False) -> Path | None:
        """The cached thumbnail (or preview) file of a readable asset, if it has been made."""
        rec = self.readable_asset(user_id, asset_id)
        store = self._thumbnails
        path = store.preview_path(rec.checksum) if preview else store.thumb_path(rec.checksum)
        return path if path.exists() else None
