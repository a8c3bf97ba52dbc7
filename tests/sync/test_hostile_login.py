"""The login limiter counts failures only: a family behind one NAT is never locked out."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.sync.hostile import burst


def _login(url: str, email: str, password: str) -> Any:
    async def call(session: aiohttp.ClientSession) -> int:
        body = {"email": email, "password": password}
        async with session.post(f"{url}/api/auth/login", json=body) as r:
            await r.read()
            return r.status

    return call


def test_successful_logins_from_one_address_never_lock_it(server, make_user) -> None:
    a, b = make_user(), make_user()
    for _ in range(3):  # 24 sign-ins from one address, two users, some at the same time
        codes = burst([_login(server.url, u[1], u[2]) for u in (a, b) for _ in range(4)])
        assert codes == [201] * 8, codes
    # a few typos between them do not add up with the successes either
    assert burst([_login(server.url, a[1], "typo")]) == [401]
    assert burst([_login(server.url, a[1], a[2])]) == [201]


def test_failures_still_lock_out_an_email_and_an_address(server, make_user) -> None:
    a = make_user()
    codes = burst([_login(server.url, a[1], f"guess {i}") for i in range(12)])
    assert codes.count(401) == 5 and codes.count(429) == 7, codes
    assert burst([_login(server.url, a[1], a[2])]) == [429]  # the right one waits too
    # the address: 4x the per-email limit over many emails, counted before the checks
    codes = burst([_login(server.url, f"nobody{i}@example.org", "x") for i in range(30)])
    assert codes.count(429) >= 30 - 15, codes
