"""Sign-in through an identity provider: link (issuer, subject) to a user, by verified email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from photodesk.core.accounts.service import Account, AccountService, normalize_email
from photodesk.core.catalog.db import users as user_repo
from photodesk.core.catalog.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session, Store


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
            uid = user_repo.identity_user(s, ident.issuer, ident.subject)
            if uid is None:
                uid = self._match(s, ident, auto_register, now)
                user_repo.add_identity(s, uid, ident.issuer, ident.subject, now)
            elif not user_repo.exists(s, uid):  # cannot happen with the foreign key; be safe
                raise Forbidden("the linked account no longer exists")
            user_repo.record_login(s, ident.issuer, ident.subject, ident.email, now)
            user_repo.set_profile(
                s,
                uid,
                name=ident.name.strip()[:200] if ident.name else None,
                quota=(ident.quota_bytes,) if ident.has_quota else None,
            )
        return self._accounts.get(uid)

    def _match(
        self, s: Session, ident: ExternalIdentity, auto_register: bool, now: datetime
    ) -> int:
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
        uid = user_repo.id_by_email(s, email)
        if uid is not None:
            if user_repo.linked_at(s, uid, ident.issuer):
                raise Forbidden(
                    f"the account {email} is already linked to another identity at this provider"
                )
            return uid
        if not auto_register:
            raise Forbidden(
                f"there is no photodesk account for {email}; ask the server's admin to create one"
            )
        return user_repo.add(
            s,
            email=email,
            name=(ident.name or "").strip()[:200],
            is_admin=False,
            password_hash=None,
            quota_bytes=ident.quota_bytes if ident.has_quota else None,
            created_at=now,
        )

    def links(self, user_id: int) -> list[IdentityLink]:
        with self._store.read() as s:
            return [IdentityLink(*row) for row in user_repo.identities(s, user_id)]
