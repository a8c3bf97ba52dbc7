"""Account routes: log in (rate-limited), log out, and who am I."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

from aiohttp import web

from photodesk.core import Account
from photodesk.sync import twofa
from photodesk.sync.auth import (
    AUTH_VIA,
    PERMISSIONS,
    clear_session_cookie,
    current_user,
    public,
    set_session_cookie,
)
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.oidc_config import password_login_refusal
from photodesk.sync.views import http_error, json_object, json_response, read_json

MAX_TRACKED = 100_000  # failure records kept in memory; the oldest go first beyond this
PER_ADDRESS_FACTOR = 4  # an address may fail this many times the per-account limit


class LoginLimiter:
    """Failed logins per (email, address) and per address in a sliding window; in memory."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._fails: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        while q and now - q[0] > self.window_s:
            q.popleft()
        if not q:
            del self._fails[key]
        return q

    def retry_after(self, email: str, address: str) -> float:
        """Seconds until this email may be tried from this address again (0: now)."""
        if self.attempts <= 0:
            return 0.0
        now = time.monotonic()
        waits = []
        for key, limit in (
            ((email, address), self.attempts),
            (("", address), self.attempts * PER_ADDRESS_FACTOR),
        ):
            q = self._recent(key, now)
            if len(q) >= limit:
                waits.append(self.window_s - (now - q[-limit]))
        return max(waits, default=0.0)

    def failed(self, email: str, address: str) -> None:
        now = time.monotonic()
        if len(self._fails) >= MAX_TRACKED:
            for key in list(self._fails)[: MAX_TRACKED // 10]:
                del self._fails[key]
        for key in ((email, address), ("", address)):
            self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, email: str, address: str) -> None:
        self._fails.pop((email, address), None)


LIMITER = web.AppKey("login_limiter", LoginLimiter)


def _login_body(account: Account, token: str) -> dict[str, Any]:
    # Immich's LoginResponseDto, so its web and mobile clients understand it.
    return {
        "accessToken": token,
        "userId": str(account.id),
        "userEmail": account.email,
        "name": account.name,
        "isAdmin": account.is_admin,
        "profileImagePath": "",
        "shouldChangePassword": False,
        "isOnboarded": True,
    }


@public
async def login(request: web.Request) -> web.Response:
    body = json_object(await read_json(request))
    email, password = body.get("email"), body.get("password")
    refusal = password_login_refusal(request.app)
    if refusal:
        raise http_error(403, refusal)
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        raise http_error(400, "email and password are required")
    email = email.strip().lower()
    address = request.remote or "?"
    limiter = request.app[LIMITER]
    wait = limiter.retry_after(email, address)
    if wait > 0:
        raise http_error(
            429, "too many failed logins; try again later", **{"Retry-After": str(int(wait) + 1)}
        )
    limiter.failed(email, address)  # counted before the slow check, so parallel tries count too
    accounts = request.app[LIBRARY].accounts
    account = await asyncio.to_thread(accounts.verify_password, email, password)
    if account is None:
        raise http_error(401, "incorrect email or password")
    pending = await twofa.needs_second_factor(request, account)
    if pending is not None:  # the attempt counts as failed until the code is right too
        return twofa.challenge_response(pending)
    limiter.succeeded(email, address)
    days = request.app[CONFIG].session_days
    token = await asyncio.to_thread(accounts.create_session, account.id, days=days)
    response = json_response(_login_body(account, token), status=201)
    set_session_cookie(response, request, token)
    return response


@public
async def logout(request: web.Request) -> web.Response:
    accounts = request.app[LIBRARY].accounts
    token = None
    authz = request.headers.get("Authorization", "")
    if authz[:7].lower() == "bearer ":
        token = authz[7:].strip()
    token = token or request.cookies.get(request.app[CONFIG].cookie_name)
    if token:
        await asyncio.to_thread(accounts.revoke_session, token)
    response = json_response({"successful": True, "redirectUri": "/"})
    clear_session_cookie(response, request)
    return response


async def me(request: web.Request) -> web.Response:
    user = current_user(request)
    accounts = request.app[LIBRARY].accounts
    account = await asyncio.to_thread(accounts.get, user.id)
    used = await asyncio.to_thread(accounts.usage_bytes, user.id)
    return json_response(
        {
            "id": account.id,
            "email": account.email,
            "name": account.name,
            "isAdmin": account.is_admin,
            "quotaBytes": account.quota_bytes,
            "usageBytes": used,
            "storageLabel": account.storage_label,
            "authVia": request.get(AUTH_VIA),
            "permissions": list(request.get(PERMISSIONS, ())),
        }
    )


async def change_password(request: web.Request) -> web.Response:
    """Change one's own password: needs the current one; every session (this one too) ends."""
    user = current_user(request)
    body = json_object(await read_json(request))
    old, new = body.get("password"), body.get("newPassword")
    if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
        raise http_error(400, "password and newPassword are required")
    address = request.remote or "?"
    limiter = request.app[LIMITER]
    wait = limiter.retry_after(user.email, address)
    if wait > 0:
        raise http_error(429, "too many failed attempts", **{"Retry-After": str(int(wait) + 1)})
    limiter.failed(user.email, address)
    accounts = request.app[LIBRARY].accounts
    if await asyncio.to_thread(accounts.verify_password, user.email, old) is None:
        raise http_error(400, "the current password is wrong")
    limiter.succeeded(user.email, address)
    await asyncio.to_thread(accounts.set_password, user.id, new)
    response = json_response({"successful": True})
    clear_session_cookie(response, request)
    return response


def setup(app: web.Application) -> None:
    config = app[CONFIG]
    app[LIMITER] = LoginLimiter(config.login_attempts, config.login_window_s)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/photodesk/me", me)
    app.router.add_post("/api/photodesk/me/password", change_password)
