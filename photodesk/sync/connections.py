"""Connections the daemon holds: a cap on how many are open, and no waiting for slow headers.

- **Header/idle timeout**: a connection that has not sent a complete request head within
  ``header_timeout_s`` of connecting (or of its last response, when kept alive) is closed; this
  is aiohttp's keep-alive timer, which stops once a request head has arrived, so long uploads
  are never cut.
- **Connection cap**: past ``max_connections`` open connections (and never closer than
  ``FD_RESERVE`` to the process's file-descriptor limit), a new one is answered ``503`` at once
  and closed, and a log line says so (at most one a minute).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
FD_RESERVE = 128  # descriptors kept for the catalog, uploads, thumbnails and logs
LOG_EVERY_S = 60.0
BUSY_LINGER_S = 1.0  # a refused connection is closed this long after its 503
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 5\r\n"
    b"Connection: close\r\nContent-Length: 37\r\n\r\ntoo many connections; try again soon\n"
)


def connection_cap(configured: int) -> int:
    """``configured``, lowered to fit the open-file limit of this process (less a reserve)."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # Windows
        return configured
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(16, min(configured, soft - FD_RESERVE))


class _Busy(asyncio.Protocol):
    """A connection over the cap: told to come back, then closed. What the client sends
    meanwhile is read and dropped (closing with unread data would reset the connection, and
    the client might not see the answer)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(BUSY)
        if transport.can_write_eof():
            transport.write_eof()
        asyncio.get_running_loop().call_later(BUSY_LINGER_S, transport.close)

    def data_received(self, data: bytes) -> None:
        pass


class ConnectionGate:
    """Hands each new connection to aiohttp, or a 503 when too many are open."""

    def __init__(self, server: web.Server, cap: int) -> None:
        self.server = server
        self.cap = cap
        self.refused = 0
        self._logged = 0.0

    def __call__(self) -> asyncio.BaseProtocol:
        open_now = len(self.server.connections)
        if open_now < self.cap:
            return self.server()
        self.refused += 1
        now = time.monotonic()
        if now - self._logged >= LOG_EVERY_S:
            self._logged = now
            log.warning(
                "connection limit reached: %d connections open (max_connections %d); "
                "new connections are answered 503 (%d so far)",
                open_now,
                self.cap,
                self.refused,
            )
        return _Busy()


class GuardedSite(web.TCPSite):
    """A TCP site whose connections go through a ConnectionGate."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, cap: int, **kw: Any):
        super().__init__(runner, host, port, **kw)
        self.cap = cap
        self.gate: ConnectionGate | None = None

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        server = self._runner.server
        assert server is not None
        self.gate = ConnectionGate(server, self.cap)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.gate,
            self._host,
            self._port,
            ssl=self._ssl_context,
            backlog=self._backlog,
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port
