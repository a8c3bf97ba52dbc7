"""Reverse proxies: X-Forwarded-For/-Proto/-Host count only when a trusted proxy sent them."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from photodesk.sync.config import ServerConfig
from photodesk.sync.keys import CONFIG
from photodesk.sync.logs import context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def client_address(remote: str | None, forwarded_for: str, config: ServerConfig) -> str | None:
    """The real client: walk X-Forwarded-For from the right past our own trusted proxies."""
    address = remote
    if not config.is_trusted_proxy(address):
        return address
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _valid_ip(hop):
            break  # garbage from an untrusted client: stop at the last proxy we trust
        address = hop
        if not config.is_trusted_proxy(hop):
            break
    return address


def _last(value: str) -> str:
    return value.split(",")[-1].strip()


@web.middleware
async def proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Rewrite remote, scheme and host from forwarding headers sent by a trusted proxy."""
    config = request.app[CONFIG]
    if not config.is_trusted_proxy(request.remote):
        return await handler(request)
    changes: dict[str, str] = {}
    xff = request.headers.get("X-Forwarded-For")
    if xff:
        real = client_address(request.remote, xff, config)
        if real:
            changes["remote"] = real
            context(request)["remote"] = real
    proto = request.headers.get("X-Forwarded-Proto")
    if proto and _last(proto).lower() in ("http", "https"):
        changes["scheme"] = _last(proto).lower()
    host = request.headers.get("X-Forwarded-Host")
    if host and _HOST_RE.match(_last(host)):
        changes["host"] = _last(host)
    if changes:
        request = request.clone(**changes)  # type: ignore[arg-type]
    return await handler(request)
