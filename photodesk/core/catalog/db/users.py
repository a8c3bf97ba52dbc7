"""User rows and their credentials: accounts, login sessions, API keys, storage used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import ApiKey, Asset, User, UserIdentity, UserSession
from photodesk.core.catalog.types import Account, ApiKeyInfo, KeyGrant


def account(u: User) -> Account:
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


def key_info(k: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=k.id,
        user_id=k.user_id,
        name=k.name,
        prefix=k.prefix,
        permissions=tuple(k.permissions or ()),
        created_at=k.created_at,
        last_used_at=k.last_used_at,
    )


# -- users --------------------------------------------------------------------------------------


def exists(s: Session, user_id: int) -> bool:
    return s.get(User, int(user_id)) is not None


def get(s: Session, user_id: int) -> Account | None:
    u = s.get(User, int(user_id))
    return None if u is None else account(u)


def by_email(s: Session, email: str) -> Account | None:
    u = s.scalars(select(User).where(User.email == email)).first()
    return None if u is None else account(u)


def id_by_email(s: Session, email: str) -> int | None:
    return s.scalar(select(User.id).where(User.email == email))


def label_taken(s: Session, storage_label: str) -> bool:
    return s.scalar(select(User.id).where(User.storage_label == storage_label)) is not None


def all_accounts(s: Session) -> list[Account]:
    return [account(u) for u in s.scalars(select(User).order_by(User.id))]


def add(
    s: Session,
    *,
    email: str,
    name: str,
    is_admin: bool,
    password_hash: str | None,
    quota_bytes: int | None,
    storage_label: str | None = None,
    created_at: datetime,
) -> int:
    """A new user row; returns its id."""
    user = User(
        email=email,
        name=name,
        is_admin=is_admin,
        password_hash=password_hash,
        quota_bytes=quota_bytes,
        storage_label=storage_label,
        created_at=created_at,
    )
    s.add(user)
    s.flush()
    return user.id


def claim(s: Session, user_id: int, email: str, password_hash: str, admin: bool, name: str) -> None:
    """Give an existing user (the hidden owner) an email and a password."""
    u = s.get(User, int(user_id))
    assert u is not None
    u.email, u.password_hash = email, password_hash
    u.is_admin = admin or u.is_admin
    u.name = name or u.name


def set_profile(
    s: Session, user_id: int, *, name: str | None, quota: tuple[int | None] | None
) -> None:
    """Set the name (when given) and the quota (when ``quota`` is a 1-tuple)."""
    u = s.get(User, int(user_id))
    if u is None:
        return
    if name is not None:
        u.name = name
    if quota is not None:
        u.quota_bytes = quota[0]


def password_hash(s: Session, email: str) -> tuple[Account, str | None] | None:
    u = s.scalars(select(User).where(User.email == email)).first()
    return None if u is None else (account(u), u.password_hash)


def set_password_hash(s: Session, user_id: int, hashed: str) -> None:
    s.execute(update(User).where(User.id == user_id).values(password_hash=hashed))


def set_quota(s: Session, user_id: int, quota_bytes: int | None) -> None:
    s.execute(update(User).where(User.id == user_id).values(quota_bytes=quota_bytes))


def usage_bytes(s: Session, user_id: int) -> int:
    return int(s.scalar(select(func.sum(Asset.size)).where(Asset.owner_id == user_id)) or 0)


# -- login sessions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveSession:
    """A session found by its token hash: whose it is and when it was last seen."""

    id: int
    user: Account
    expires_at: datetime
    last_seen_at: datetime


def add_session(
    s: Session, user_id: int, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    s.add(
        UserSession(
            user_id=user_id,
            token_hash=token_hash,
            created_at=now,
            expires_at=expires_at,
            last_seen_at=now,
        )
    )


def session_by_hash(s: Session, token_hash: str) -> LiveSession | None:
    row = s.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    sess, user = row
    return LiveSession(sess.id, account(user), sess.expires_at, sess.last_seen_at)


def slide_session(s: Session, session_id: int, now: datetime, expires_at: datetime) -> None:
    s.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .values(last_seen_at=now, expires_at=expires_at)
    )


def delete_session(s: Session, token_hash: str) -> None:
    s.execute(delete(UserSession).where(UserSession.token_hash == token_hash))


def delete_sessions_of(s: Session, user_id: int) -> None:
    s.execute(delete(UserSession).where(UserSession.user_id == user_id))


def purge_sessions(s: Session, now: datetime) -> int:
    """Delete the sessions expired at ``now``; returns how many."""
    result = s.execute(delete(UserSession).where(UserSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


# -- API keys -----------------------------------------------------------------------------------


def add_api_key(
    s: Session,
    user_id: int,
    *,
    name: str,
    key_hash: str,
    prefix: str,
    permissions: list[str],
    created_at: datetime,
) -> None:
    s.add(
        ApiKey(
            user_id=user_id,
            name=name,
            key_hash=key_hash,
            prefix=prefix,
            permissions=permissions,
            created_at=created_at,
        )
    )


def api_keys(s: Session, user_id: int | None = None) -> list[ApiKeyInfo]:
    stmt = select(ApiKey).order_by(ApiKey.id)
    if user_id is not None:
        stmt = stmt.where(ApiKey.user_id == user_id)
    return [key_info(k) for k in s.scalars(stmt)]


def api_key_by_hash(s: Session, key_hash: str) -> KeyGrant | None:
    row = s.execute(
        select(ApiKey, User)
        .join(User, User.id == ApiKey.user_id)
        .where(ApiKey.key_hash == key_hash)
    ).first()
    if row is None:
        return None
    key, user = row
    return KeyGrant(user=account(user), key=key_info(key))


def touch_api_key(s: Session, key_id: int, now: datetime) -> None:
    s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def delete_api_key(s: Session, key_id: int, user_id: int | None = None) -> bool:
    """Delete a key (only ``user_id``'s, when given); False if there was none."""
    stmt = delete(ApiKey).where(ApiKey.id == key_id)
    if user_id is not None:
        stmt = stmt.where(ApiKey.user_id == user_id)
    return bool(getattr(s.execute(stmt), "rowcount", 0))


# -- identities at an OpenID provider -----------------------------------------------------------


def identity_user(s: Session, issuer: str, subject: str) -> int | None:
    """The user linked to (issuer, subject), if any."""
    return s.scalar(
        select(UserIdentity.user_id).where(
            UserIdentity.issuer == issuer, UserIdentity.subject == subject
        )
    )


def linked_at(s: Session, user_id: int, issuer: str) -> bool:
    """Whether the user already has an identity at this provider."""
    found = s.scalar(
        select(UserIdentity.id).where(
            UserIdentity.user_id == user_id, UserIdentity.issuer == issuer
        )
    )
    return found is not None


def add_identity(s: Session, user_id: int, issuer: str, subject: str, now: datetime) -> None:
    s.add(UserIdentity(user_id=user_id, issuer=issuer, subject=subject, created_at=now))
    s.flush()


def record_login(s: Session, issuer: str, subject: str, email: str | None, now: datetime) -> None:
    s.execute(
        update(UserIdentity)
        .where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
        .values(email=email, last_login_at=now)
    )


IdentityRow = tuple[int, str, str, "str | None", datetime, "datetime | None"]


def identities(s: Session, user_id: int) -> list[IdentityRow]:
    """(user id, issuer, subject, email, created, last login) of the user's identities."""
    rows = s.scalars(
        select(UserIdentity).where(UserIdentity.user_id == user_id).order_by(UserIdentity.id)
    )
    return [(r.user_id, r.issuer, r.subject, r.email, r.created_at, r.last_login_at) for r in rows]
