"""Public-link passwords under parallel guessing: reserved before Argon2, per address and link."""

from __future__ import annotations

import ipaddress
import threading
import time
from typing import Any

import aiohttp
import pytest

from photodesk.core.sharing.grants import ShareService
from tests.sync.hostile import add_photo, album_with, burst, jpeg_bytes

PASSWORD = "correct horse battery"


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Counts the Argon2 checks the server runs, and how many ran at once."""
    seen: dict[str, Any] = {"n": 0, "now": 0, "max": 0, "lock": threading.Lock()}
    real = ShareService.check_password

    def counted(self: ShareService, link: Any, password: str) -> bool:
        with seen["lock"]:
            seen["n"] += 1
            seen["now"] += 1
            seen["max"] = max(seen["max"], seen["now"])
        try:
            time.sleep(0.05)  # widen the window in which parallel checks overlap
            return bool(real(self, link, password))
        finally:
            with seen["lock"]:
                seen["now"] -= 1

    monkeypatch.setattr(ShareService, "check_password", counted)
    return seen


def _link(server: Any, make_user: Any) -> Any:
    uid = make_user()[0]
    album = album_with(server.lib, uid, "Locked", [add_photo(server.lib, uid, jpeg_bytes())])
    return server.lib.shares.create_link(uid, album_id=album, password=PASSWORD)


def _guess(url: str, password: str, address: str | None = None) -> Any:
    async def call(session: aiohttp.ClientSession) -> int:
        headers = {"X-Forwarded-For": address} if address else {}
        async with session.post(
            url, data={"password": password}, headers=headers, allow_redirects=False
        ) as r:
            await r.read()
            return r.status

    return call


def test_a_parallel_burst_checks_no_more_than_the_limit(server, make_user, checks) -> None:
    link = _link(server, make_user)
    url = f"{server.url}/share/{link.key}/unlock"
    calls = [_guess(url, f"guess {i}") for i in range(59)] + [_guess(url, PASSWORD)]
    codes = burst(calls)
    # Five guesses per address are checked; the other 55 are refused before any hashing.
    assert checks["n"] == 5, checks
    assert codes.count(429) == 55 and codes.count(401) + codes.count(303) == 5, codes
    checked = 5
    if 303 in codes:
        # the right password was among the five checked (the server takes a parallel burst in
        # any order): it gave its strike back, so one more wrong guess is checked
        assert burst([_guess(url, "one more")]) == [401]
        checked += 1
    assert burst([_guess(url, PASSWORD)]) == [429]  # the address stays locked out
    codes = burst([_guess(url, f"again {i}") for i in range(200)])
    assert codes == [429] * 200 and checks["n"] == checked


def test_a_right_password_gives_its_attempt_back(server, make_user, checks) -> None:
    link = _link(server, make_user)
    url = f"{server.url}/share/{link.key}/unlock"
    for _ in range(8):  # a family opening the link again and again from one address
        assert burst([_guess(url, PASSWORD)]) == [303]
    assert burst([_guess(url, f"wrong {i}") for i in range(4)]) == [401] * 4
    assert burst([_guess(url, PASSWORD)]) == [303]


@pytest.fixture
def proxied(start_server) -> Any:
    """A server behind a trusted proxy on loopback: X-Forwarded-For names the client."""
    return start_server(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))


def test_many_addresses_slow_the_link_but_do_not_close_it(proxied, checks) -> None:
    lib = proxied.lib
    uid = lib.accounts.add_user("owner@example.org", "pw-owner-123")
    album = album_with(lib, uid, "Locked", [add_photo(lib, uid, jpeg_bytes())])
    link = lib.shares.create_link(uid, album_id=album, password=PASSWORD)
    url = f"{proxied.url}/share/{link.key}/unlock"
    # 30 addresses, one wrong password each, all at once: at most two Argon2 checks at a time
    codes = burst([_guess(url, f"guess {i}", f"203.0.113.{i}") for i in range(30)])
    assert codes == [401] * 30
    assert checks["max"] <= 2, checks
    # a visitor from another address still gets in (slowed, not locked out) ...
    assert burst([_guess(url, PASSWORD, "198.51.100.7")]) == [303]
    # ... while an address that guessed too often is locked out, right password or not
    assert burst([_guess(url, f"more {i}", "203.0.113.1") for i in range(4)]) == [401] * 4
    assert burst([_guess(url, PASSWORD, "203.0.113.1")]) == [429]
    # IPv6 addresses count by their /64: a host cannot dodge the limit by changing its suffix
    six = [_guess(url, f"v6 {i}", f"2001:db8:1:2::{i + 1:x}") for i in range(5)]
    assert sorted(burst(six)) == [401] * 5
    assert burst([_guess(url, PASSWORD, "2001:db8:1:2::ffff")]) == [429]
