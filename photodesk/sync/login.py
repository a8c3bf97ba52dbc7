"""The web sign-in page: a password (then the TOTP step) and "Sign in with <provider>"."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from photodesk.sync import twofa
from photodesk.sync.auth import USER, public, same_origin, set_session_cookie
from photodesk.sync.keys import LIBRARY
from photodesk.sync.oidc_config import OIDC_SETTINGS, password_login_refusal
from photodesk.sync.password_work import password_work
from photodesk.sync.users import LIMITER
from photodesk.sync.views import ApiError

PAGE = "/login"
DEFAULT_NEXT = "/upload/"  # where a sign-in lands unless the page was asked for another
MAX_FORM_BYTES = 16 * 1024
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("photodesk.sync", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def safe_next(value: Any) -> str:
    """A local path to go to after signing in; anything else (other sites too) is the default."""
    if not isinstance(value, str) or not value.startswith("/") or len(value) > 2000:
        return DEFAULT_NEXT
    if value.startswith(("//", "/\\")) or "\\" in value or any(ord(c) < 32 for c in value):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return value


def render(
    request: web.Request,
    *,
    error: str | None = None,
    status: int = 200,
    step: str = "password",
    pending: str = "",
    next_url: str | None = None,
    email: str = "",
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The sign-in page (or its TOTP step), with ``error`` shown when given."""
    settings = request.app.get(OIDC_SETTINGS)
    html = (
        _templates()
        .get_template("login.html")
        .render(
            error=error,
            step=step,
            pending=pending,
            next=safe_next(next_url if next_url is not None else request.query.get("next")),
            email=email,
            oidc_label=settings.button_label if settings is not None else None,
            password_enabled=password_login_refusal(request.app) is None,
        )
    )
    all_headers = {
        "Content-Security-Policy": CSP,
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        **(headers or {}),
    }
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=all_headers
    )


@public
async def page(request: web.Request) -> web.Response:
    if request.get(USER) is not None and "error" not in request.query:
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return render(request)


@public
async def stylesheet(request: web.Request) -> web.Response:
    css = resources.files("photodesk.sync").joinpath("templates", "login.css").read_bytes()
    return web.Response(
        body=css,
        headers={"Content-Type": "text/css; charset=utf-8", "Cache-Control": "no-cache",
                 "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


async def _form(request: web.Request) -> dict[str, str]:
    if request.content_length is None:  # chunked: it would be read whole before parsing
        raise ApiError(411, "the form needs a Content-Length")
    if request.content_length > MAX_FORM_BYTES:
        raise ApiError(413, "the form is too large")
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise ApiError(415, "expected a form")
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str)}


async def _signed_in(request: web.Request, account: Any, next_url: str) -> web.Response:
    token = await twofa.start_session(request, account)
    response = web.Response(
        status=303, headers={"Location": safe_next(next_url), "Cache-Control": "no-store"}
    )
    set_session_cookie(response, request, token)
    return response


@public
async def submit_password(request: web.Request) -> web.Response:
    """The password form: signs in, or shows the TOTP step when the user has two-factor on."""
    if not same_origin(request):
        return render(request, error="this form was sent from another site", status=403)
    refusal = password_login_refusal(request.app)
    try:
        form = await _form(request)
    except ApiError as exc:
        return render(request, error=exc.message, status=exc.status)
    next_url = form.get("next", "")
    if refusal:
        return render(request, error=refusal, status=403, next_url=next_url)
    email = form.get("email", "").strip().lower()
    password = form.get("password", "")
    if not email or not password:
        return render(request, error="enter your email and password", status=400,
                      next_url=next_url, email=email)  # fmt: skip
    address = request.remote or "?"
    limiter = request.app[LIMITER]
    wait = limiter.retry_after(email, address)
    if wait > 0:
        return render(
            request, error="too many failed sign-ins; try again later", status=429,
            next_url=next_url, email=email, headers={"Retry-After": str(int(wait) + 1)},
        )  # fmt: skip
    limiter.failed(email, address)
    accounts = request.app[LIBRARY].accounts
    account = await password_work(request).run(accounts.verify_password, email, password)
    if account is None:
        return render(request, error="incorrect email or password", status=401,
                      next_url=next_url, email=email)  # fmt: skip
    pending = await twofa.needs_second_factor(request, account)
    if pending is not None:
        return render(request, step="totp", pending=pending, next_url=next_url)
    limiter.succeeded(email, address)
    return await _signed_in(request, account, next_url)


@public
async def submit_code(request: web.Request) -> web.Response:
    """The TOTP step: the code (or a recovery code) completes the sign-in."""
    if not same_origin(request):
        return render(request, error="this form was sent from another site", status=403)
    try:
        form = await _form(request)
    except ApiError as exc:
        return render(request, error=exc.message, status=exc.status)
    next_url, pending = form.get("next", ""), form.get("pending", "")
    try:
        account = await twofa.complete(request, pending, form.get("code", ""))
    except ApiError as exc:
        still = request.app[twofa.PENDING].get(pending) is not None
        return render(
            request, error=exc.message, status=exc.status, next_url=next_url,
            step="totp" if still else "password", pending=pending if still else "",
            headers=exc.headers or None,
        )  # fmt: skip
    return await _signed_in(request, account, next_url)


def setup(app: web.Application) -> None:
    app.router.add_get(PAGE, page)
    app.router.add_post(PAGE, submit_password)
    app.router.add_post(PAGE + "/totp", submit_code)
    app.router.add_get(PAGE + "/login.css", stylesheet)
