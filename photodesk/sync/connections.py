"""Connections the daemon holds: a cap on how many are open, and no waiting for slow headers.

- **Header/idle timeout**: a connection that has not sent a complete request head within
  ``header_timeout_s`` of connecting (or of its last response, when kept alive) is closed; this
  is aiohttp's keep-alive timer, which stops once a request head has arrived, so long uploads
  are never cut.
- **Connection cap**: past ``max_connections`` open connections (and never closer than
  ``FD_RESERVE`` to the process's file-descriptor limit), a new one is answered ``503`` at once
  and closed, and a log line says so (at most one a minute). A connection counts from the moment
  it is accepted (the loop accepts a whole backlog before any is connected), and at most
  ``BUSY_MAX`` refused ones linger for their 503; past that they are closed at once, so the
  descriptors in use stay under the limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)
FD_RESERVE = 128  # descriptors kept for the catalog, uploads, thumbnails and logs
BACKLOG = 128  # sockets the loop may accept at once, before any is counted or closed
LOG_EVERY_S = 60.0
BUSY_LINGER_S = 1.0  # a refused connection is closed this long after its 503
BUSY_MAX = 32  # refused connections lingering at once (set aside from the cap); then closed at once
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
    return max(16, min(configured, soft - FD_RESERVE - BACKLOG - BUSY_MAX))


class _Busy(asyncio.Protocol):
    """A connection over the cap: told to come back, then closed. What the client sends
    meanwhile is read and dropped (closing with unread data would reset the connection, and
    the client might not see the answer)."""

    def __init__(self, gate: ConnectionGate, linger: bool) -> None:
        self.gate = gate
        self.linger = linger
        gate.busy += 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if not self.linger:
            transport.abort()
            return
        transport.write(BUSY)
        if transport.can_write_eof():
            transport.write_eof()
        asyncio.get_running_loop().call_later(BUSY_LINGER_S, transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gate.busy -= 1

    def data_received(self, data: bytes) -> None:
        pass


class ConnectionGate:
    """Hands each new connection to aiohttp, or a 503 when too many are open."""

    def __init__(self, server: web.Server, cap: int) -> None:
        self.server = server
        self.cap = cap
        self.refused = 0
        self.busy = 0  # refused connections not yet closed
        self._logged = 0.0
        # accepted, not yet connected (aiohttp counts a connection only once it is made)
        self._pending: list[tuple[Any, float]] = []

    def _still_pending(self, now: float) -> int:
        self._pending = [
            (handler, at)
            for handler, at in self._pending
            # made: a transport; lost: no manager; never made (its socket failed): forgotten
            if handler.transport is None and handler._manager is not None and now - at < 5.0
        ]
        return len(self._pending)

    def __call__(self) -> asyncio.BaseProtocol:
        now = time.monotonic()
        open_now = len(self.server.connections) + self._still_pending(now)
        if open_now < self.cap:
            handler = self.server()
            self._pending.append((handler, now))
            return handler
        self.refused += 1
        if now - self._logged >= LOG_EVERY_S:
            self._logged = now
            log.warning(
                "connection limit reached: %d connections open (max_connections %d); "
                "new connections are answered 503 (%d so far)",
                open_now,
                self.cap,
                self.refused,
            )
        return _Busy(self, linger=self.busy < BUSY_MAX)


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
            backlog=min(self._backlog, BACKLOG),
            reuse_address=self._reuse_address,
            reuse_port=self._reuse_port,
        )
        sockets = self._server.sockets
        self._bound_port = sockets[0].getsockname()[1] if sockets else self._port
