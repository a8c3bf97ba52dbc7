"""Failed sign-ins per (email, address) and per address, in a sliding window, in memory.

An attempt is counted *before* its slow password check (so parallel tries count too) and a
success gives back every attempt of that email from that address: only failures count, and a
family behind one NAT signing in all day is never locked out by its own successes.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from aiohttp import web

MAX_TRACKED = 100_000  # failure records kept in memory; the oldest go first beyond this
PER_ADDRESS_FACTOR = 4  # an address may fail this many times the per-account limit


class LoginLimiter:
    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._by_email: dict[tuple[str, str], deque[float]] = {}
        self._by_address: dict[str, deque[tuple[float, str]]] = {}
        self._lock = threading.Lock()

    def _mine(self, email: str, address: str, now: float) -> deque[float]:
        q = self._by_email.get((email, address), deque())
        while q and now - q[0] > self.window_s:
            q.popleft()
        return q

    def _every(self, address: str, now: float) -> deque[tuple[float, str]]:
        q = self._by_address.get(address, deque())
        while q and now - q[0][0] > self.window_s:
            q.popleft()
        return q

    def retry_after(self, email: str, address: str) -> float:
        """Seconds until this email may be tried from this address again (0: now)."""
        if self.attempts <= 0:
            return 0.0
        now = time.monotonic()
        waits = []
        with self._lock:
            mine = self._mine(email, address, now)
            if len(mine) >= self.attempts:
                waits.append(self.window_s - (now - mine[-self.attempts]))
            every = self._every(address, now)
            limit = self.attempts * PER_ADDRESS_FACTOR
            if len(every) >= limit:
                waits.append(self.window_s - (now - every[-limit][0]))
        return max(waits, default=0.0)

    def failed(self, email: str, address: str) -> None:
        """Count an attempt (call it before checking the password)."""
        now = time.monotonic()
        with self._lock:
            if len(self._by_email) + len(self._by_address) >= MAX_TRACKED:
                for key in list(self._by_email)[: MAX_TRACKED // 10]:
                    del self._by_email[key]
                for addr in list(self._by_address)[: MAX_TRACKED // 10]:
                    del self._by_address[addr]
            self._by_email.setdefault((email, address), deque()).append(now)
            self._by_address.setdefault(address, deque()).append((now, email))

    def succeeded(self, email: str, address: str) -> None:
        """The right credentials: this email's attempts from this address no longer count."""
        with self._lock:
            self._by_email.pop((email, address), None)
            every = self._by_address.get(address)
            if every is not None:
                kept = deque(item for item in every if item[1] != email)
                if kept:
                    self._by_address[address] = kept
                else:
                    del self._by_address[address]


LIMITER = web.AppKey("login_limiter", LoginLimiter)
