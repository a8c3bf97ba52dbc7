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


def test_password_checks_run_on_their_own_few_threads(server, make_user, monkeypatch) -> None:
    """Argon2 is slow and memory-hungry: 300 wrong logins from 300 addresses queued on the
    shared thread pool made a signed-in client's request wait 190 s (the probe). Password
    checks run on a pool of their own, PASSWORD_WORKERS at a time."""
    import threading
    import time

    from photodesk.sync.password_work import PASSWORD_WORKERS

    make_user("anna@example.org", "right-password-1")
    accounts = server.lib.accounts
    real = accounts.verify_password
    seen: list[str] = []
    running = [0, 0]  # now, most at once
    lock = threading.Lock()

    def spy(email: str, password: str) -> Any:
        with lock:
            seen.append(threading.current_thread().name)
            running[0] += 1
            running[1] = max(running[1], running[0])
        time.sleep(0.05)  # long enough for the calls to overlap if nothing bounds them
        try:
            return real(email, password)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(type(accounts), "verify_password", lambda self, e, p: spy(e, p))
    statuses = burst([_login(server.url, "anna@example.org", f"wrong-{i}") for i in range(4)])
    assert statuses == [401] * 4
    assert seen and all(name.startswith("password") for name in seen), seen
    assert running[1] <= PASSWORD_WORKERS
