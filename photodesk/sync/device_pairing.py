"""Pairing a desktop through the browser (accounts with two factors or single sign-on).

The desktop app opens ``/pair/device?redirect_uri=http://127.0.0.1:PORT/cb&state=S&challenge=C
&name=N`` in the browser. Signed in (the ordinary sign-in page, its TOTP step or the OIDC button
lead back here), the account holder allows the device; the daemon then redirects to the loopback
address only, with a one-shot ``code`` and the ``state``. The desktop trades the code and the
verifier of ``challenge`` (SHA-256, as PKCE) for a device API key at
``POST /api/photodesk/sync/devices/claim``. Codes live five minutes and work once; the core keeps
them hashed in the catalog (``lib.accounts.pairing_codes``): a restart between the two keeps them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from photodesk.core import Conflict
from photodesk.sync.auth import AUTH_VIA, USER, AuthUser, public, same_origin
from photodesk.sync.keys import LIBRARY
from photodesk.sync.login import _form, _templates
from photodesk.sync.views import ApiError, http_error, json_object, json_response, read_json

PAGE = "/pair/device"
CLAIM = "/api/photodesk/sync/devices/claim"
STATE_RE = re.compile(r"[A-Za-z0-9_-]{16,128}")
CHALLENGE_RE = re.compile(r"[A-Za-z0-9_-]{43}")
VERIFIER_RE = re.compile(r"[A-Za-z0-9._~-]{43,128}")


class BadRequest(ValueError):
    pass


def loopback_redirect(value: Any) -> str:
    """``http://127.0.0.1:PORT/path`` or ``http://[::1]:PORT/path``: a listener on the user's own
    machine, nothing else (no host names, no user info, query or fragment)."""
    if not isinstance(value, str) or len(value) > 300 or any(ord(c) < 33 for c in value):
        raise BadRequest("redirect_uri must be a loopback address")
    if "\\" in value or "@" in value:
        raise BadRequest("redirect_uri must be a loopback address")
    parts = urlsplit(value)
    if parts.scheme != "http" or parts.query or parts.fragment or "#" in value:
        raise BadRequest("redirect_uri must be http://127.0.0.1:PORT/path")
    try:
        host = ipaddress.ip_address(parts.hostname or "")
        port = parts.port
    except ValueError:
        raise BadRequest("redirect_uri must be http://127.0.0.1:PORT/path") from None
    if not host.is_loopback or port is None or port == 0:
        raise BadRequest("redirect_uri must be http://127.0.0.1:PORT/path")
    if not parts.path.startswith("/"):
        raise BadRequest("redirect_uri needs a path")
    return value


def _params(source: Any) -> dict[str, str]:
    redirect = loopback_redirect(source.get("redirect_uri"))
    state, challenge = source.get("state"), source.get("challenge")
    if not isinstance(state, str) or not STATE_RE.fullmatch(state):
        raise BadRequest("state must be 16 to 128 letters, digits, - or _")
    if not isinstance(challenge, str) or not CHALLENGE_RE.fullmatch(challenge):
        raise BadRequest("challenge must be the base64url SHA-256 of the verifier")
    name = source.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise BadRequest("the device needs a name (at most 100 characters)")
    if any(ord(c) < 32 for c in name):
        raise BadRequest("the device name has control characters")
    return {"redirect_uri": redirect, "state": state, "challenge": challenge, "name": name.strip()}


def _page(
    params: dict[str, str] | None, user: AuthUser | None, *, error: str | None = None,
    status: int = 200,
) -> web.Response:  # fmt: skip
    html = (
        _templates()
        .get_template("device_pair.html")
        .render(error=error, params=params, email=user.email if user else "")
    )
    action = ""
    if params is not None:  # the form's answer redirects there: allow it, and only it
        parts = urlsplit(params["redirect_uri"])
        action = f" http://{parts.netloc}"
    headers = {
        "Content-Security-Policy": "default-src 'none'; style-src 'self'; "
        f"form-action 'self'{action}; base-uri 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=headers
    )


def _signed_in(request: web.Request) -> AuthUser | None:
    user = request.get(USER)
    # a browser page: the session cookie only (an API key cannot mint another key here)
    return user if isinstance(user, AuthUser) and request.get(AUTH_VIA) == "cookie" else None


@public
async def page(request: web.Request) -> web.Response:
    """The "allow this device" page; sends a visitor who is not signed in to sign in first."""
    try:
        params = _params(request.query)
    except BadRequest as exc:
        return _page(None, None, error=str(exc), status=400)
    user = _signed_in(request)
    if user is None:
        back = f"{PAGE}?{urlencode(params)}"
        raise web.HTTPFound(f"/login?{urlencode({'next': back})}")
    return _page(params, user)


@public
async def decide(request: web.Request) -> web.Response:
    """Allow (a one-shot code) or deny; either way back to the device's loopback address."""
    if not same_origin(request):
        return _page(None, None, error="this form was sent from another site", status=403)
    try:
        form = await _form(request)
        params = _params(form)
    except ApiError as exc:
        return _page(None, None, error=exc.message, status=exc.status)
    except BadRequest as exc:
        return _page(None, None, error=str(exc), status=400)
    user = _signed_in(request)
    if user is None:
        return _page(None, None, error="sign in first", status=401)
    answer: dict[str, str] = {"state": params["state"]}
    if form.get("decision") == "allow":
        codes = request.app[LIBRARY].accounts.pairing_codes
        try:
            answer["code"] = await asyncio.to_thread(
                codes.issue, user.id, params["name"], params["challenge"]
            )
        except Conflict as exc:
            return _page(params, user, error=str(exc), status=429)
    else:
        answer["error"] = "access_denied"
    location = f"{params['redirect_uri']}?{urlencode(answer)}"
    raise web.HTTPSeeOther(location, headers={"Cache-Control": "no-store"})


@public
async def claim(request: web.Request) -> web.Response:
    """Body: ``{"code", "verifier"}`` from a browser pairing; answers the device's API key once."""
    body = json_object(await read_json(request))
    code, verifier = body.get("code"), body.get("verifier")
    if not isinstance(code, str) or not isinstance(verifier, str):
        raise http_error(400, 'give "code" and "verifier"')
    lib = request.app[LIBRARY]
    if len(code) > 200 or len(verifier) > 200:
        raise http_error(400, "this pairing code is unknown, used or expired: start again")
    # one try per code: spent here whatever the verifier (InvalidInput: 400, one line)
    entry = await asyncio.to_thread(lib.accounts.pairing_codes.claim, code, verifier)
    if not VERIFIER_RE.fullmatch(verifier):
        raise http_error(400, "the verifier does not match this pairing: start again")
    key = await asyncio.to_thread(lib.accounts.create_api_key, entry.user_id,
                                  f"device: {entry.device}")  # fmt: skip
    account = await asyncio.to_thread(lib.accounts.get, entry.user_id)
    return json_response(
        {"key": key, "user_id": account.id, "email": account.email, "name": account.name},
        status=201,
    )


def setup(app: web.Application) -> None:
    app.router.add_get(PAGE, page)
    app.router.add_post(PAGE, decide)
    app.router.add_post(CLAIM, claim)
