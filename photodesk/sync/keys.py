"""Typed keys of the aiohttp application's shared state."""

from __future__ import annotations

from aiohttp import web

from photodesk.core import Library
from photodesk.sync.config import ServerConfig

LIBRARY = web.AppKey("library", Library)
CONFIG = web.AppKey("config", ServerConfig)
# Per-request state (aiohttp warns about plain string keys). The caller is auth.USER.
REQUEST_ID = web.RequestKey("request_id", str)
LOG_CONTEXT = web.RequestKey("log_ctx", dict)  # shared by the clones made by proxy_middleware
