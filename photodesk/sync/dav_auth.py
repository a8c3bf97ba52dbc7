"""Sign-in for WebDAV: HTTP Basic with the account's email and an app password (an API key).

The account password works too, but only for accounts without a second factor and where
password sign-in is allowed. Failed attempts count in the login limiter; a verified password
is remembered for a minute, as Basic sends it with every request and its hash is slow.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from typing import Any

from aiohttp import web

from photodesk.core.accounts.service import Account
from photodesk.sync.auth import AUTH_VIA, PERMISSIONS, USER, AuthUser, current_user
from photodesk.sync.keys import LIBRARY
from photodesk.sync.logs import context
from photodesk.sync.oidc_config import password_login_refusal
from photodesk.sync.users import LIMITER
from photodesk.sync.views import ApiError, http_error

REALM = 'Basic realm="photodesk", charset="UTF-8"'
PASSWORD_CACHE_S = 60.0
CACHE_MAX = 10_000
UPLOAD_PERMISSION = "asset.upload"
CACHE = web.AppKey("dav_password_cache", dict)


def challenge(message: str = "sign in with your email and an app password") -> ApiError:
    return http_error(401, message, **{"WWW-Authenticate": REALM})


def _credentials(request: web.Request) -> tuple[str, str]:
    authz = request.headers.get("Authorization", "")
    if authz[:6].lower() != "basic ":
        raise challenge()
    try:
        text = base64.b64decode(authz[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise challenge("the Basic credentials are not valid base64 UTF-8") from None
    email, sep, secret = text.partition(":")
    if not sep or not email or not secret:
        raise challenge("the Basic credentials need an email and a password")
    return email.strip().lower(), secret


def _verify(lib: Any, email: str, secret: str, passwords: bool) -> Account | None:
    accounts = lib.accounts
    grant = accounts.resolve_api_key(secret)
    if grant is not None:
        perms = grant.key.permissions
        if grant.user.email.lower() == email and ("all" in perms or UPLOAD_PERMISSION in perms):
            return grant.user
        return None
    if not passwords:
        return None
    account = accounts.verify_password(email, secret)
    if account is None or accounts.totp.is_enabled(account.id):
        return None  # with a second factor, only app passwords sign in here
    return account


def _user(account: Account) -> AuthUser:
    return AuthUser(account.id, account.email, account.is_admin, account.name)


async def dav_user(request: web.Request) -> AuthUser:
    """The account of a WebDAV request, or a 401 with a Basic challenge (429 when limited)."""
    if request.get(AUTH_VIA) in ("api_key", "bearer"):  # an API key header also works
        if "all" in request.get(PERMISSIONS, ()) or UPLOAD_PERMISSION in request.get(
            PERMISSIONS, ()
        ):
            return current_user(request)
        raise http_error(403, f'Missing required permission: "{UPLOAD_PERMISSION}"')
    email, secret = _credentials(request)
    cache: dict[str, tuple[AuthUser, float]] = request.app[CACHE]
    key = hashlib.sha256(f"{email}\0{secret}".encode()).hexdigest()
    now = time.monotonic()
    hit = cache.get(key)
    if hit is not None and hit[1] > now:
        user = hit[0]
    else:
        address = request.remote or "?"
        limiter = request.app[LIMITER]
        wait = limiter.retry_after(email, address)
        if wait > 0:
            raise http_error(
                429,
                "too many failed sign-ins; try again later",
                **{"Retry-After": str(int(wait) + 1)},
            )
        limiter.failed(email, address)  # counted first, so parallel guesses count too
        passwords = password_login_refusal(request.app) is None
        account = await asyncio.to_thread(_verify, request.app[LIBRARY], email, secret, passwords)
        if account is None:
            raise challenge("incorrect email or app password")
        limiter.forgive(email, address)
        user = _user(account)
        if len(cache) >= CACHE_MAX:
            cache.clear()
        cache[key] = (user, now + PASSWORD_CACHE_S)
    request[USER] = user
    context(request)["user_id"] = user.id
    return user


def setup(app: web.Application) -> None:
    app[CACHE] = {}
