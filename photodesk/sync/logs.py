"""Structured logs for the daemon: text or JSON lines, with a request id on every request."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from photodesk.sync.keys import LOG_CONTEXT, REQUEST_ID

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCESS_LOGGER = "photodesk.access"
_RID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "photodesk_request_id", default=None
)
# Fields a log record may carry (``extra=``) that the JSON format writes out.
FIELDS = (
    "request_id",
    "method",
    "path",
    "status",
    "bytes",
    "duration_ms",
    "remote",
    "user_id",
    "user_agent",
)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the request fields."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                data[name] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} [{rid}]" if rid else text


class _QuietBadRequests(logging.Filter):
    """aiohttp logs unparsable requests (scanners, broken clients) as errors with a traceback;
    they were answered with a 4xx, so one line at INFO is enough."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (HttpProcessingError, ConnectionResetError)):
            first = " ".join(str(exc).split())[:200] or type(exc).__name__
            record.msg, record.args = "%s (%s)", (record.getMessage(), first)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
            return logging.getLogger(record.name).isEnabledFor(logging.INFO)
        return True


_QUIET = _QuietBadRequests()


def quiet_bad_requests() -> None:
    """Install the filter above on aiohttp's server logger (idempotent)."""
    server_log = logging.getLogger("aiohttp.server")
    if _QUIET not in server_log.filters:
        server_log.addFilter(_QUIET)


def setup_logging(fmt: str = "text", *, level: int = logging.INFO, stream: Any = None) -> None:
    """Send photodesk's and aiohttp's logs to stderr in ``fmt`` (text or json)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def context(request: web.Request) -> dict[str, Any]:
    """The request's mutable log context (shared by clones made by the proxy middleware)."""
    ctx = request.get(LOG_CONTEXT)
    if ctx is None:
        ctx = {}
        request[LOG_CONTEXT] = ctx
    return ctx


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give the request an id (the client's X-Request-Id when sane) and echo it back."""
    given = request.headers.get("X-Request-Id", "")
    rid = given if _RID_RE.match(given) else uuid.uuid4().hex[:16]
    request[REQUEST_ID] = rid
    context(request)["request_id"] = rid
    token = request_id_var.set(rid)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers["X-Request-Id"] = rid
        raise
    finally:
        request_id_var.reset(token)
    if not response.prepared:
        response.headers["X-Request-Id"] = rid
    return response


class AccessLogger(AbstractAccessLogger):
    """One line per request with its id, user, status, size and time."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        ctx = request.get(LOG_CONTEXT) or {}
        fields = {
            "request_id": ctx.get("request_id"),
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "bytes": response.body_length,
            "duration_ms": round(time * 1000, 1),
            "remote": ctx.get("remote", request.remote),
            "user_id": ctx.get("user_id"),
            "user_agent": request.headers.get("User-Agent"),
        }
        self.logger.info(
            "%s %s %s %dB %.1fms",
            request.method,
            request.path,
            response.status,
            response.body_length,
            time * 1000,
            extra=fields,
        )
