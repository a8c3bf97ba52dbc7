"""Account routes: log in (rate-limited), log out, and who am I."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from photodesk.core import Account
from photodesk.sync import twofa
from photodesk.sync.auth import (
    AUTH_VIA,
    PERMISSIONS,
    clear_session_cookie,
    credential,
    current_user,
    public,
    request_cookie,
    same_origin,
    set_session_cookie,
)
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.login_limiter import LIMITER, LoginLimiter
from photodesk.sync.oidc_config import password_login_refusal
from photodesk.sync.password_work import password_work
from photodesk.sync.password_work import setup as password_work_setup
from photodesk.sync.views import http_error, json_object, json_response, read_json


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
    account = await password_work(request).run(accounts.verify_password, email, password)
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
    """Ends the session of a bearer token or of the session cookie (the cookie's only from this
    server's own pages: the origin rule of every other cookie-authenticated write)."""
    accounts = request.app[LIBRARY].accounts
    token = None
    authz = request.headers.get("Authorization", "")
    if authz[:7].lower() == "bearer ":
        token = credential(authz[7:])
    elif cookie := credential(request_cookie(request, request.app[CONFIG].cookie_name)):
        if not same_origin(request):
            raise http_error(403, "cross-site request refused")
        token = cookie
    if token:
        await asyncio.to_thread(accounts.revoke_session, token)
    response = json_response({"successful": True, "redirectUri": "/"})
    clear_session_cookie(response, request)
    return response


async def me(request: web.Request) -> web.Response:
    """The signed-in user: email, name, admin flag, quota and usage, how they authenticated."""
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
    if await password_work(request).run(accounts.verify_password, user.email, old) is None:
        raise http_error(400, "the current password is wrong")
    limiter.succeeded(user.email, address)
    await password_work(request).run(accounts.set_password, user.id, new)
    response = json_response({"successful": True})
    clear_session_cookie(response, request)
    return response


def setup(app: web.Application) -> None:
    config = app[CONFIG]
    app[LIMITER] = LoginLimiter(config.login_attempts, config.login_window_s)
    password_work_setup(app)
    app.router.add_post("/api/auth/login", login)
    app.router.add_post("/api/auth/logout", logout)
    app.router.add_get("/api/photodesk/me", me)
    app.router.add_post("/api/photodesk/me/password", change_password)
