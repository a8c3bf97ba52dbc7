"""Authentication: every route needs a user unless its handler is marked ``@public``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from photodesk.core import Account
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.logs import context
from photodesk.sync.views import error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
F = TypeVar("F")
PUBLIC_PREFIXES = web.AppKey("public_prefixes", list[str])
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PUBLIC_ATTR = "__photodesk_public__"


@dataclass(frozen=True)
class AuthUser:
    """The caller of a request, as handlers see it."""

    id: int
    email: str
    is_admin: bool
    name: str


USER = web.RequestKey("user", AuthUser)
AUTH_VIA = web.RequestKey("auth_via", str)  # api_key | bearer | cookie
PERMISSIONS = web.RequestKey("permissions", tuple)


def public(handler: F) -> F:
    """Mark a handler (function or view class) as reachable without logging in."""
    setattr(handler, _PUBLIC_ATTR, True)
    return handler


def add_public_prefix(app: web.Application, prefix: str) -> None:
    """Let every path under ``prefix`` through without a login (static files of a web page)."""
    app[PUBLIC_PREFIXES].append(prefix)


def current_user(request: web.Request) -> AuthUser:
    """The authenticated caller; only public handlers can run without one."""
    user = request.get(USER)
    if not isinstance(user, AuthUser):
        raise web.HTTPUnauthorized()
    return user


def has_permission(request: web.Request, permission: str) -> bool:
    """Whether the credentials of this request allow ``permission`` (sessions allow all)."""
    perms = request.get(PERMISSIONS, ())
    return "all" in perms or permission in perms


def _auth_user(account: Account) -> AuthUser:
    return AuthUser(
        id=account.id, email=account.email, is_admin=account.is_admin, name=account.name
    )


def _is_public(request: web.Request) -> bool:
    info = request.match_info
    if info.http_exception is not None:
        return True  # unknown route or method: let the router answer 404/405
    handler: Any = info.handler
    if getattr(handler, _PUBLIC_ATTR, False) or getattr(
        getattr(handler, "__func__", None), _PUBLIC_ATTR, False
    ):
        return True
    return any(request.path.startswith(p) for p in request.app[PUBLIC_PREFIXES])


def origins(request: web.Request) -> set[str]:
    """The origins this server is reached at: as requested, and the configured public URL."""
    found = {f"{request.scheme}://{request.host}".lower()}
    public_origin = request.app[CONFIG].public_origin
    if public_origin:
        found.add(public_origin)
    return found


def same_origin(request: web.Request) -> bool:
    """CSRF check for cookie-authenticated writes: same Origin (or Referer), or a custom header."""
    allowed = origins(request)
    origin = request.headers.get("Origin")
    if origin:
        return origin.lower() in allowed
    referer = request.headers.get("Referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}".lower() in allowed
    # Browsers cannot send a custom header cross-site without a CORS preflight we never allow.
    return "X-Requested-With" in request.headers


def credential(value: str | None) -> str | None:
    """A key, token or cookie as sent; one that is not printable ASCII is no credential (bytes
    that are not UTF-8 arrive as surrogates, which nothing downstream can encode)."""
    if value is None:
        return None
    value = value.strip()
    if not value or not value.isascii() or not value.isprintable():
        return None
    return value


def request_cookie(request: web.Request, name: str) -> str | None:
    try:
        return request.cookies.get(name)
    except (ValueError, UnicodeError):  # a header the cookie parser cannot read: no cookie
        return None


async def _identify(request: web.Request) -> tuple[Account, str, tuple[str, ...]] | None:
    accounts = request.app[LIBRARY].accounts
    raw_key = request.headers.get("x-api-key")
    key = credential(raw_key)
    if raw_key and key is None:
        return None
    if key:
        grant = await asyncio.to_thread(accounts.resolve_api_key, key)
        return (grant.user, "api_key", grant.key.permissions) if grant else None
    authz = request.headers.get("Authorization", "")
    if authz[:7].lower() == "bearer ":
        token = credential(authz[7:])
        if token is None:
            return None
        account = await asyncio.to_thread(accounts.resolve_session, token)
        if account is not None:
            return account, "bearer", ("all",)
        grant = await asyncio.to_thread(accounts.resolve_api_key, token)
        return (grant.user, "api_key", grant.key.permissions) if grant else None
    cookie = credential(request_cookie(request, request.app[CONFIG].cookie_name))
    if cookie:
        account = await asyncio.to_thread(accounts.resolve_session, cookie)
        return (account, "cookie", ("all",)) if account else None
    return None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Identify the caller; refuse non-public routes without valid credentials (401 JSON)."""
    found = await _identify(request)
    if found is not None:
        account, via, perms = found
        request[USER] = _auth_user(account)
        request[AUTH_VIA] = via
        request[PERMISSIONS] = perms
        context(request)["user_id"] = account.id
    if _is_public(request):
        return await handler(request)
    if found is None:
        return error_response(
            401, "authentication required", headers={"WWW-Authenticate": "Bearer"}
        )
    if via == "cookie" and request.method in UNSAFE and not same_origin(request):
        return error_response(403, "cross-site request refused")
    return await handler(request)


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str) -> None:
    config = request.app[CONFIG]
    response.set_cookie(
        config.cookie_name,
        token,
        max_age=config.session_days * 86400,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.scheme == "https",
    )


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    config = request.app[CONFIG]
    response.del_cookie(
        config.cookie_name, path="/", samesite="Lax", secure=request.scheme == "https"
    )


def setup(app: web.Application) -> None:
    app[PUBLIC_PREFIXES] = []
