"""Password checks on a small pool of their own.

Argon2 is slow and memory-hungry on purpose. On the event loop's shared thread pool, a burst of
wrong passwords from many addresses (each within its rate limit) queued ahead of every catalog
read: a signed-in client waited minutes, and each check in flight held its hash's memory. Here
at most ``PASSWORD_WORKERS`` checks run at once, the rest wait their turn, and nothing else waits
behind them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import web

PASSWORD_WORKERS = 2
T = TypeVar("T")


class PasswordWork:
    def __init__(self, workers: int = PASSWORD_WORKERS) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="password")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


PASSWORD_WORK = web.AppKey("password_work", PasswordWork)


_fallback: PasswordWork | None = None


def password_work(request: web.Request) -> PasswordWork:
    """The app's pool (a shared one for an app built without ``setup``, as some tests do)."""
    global _fallback
    work = request.app.get(PASSWORD_WORK)
    if work is None:
        work = _fallback = _fallback or PasswordWork()
    return work


def setup(app: web.Application) -> None:
    work = app[PASSWORD_WORK] = PasswordWork()

    async def close(_app: web.Application) -> None:
        work.close()

    app.on_cleanup.append(close)
