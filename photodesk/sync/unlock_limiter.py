"""Password guesses on public links: reserved before the Argon2 check, per address and per link.

An attempt is *reserved* (counted) before its password is hashed, so a burst of parallel guesses
cannot slip past the limit while the slow checks run; a right password gives its attempt back.

- **Per address** (IPv6 addresses by their /64): ``per_address`` guesses per link within
  ``window_s``, then that address gets 429 until its oldest guess ages out.
- **Per link**: past ``per_link`` guesses from anywhere, the link is not closed (one person
  with many addresses could then lock it for every visitor) but *slowed*: guesses are spaced
  ``spacing_s`` apart, and one that would wait longer than ``max_wait_s`` is told to come back.
- **Hash work**: at most ``concurrent`` Argon2 checks run for one link at a time.

Everything runs on the event loop; the lock keeps the check-and-count one step anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

MAX_TRACKED = 50_000  # counters kept in memory; beyond this the oldest go


def address_key(address: str | None) -> str:
    """The unit an address is limited as: itself, or its /64 network for IPv6."""
    if not address:
        return "?"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Ticket:
    """A reserved guess: wait ``delay_s`` (the link is slowed), then check the password."""

    link_id: int
    address: str
    at: float
    delay_s: float


@dataclass(frozen=True)
class Refusal:
    """No guess now: come back in ``retry_after_s`` seconds."""

    retry_after_s: float
    reason: str


@dataclass
class _Link:
    times: deque[float] = field(default_factory=deque)  # guesses from anywhere
    next_slot: float = 0.0  # when slowed: the earliest time the next guess may be checked
    hashing: asyncio.Semaphore | None = None
    users: int = 0


class UnlockLimiter:
    def __init__(
        self,
        *,
        per_address: int = 5,
        per_link: int = 30,
        window_s: float = 900.0,
        spacing_s: float = 2.0,
        max_wait_s: float = 20.0,
        concurrent: int = 2,
    ) -> None:
        self.per_address = per_address
        self.per_link = per_link
        self.window_s = window_s
        self.spacing_s = spacing_s
        self.max_wait_s = max_wait_s
        self.concurrent = concurrent
        self._addresses: dict[tuple[int, str], deque[float]] = {}
        self._links: dict[int, _Link] = {}
        self._lock = threading.Lock()

    def _recent(self, times: deque[float], now: float) -> deque[float]:
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def reserve(self, link_id: int, address: str | None) -> Ticket | Refusal:
        """Count one guess of ``address`` at ``link_id`` now, or say why not."""
        who = address_key(address)
        now = time.monotonic()
        with self._lock:
            self._trim()
            mine = self._recent(self._addresses.setdefault((link_id, who), deque()), now)
            if len(mine) >= self.per_address:
                wait = self.window_s - (now - mine[-self.per_address])
                return Refusal(max(wait, 1.0), "too many wrong passwords from this address")
            link = self._links.setdefault(link_id, _Link())
            delay = 0.0
            if len(self._recent(link.times, now)) >= self.per_link:
                slot = max(now, link.next_slot)
                delay = slot - now
                if delay > self.max_wait_s:
                    return Refusal(delay, "this link is receiving many wrong passwords")
                link.next_slot = slot + self.spacing_s
            mine.append(now)
            link.times.append(now)
            return Ticket(link_id, who, now, delay)

    def succeeded(self, ticket: Ticket) -> None:
        """A right password: its guess is given back (only failures count)."""
        with self._lock:
            for times in (
                self._addresses.get((ticket.link_id, ticket.address)),
                self._links[ticket.link_id].times if ticket.link_id in self._links else None,
            ):
                if times is not None:
                    with contextlib.suppress(ValueError):
                        times.remove(ticket.at)

    @contextlib.asynccontextmanager
    async def hashing(self, link_id: int) -> AsyncIterator[None]:
        """Hold one of the link's ``concurrent`` hash slots while checking a password."""
        with self._lock:
            link = self._links.setdefault(link_id, _Link())
            if link.hashing is None:
                link.hashing = asyncio.Semaphore(self.concurrent)
            link.users += 1
            sem = link.hashing
        try:
            async with sem:
                yield
        finally:
            with self._lock:
                link.users -= 1

    def _trim(self) -> None:
        """Keep memory bounded against floods of addresses or keys (oldest entries go)."""
        if len(self._addresses) > MAX_TRACKED:
            for key in list(self._addresses)[: MAX_TRACKED // 10]:
                del self._addresses[key]
        if len(self._links) > MAX_TRACKED:
            idle = [link_id for link_id, v in self._links.items() if v.users == 0]
            for link_id in idle[: MAX_TRACKED // 10]:
                del self._links[link_id]
