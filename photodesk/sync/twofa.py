"""Two-factor sign-in over HTTP: the pending second step of a login, and enrolling with TOTP."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from photodesk.core import Account
from photodesk.sync.auth import AUTH_VIA, current_user, public, set_session_cookie
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.login_limiter import LIMITER, LoginLimiter
from photodesk.sync.password_work import password_work
from photodesk.sync.views import http_error, json_object, json_response, read_json

PENDING_TTL_S = 300.0  # the code must follow the password within five minutes
MAX_CODE_TRIES = 5  # wrong codes per pending login before the password is needed again
MAX_PENDING = 10_000
ISSUER = "photodesk"  # the name authenticator apps show


@dataclass
class PendingLogin:
    user_id: int
    email: str
    expires: float
    tries: int = 0


class PendingLogins:
    """Logins whose password was right and that wait for the second factor; in memory."""

    def __init__(self, ttl_s: float = PENDING_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._items: dict[str, PendingLogin] = {}

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def create(self, account: Account) -> str:
        now = time.monotonic()
        if len(self._items) >= MAX_PENDING:
            for key in [k for k, p in self._items.items() if p.expires <= now]:
                del self._items[key]
            while len(self._items) >= MAX_PENDING:
                del self._items[next(iter(self._items))]
        token = secrets.token_urlsafe(32)
        self._items[self._key(token)] = PendingLogin(account.id, account.email, now + self.ttl_s)
        return token

    def get(self, token: str) -> PendingLogin | None:
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        key = self._key(token)
        pending = self._items.get(key)
        if pending is not None and pending.expires <= time.monotonic():
            del self._items[key]
            return None
        return pending

    def drop(self, token: str) -> None:
        self._items.pop(self._key(token), None)


PENDING = web.AppKey("pending_logins", PendingLogins)


def _limiter(request: web.Request) -> LoginLimiter:
    return request.app[LIMITER]


async def needs_second_factor(request: web.Request, account: Account) -> str | None:
    """A pending-login token when ``account`` has two-factor on (the password was right)."""
    totp = request.app[LIBRARY].accounts.totp
    if not await asyncio.to_thread(totp.is_enabled, account.id):
        return None
    return request.app[PENDING].create(account)


def challenge_response(token: str) -> web.Response:
    """The answer to a right password of a user with two-factor on: 401 and a pending token."""
    return json_response(
        {
            "message": "a second factor is required: send the code from the authenticator app "
            "(or a recovery code) with this pendingToken to /api/auth/login/totp",
            "error": "Unauthorized",
            "statusCode": 401,
            "secondFactorRequired": True,
            "pendingToken": token,
            "expiresIn": int(PENDING_TTL_S),
        },
        status=401,
    )


async def complete(request: web.Request, token: Any, code: Any) -> Account:
    """The account once ``code`` (TOTP or recovery) fits the pending login; else an HTTP error."""
    pendings = request.app[PENDING]
    pending = pendings.get(token) if isinstance(token, str) else None
    if pending is None:
        raise http_error(401, "this sign-in has expired; enter your password again")
    if not isinstance(code, str) or not code.strip():
        raise http_error(400, "enter the code from the authenticator app or a recovery code")
    address = request.remote or "?"
    limiter = _limiter(request)
    wait = limiter.retry_after(pending.email, address)
    if wait > 0:
        raise http_error(
            429, "too many failed attempts; try again later", **{"Retry-After": str(int(wait) + 1)}
        )
    limiter.failed(pending.email, address)
    accounts = request.app[LIBRARY].accounts
    if not await asyncio.to_thread(accounts.totp.verify, pending.user_id, code):
        pending.tries += 1
        if pending.tries >= MAX_CODE_TRIES:
            pendings.drop(token)
            raise http_error(401, "too many wrong codes; enter your password again")
        raise http_error(401, "that code is not right")
    pendings.drop(token)
    limiter.succeeded(pending.email, address)
    return await asyncio.to_thread(accounts.get, pending.user_id)


async def start_session(request: web.Request, account: Account) -> str:
    days = request.app[CONFIG].session_days
    return await asyncio.to_thread(
        request.app[LIBRARY].accounts.create_session, account.id, days=days
    )


@public
async def login_totp(request: web.Request) -> web.Response:
    """Second step of a JSON login: ``{"pendingToken", "code"}`` -> a session (201)."""
    from photodesk.sync.users import _login_body

    body = json_object(await read_json(request))
    account = await complete(request, body.get("pendingToken"), body.get("code"))
    token = await start_session(request, account)
    response = json_response(_login_body(account, token), status=201)
    set_session_cookie(response, request, token)
    return response


def _session_user(request: web.Request) -> int:
    user = current_user(request)
    if request.get(AUTH_VIA) not in ("cookie", "bearer"):
        raise http_error(403, "two-factor settings need a signed-in session, not an API key")
    return user.id


async def _check_identity(request: web.Request, body: dict[str, Any]) -> None:
    """Turning two-factor off or renewing codes needs the password or a current code."""
    user = current_user(request)
    address = request.remote or "?"
    limiter = _limiter(request)
    wait = limiter.retry_after(user.email, address)
    if wait > 0:
        raise http_error(429, "too many failed attempts", **{"Retry-After": str(int(wait) + 1)})
    limiter.failed(user.email, address)
    accounts = request.app[LIBRARY].accounts
    password, code = body.get("password"), body.get("code")
    ok = False
    if isinstance(code, str) and code.strip():
        ok = await asyncio.to_thread(accounts.totp.verify, user.id, code)
    elif isinstance(password, str) and password:
        account = await password_work(request).run(accounts.verify_password, user.email, password)
        ok = account is not None
    else:
        raise http_error(400, "send your password or a current code")
    if not ok:
        raise http_error(400, "the password or code is not right")
    limiter.succeeded(user.email, address)


async def status(request: web.Request) -> web.Response:
    """Whether two-factor sign-in is on, and how many recovery codes are left."""
    uid = current_user(request).id
    st = await asyncio.to_thread(request.app[LIBRARY].accounts.totp.status, uid)
    return json_response(
        {
            "enabled": st.enabled,
            "recoveryCodesLeft": st.recovery_codes_left,
            "enabledAt": st.enabled_at,
        },
        headers={"Cache-Control": "no-store"},
    )


async def begin(request: web.Request) -> web.Response:
    """Start turning two-factor on: a new TOTP secret and its otpauth:// URI (a session only)."""
    uid = _session_user(request)
    setup = await asyncio.to_thread(request.app[LIBRARY].accounts.totp.begin, uid, ISSUER)
    body: dict[str, Any] = {"secret": setup.secret, "otpauthUri": setup.uri}
    svg = qr_svg(setup.uri)
    if svg is not None:
        body["qrSvg"] = svg
    return json_response(body, headers={"Cache-Control": "no-store"})


async def confirm(request: web.Request) -> web.Response:
    """Body: `{"code"}` from the authenticator app; turns two-factor on and returns recovery
    codes."""
    uid = _session_user(request)
    body = json_object(await read_json(request))
    code = body.get("code")
    if not isinstance(code, str):
        raise http_error(400, "code is required")
    codes = await asyncio.to_thread(request.app[LIBRARY].accounts.totp.confirm, uid, code)
    return json_response(
        {"enabled": True, "recoveryCodes": codes}, headers={"Cache-Control": "no-store"}
    )


async def disable(request: web.Request) -> web.Response:
    """Body: `{"password"}` or `{"code"}`; turns two-factor off."""
    uid = _session_user(request)
    await _check_identity(request, json_object(await read_json(request)))
    was_on = await asyncio.to_thread(request.app[LIBRARY].accounts.totp.disable, uid)
    return json_response({"enabled": False, "wasEnabled": was_on})


async def recovery_codes(request: web.Request) -> web.Response:
    """Body: `{"password"}` or `{"code"}`; new recovery codes (the old ones stop working)."""
    uid = _session_user(request)
    await _check_identity(request, json_object(await read_json(request)))
    codes = await asyncio.to_thread(request.app[LIBRARY].accounts.totp.new_recovery_codes, uid)
    return json_response({"recoveryCodes": codes}, headers={"Cache-Control": "no-store"})


def qr_svg(text: str) -> str | None:
    """The text as a QR code in SVG, when the optional ``qrcode`` package is installed."""
    try:
        import qrcode
        import qrcode.image.svg
    except ImportError:
        return None
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return str(image.to_string(encoding="unicode"))


def setup(app: web.Application) -> None:
    app[PENDING] = PendingLogins()
    app.router.add_post("/api/auth/login/totp", login_totp)
    app.router.add_get("/api/photodesk/me/2fa", status)
    app.router.add_post("/api/photodesk/me/2fa/begin", begin)
    app.router.add_post("/api/photodesk/me/2fa/confirm", confirm)
    app.router.add_post("/api/photodesk/me/2fa/disable", disable)
    app.router.add_post("/api/photodesk/me/2fa/recovery-codes", recovery_codes)
