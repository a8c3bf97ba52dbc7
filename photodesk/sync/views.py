"""JSON helpers and the one mapping from core errors to HTTP answers (Immich's error shape)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import web

from photodesk.core import (
    Conflict,
    CorruptFile,
    Forbidden,
    InsufficientStorage,
    InvalidInput,
    NotFound,
    PhotodeskError,
    QuotaExceeded,
    UnsupportedFormat,
    UploadTooLarge,
)
from photodesk.sync.ids import parse_id, parse_int
from photodesk.sync.keys import CONFIG, REQUEST_ID

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Most specific first: the first class an error is an instance of decides.
_STATUS: tuple[tuple[type[PhotodeskError], int], ...] = (
    (QuotaExceeded, 413),  # 4xx: clients must not retry it
    (UploadTooLarge, 413),
    (InsufficientStorage, 507),
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (InvalidInput, 400),
    (UnsupportedFormat, 415),
    (CorruptFile, 422),
)


def _default(value: Any) -> Any:
    iso = getattr(value, "isoformat", None)
    if iso is not None:
        return iso()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":"))


def json_response(data: Any, *, status: int = 200, headers: Any = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def error_body(status: int, message: str) -> dict[str, Any]:
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return {"message": message, "error": phrase, "statusCode": status}


def error_response(status: int, message: str, *, headers: Any = None) -> web.Response:
    return json_response(error_body(status, message), status=status, headers=headers)


def status_for(exc: PhotodeskError) -> int:
    """The HTTP status of a core error; subclasses may carry their own ``http_status``."""
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


async def read_json(request: web.Request, *, max_bytes: int | None = None) -> Any:
    """The request's JSON body, or a 400/413/415 HTTP error with a clear message."""
    limit = max_bytes or request.app[CONFIG].max_json_bytes
    if request.content_length is not None and request.content_length > limit:
        raise http_error(413, f"a JSON body may have at most {limit} bytes")
    ctype = request.content_type
    if ctype not in ("application/json", "text/plain", "application/octet-stream", ""):
        raise http_error(415, f"expected application/json, not {ctype}")
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = await request.content.read(64 * 1024)
        except ConnectionResetError:
            raise http_error(400, "the body ended before its announced length") from None
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise http_error(413, f"a JSON body may have at most {limit} bytes")
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise http_error(400, f"the body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise http_error(400, "the JSON body is nested too deeply") from None
    _check_text(data)
    return data


def _check_text(data: Any) -> None:
    """Refuse strings that are not Unicode text: JSON's ``\\ud800`` escapes decode to lone
    surrogates, which no database, file name or page can hold."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts: Any = (item,)
        elif isinstance(item, dict):
            texts = item.keys()
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                message = "the JSON body has a lone surrogate (not Unicode text)"
                raise http_error(400, message) from None


def json_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise http_error(400, "expected a JSON object")
    return data


class ApiError(Exception):
    """Raised by handlers; the error middleware answers it as Immich-style JSON."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def http_error(status: int, message: str, **headers: str) -> ApiError:
    """An error to ``raise`` from a handler: ``raise http_error(404, "no such album")``."""
    return ApiError(status, message, headers)


def int_param(value: str | None, name: str, *, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    number = parse_int(value, negative=low < 0)
    if number is None:
        raise http_error(400, f"{name} must be a whole number")
    if not low <= number <= high:
        raise http_error(400, f"{name} must be between {low} and {high}")
    return number


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the URL; a malformed one is simply not found."""
    number = parse_id(request.match_info.get(name, ""))
    if number is None:
        raise http_error(404, "not found")
    return number


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON with a fitting status; unexpected ones are logged, never shown."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, headers=exc.headers or None)
    except PhotodeskError as exc:
        status = status_for(exc)
        if status >= 500:
            log.error("request %s failed: %s", request.get(REQUEST_ID), exc)
        return error_response(status, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        return error_response(exc.status, exc.reason, headers=headers or None)
    except ConnectionResetError:
        log.info("request %s: the client went away", request.get(REQUEST_ID))
        return error_response(400, "the connection was lost before the request was complete")
    except asyncio.CancelledError:
        raise
    except Exception:
        rid = request.get(REQUEST_ID, "?")
        log.exception("request %s (%s %s) failed", rid, request.method, request.path)
        return error_response(500, f"internal error (request id {rid})")
