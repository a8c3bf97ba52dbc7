"""Sign-in through an identity provider: link (issuer, subject) to a user, by verified email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from photodesk.core.accounts.service import Account, AccountService, normalize_email
from photodesk.core.catalog.db.schema import User, UserIdentity
from photodesk.core.catalog.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Store


@dataclass(frozen=True)
class ExternalIdentity:
    """What a provider vouched for in a validated ID token (and its userinfo)."""

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None  # from the configured name claim; None: not sent
    quota_bytes: int | None = None
    has_quota: bool = False  # the quota claim was sent (quota_bytes None then means unlimited)


@dataclass(frozen=True)
class IdentityLink:
    user_id: int
    issuer: str
    subject: str
    email: str | None
    created_at: datetime
    last_login_at: datetime | None


class IdentityService:
    """``lib.accounts.identities``: which user an external identity signs in as."""

    def __init__(self, store: Store, accounts: AccountService) -> None:
        self._store = store
        self._accounts = accounts

    def sign_in(self, ident: ExternalIdentity, *, auto_register: bool) -> Account:
        """The user this identity is, linking or creating one when allowed; Forbidden if not.

        A known (issuer, subject) signs in as its user whatever its email says now. An unknown
        one is linked to the user with the same email only if the provider marked the email as
        verified; without such a user, one is created only with ``auto_register``.
        """
        if not ident.issuer or not ident.subject or len(ident.subject) > 255:
            raise InvalidInput("the identity has no issuer or subject")
        now = datetime.now()
        with self._store.write() as s:
            link = s.scalars(
                select(UserIdentity).where(
                    UserIdentity.issuer == ident.issuer, UserIdentity.subject == ident.subject
                )
            ).first()
            user: User | None
            if link is None:
                user = self._match(s, ident, auto_register, now)
                link = UserIdentity(
                    user_id=user.id, issuer=ident.issuer, subject=ident.subject, created_at=now
                )
                s.add(link)
            else:
                user = s.get(User, link.user_id)
            if user is None:  # cannot happen with the foreign key; be safe
                raise Forbidden("the linked account no longer exists")
            link.email = ident.email
            link.last_login_at = now
            if ident.name:
                user.name = ident.name.strip()[:200]
            if ident.has_quota:
                user.quota_bytes = ident.quota_bytes
            s.flush()
            uid = user.id
        return self._accounts.get(uid)

    def _match(
        self, s: Session, ident: ExternalIdentity, auto_register: bool, now: datetime
    ) -> User:
        if not ident.email:
            raise Forbidden(
                "the identity provider sent no email address, so this sign-in cannot be matched "
                "to a photodesk account (ask for the 'email' scope)"
            )
        try:
            email = normalize_email(ident.email)
        except InvalidInput as exc:
            raise Forbidden(f"the identity provider sent a bad email address: {exc}") from exc
        if not ident.email_verified:
            raise Forbidden(
                f"the identity provider has not verified the email address {email}; "
                "photodesk links accounts only by a verified email"
            )
        user = s.scalars(select(User).where(User.email == email)).first()
        if user is not None:
            other = s.scalar(
                select(UserIdentity.id).where(
                    UserIdentity.user_id == user.id, UserIdentity.issuer == ident.issuer
                )
            )
            if other is not None:
                raise Forbidden(
                    f"the account {email} is already linked to another identity at this provider"
                )
            return user
        if not auto_register:
            raise Forbidden(
                f"there is no photodesk account for {email}; ask the server's admin to create one"
            )
        user = User(
            email=email,
            name=(ident.name or "").strip()[:200],
            is_admin=False,
            password_hash=None,
            quota_bytes=ident.quota_bytes if ident.has_quota else None,
            created_at=now,
        )
        s.add(user)
        s.flush()
        return user

    def links(self, user_id: int) -> list[IdentityLink]:
        with self._store.read() as s:
            rows = s.scalars(
                select(UserIdentity)
                .where(UserIdentity.user_id == user_id)
                .order_by(UserIdentity.id)
            )
            return [
                IdentityLink(r.user_id, r.issuer, r.subject, r.email, r.created_at, r.last_login_at)
                for r in rows
            ]
