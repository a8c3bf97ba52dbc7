"""Sign in with an OpenID provider: authorization code flow with PKCE, state and nonce checked."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from photodesk.core import ExternalIdentity, Forbidden, InvalidInput
from photodesk.sync import login, twofa
from photodesk.sync.auth import credential, public, request_cookie, set_session_cookie
from photodesk.sync.keys import CONFIG, LIBRARY
from photodesk.sync.oidc_client import OidcClient, OidcError, new_auth_request
from photodesk.sync.oidc_config import OIDC_SETTINGS, OidcSettings, parse_quota, settings_for

log = logging.getLogger(__name__)
START = "/auth/oidc/login"
CALLBACK = "/auth/oidc/callback"
BROWSER_COOKIE = "photodesk_oidc"  # ties a started sign-in to the browser that started it
MAX_FLOWS = 10_000


@dataclass(frozen=True)
class Flow:
    """A sign-in waiting for the provider to send the browser back (kept server-side)."""

    nonce: str
    code_verifier: str
    browser: str  # SHA-256 of the browser cookie
    next_url: str
    redirect_uri: str
    expires: float


class Flows:
    """Started sign-ins by their ``state``; each is taken once, and expires."""

    def __init__(self) -> None:
        self._items: dict[str, Flow] = {}

    def put(self, state: str, flow: Flow) -> None:
        now = time.monotonic()
        if len(self._items) >= MAX_FLOWS:
            for key in [k for k, f in self._items.items() if f.expires <= now]:
                del self._items[key]
            while len(self._items) >= MAX_FLOWS:
                del self._items[next(iter(self._items))]
        self._items[state] = flow

    def take(self, state: str) -> Flow | None:
        flow = self._items.pop(state, None)
        if flow is None or flow.expires <= time.monotonic():
            return None
        return flow


CLIENT = web.AppKey("oidc_client", OidcClient)
FLOWS = web.AppKey("oidc_flows", Flows)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def redirect_uri(request: web.Request, settings: OidcSettings) -> str:
    if settings.redirect_uri:
        return settings.redirect_uri
    base = request.app[CONFIG].public_url or f"{request.scheme}://{request.host}"
    return base.rstrip("/") + CALLBACK


def _refuse(request: web.Request, message: str, status: int) -> web.Response:
    log.warning("OIDC sign-in refused (%s): %s", status, message)
    response = login.render(request, error=message, status=status, next_url="")
    response.del_cookie(BROWSER_COOKIE, path="/auth/oidc")
    return response


@public
async def start(request: web.Request) -> web.Response:
    """Send the browser to the provider with a fresh state, nonce and PKCE challenge."""
    settings = request.app[OIDC_SETTINGS]
    try:
        meta = await request.app[CLIENT].metadata()
    except OidcError as exc:
        return _refuse(request, exc.args[0], exc.status)
    uri = redirect_uri(request, settings)
    auth = new_auth_request(settings, meta["authorization_endpoint"], uri)
    browser = credential(request_cookie(request, BROWSER_COOKIE)) or ""
    if len(browser) < 32 or len(browser) > 100:
        browser = secrets.token_urlsafe(32)
    request.app[FLOWS].put(
        auth.state,
        Flow(
            nonce=auth.nonce,
            code_verifier=auth.code_verifier,
            browser=_digest(browser),
            next_url=login.safe_next(request.query.get("next")),
            redirect_uri=uri,
            expires=time.monotonic() + settings.login_ttl_s,
        ),
    )
    response = web.Response(status=302, headers={"Location": auth.url, "Cache-Control": "no-store"})
    response.set_cookie(
        BROWSER_COOKIE, browser, max_age=settings.login_ttl_s, path="/auth/oidc",
        httponly=True, samesite="Lax", secure=request.scheme == "https",
    )  # fmt: skip
    return response


def _identity(
    claims: dict[str, Any], info: dict[str, Any], settings: OidcSettings
) -> ExternalIdentity:
    """The provider's word on who this is: the signed ID token first, userinfo fills gaps."""
    merged = {**info, **claims}
    verified = merged.get("email_verified")
    name = merged.get(settings.username_claim)
    has_quota = settings.quota_claim in merged
    quota = None
    if has_quota:
        try:
            quota = parse_quota(merged[settings.quota_claim], settings.quota_unit)
        except InvalidInput as exc:
            raise OidcError(
                f"the {settings.quota_claim!r} claim is not a quota: {exc}", 403
            ) from exc
    email = merged.get("email")
    return ExternalIdentity(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=email if isinstance(email, str) else None,
        email_verified=verified is True or (isinstance(verified, str) and verified == "true"),
        name=name if isinstance(name, str) else None,
        quota_bytes=quota,
        has_quota=has_quota,
    )


@public
async def callback(request: web.Request) -> web.Response:
    """The provider sends the browser back here with a code; check everything, then sign in."""
    settings = request.app[OIDC_SETTINGS]
    client = request.app[CLIENT]
    query = request.query
    state = query.get("state", "")
    flow = request.app[FLOWS].take(state) if state and len(state) <= 200 else None
    if "error" in query:
        text = query.get("error_description") or query.get("error", "")
        return _refuse(request, f"the identity provider did not sign you in: {text[:200]}", 403)
    if flow is None:
        return _refuse(request, "this sign-in is unknown or has expired; please start again", 400)
    browser = credential(request_cookie(request, BROWSER_COOKIE)) or ""
    if not hmac.compare_digest(_digest(browser), flow.browser):
        return _refuse(request, "this sign-in was started in another browser; start again", 400)
    code = query.get("code", "")
    if not code or len(code) > 2000:
        return _refuse(request, "the identity provider sent no sign-in code", 400)
    try:
        returned_iss = query.get("iss")  # RFC 9207: guards against mixing up providers
        if returned_iss is not None and returned_iss != (await client.metadata())["issuer"]:
            raise OidcError("the sign-in answer came from another provider (iss)", 400)
        tokens = await client.exchange(code, flow.code_verifier, flow.redirect_uri)
        claims = await client.validate(tokens["id_token"], flow.nonce)
        info: dict[str, Any] = {}
        access = tokens.get("access_token")
        if isinstance(access, str):
            info = await client.userinfo(access)
            if info and info.get("sub") != claims["sub"]:
                raise OidcError("the provider's userinfo is about someone else", 403)
        ident = _identity(claims, info, settings)
    except OidcError as exc:
        return _refuse(request, exc.args[0], exc.status)
    identities = request.app[LIBRARY].accounts.identities
    try:
        account = await asyncio.to_thread(
            identities.sign_in, ident, auto_register=settings.auto_register
        )
    except (Forbidden, InvalidInput) as exc:
        return _refuse(request, str(exc), 403)
    token = await twofa.start_session(request, account)
    log.info("user %s signed in with OIDC (%s)", account.id, ident.issuer)
    response = web.Response(
        status=302, headers={"Location": flow.next_url, "Cache-Control": "no-store"}
    )
    set_session_cookie(response, request, token)
    response.del_cookie(BROWSER_COOKIE, path="/auth/oidc")
    return response


async def _client_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[CLIENT].close()


def setup(app: web.Application) -> None:
    settings = settings_for(app[CONFIG])
    if settings is None:
        return
    app[OIDC_SETTINGS] = settings
    app[CLIENT] = OidcClient(settings)
    app[FLOWS] = Flows()
    app.router.add_get(START, start)
    app.router.add_get(CALLBACK, callback)
    app.cleanup_ctx.append(_client_ctx)
