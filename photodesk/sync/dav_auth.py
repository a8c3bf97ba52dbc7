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

from photodesk.core import Account
from photodesk.sync.auth import AUTH_VIA, PERMISSIONS, USER, AuthUser, current_user
from photodesk.sync.keys import LIBRARY
from photodesk.sync.login_limiter import LIMITER
from photodesk.sync.logs import context
from photodesk.sync.oidc_config import password_login_refusal
from photodesk.sync.password_work import password_work
from photodesk.sync.views import ApiError, http_error

REALM = 'Basic realm="photodesk", charset="UTF-8"'
PASSWORD_CACHE_S = 60.0
CACHE_MAX = 10_000
UPLOAD_PERMISSION = "asset.upload"
CACHE = web.AppKey("dav_password_cache", dict)
PENDING = web.AppKey("dav_sign_ins_pending", dict)


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


def _by_app_password(lib: Any, email: str, secret: str) -> Account | bool | None:
    """The account if ``secret`` is its app password; False for any other API key; None if
    ``secret`` is no API key at all (it may be the account password)."""
    grant = lib.accounts.resolve_api_key(secret)
    if grant is None:
        return None
    perms = grant.key.permissions
    if grant.user.email.lower() == email and ("all" in perms or UPLOAD_PERMISSION in perms):
        return grant.user
    return False


def _by_password(lib: Any, email: str, secret: str) -> Account | None:
    accounts = lib.accounts
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
    key = hashlib.sha256(f"{email}\0{secret}".encode()).hexdigest()
    user = _cached(request, key)
    if user is None:
        # One check per credentials at a time: an app's parallel uploads wait for the first.
        lock = request.app[PENDING].setdefault(key, asyncio.Lock())
        try:
            async with lock:
                user = _cached(request, key) or await _sign_in(request, email, secret, key)
        finally:
            request.app[PENDING].pop(key, None)
    request[USER] = user
    context(request)["user_id"] = user.id
    return user


def _cached(request: web.Request, key: str) -> AuthUser | None:
    hit = request.app[CACHE].get(key)
    return hit[0] if hit is not None and hit[1] > time.monotonic() else None


async def _sign_in(request: web.Request, email: str, secret: str, key: str) -> AuthUser:
    address = request.remote or "?"
    limiter = request.app[LIMITER]
    wait = limiter.retry_after(email, address)
    if wait > 0:
        raise http_error(
            429, "too many failed sign-ins; try again later", **{"Retry-After": str(int(wait) + 1)}
        )
    lib = request.app[LIBRARY]
    found = await password_work(request).run(_by_app_password, lib, email, secret)
    if found is None and password_login_refusal(request.app) is None:
        limiter.failed(email, address)  # counted before the slow hash, so parallel guesses count
        found = await password_work(request).run(_by_password, lib, email, secret)
        if found is not None:
            limiter.succeeded(email, address)
    elif not found:
        limiter.failed(email, address)
    if not isinstance(found, Account):
        raise challenge("incorrect email or app password")
    user = _user(found)
    cache = request.app[CACHE]
    if len(cache) >= CACHE_MAX:
        cache.clear()
    cache[key] = (user, time.monotonic() + PASSWORD_CACHE_S)
    return user


def setup(app: web.Application) -> None:
    app[CACHE] = {}
    app[PENDING] = {}
