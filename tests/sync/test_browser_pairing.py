"""Pairing through the browser (two factors, single sign-on): a real daemon, the desktop's
loopback listener, and a scripted browser that signs in and allows the device."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

from photodesk.core import Library
from photodesk.core.accounts.totp import code_at
from photodesk.core.sync import RemoteRefused
from photodesk.remote import pairing
from photodesk.remote.browser import BrowserPairing
from photodesk.remote.http import HttpRemote
from tests.sync.conftest import ServerInfo
from tests.sync.scripted_browser import ScriptedBrowser

os.environ.setdefault("PHOTODESK_KEYRING", "off")
T0 = 1_800_000_000.0


def _enrol_totp(server: ServerInfo, email: str, password: str) -> Callable[[], str]:
    """Turns two factors on for the account; returns what its authenticator app shows next."""
    clock = [T0]
    server.lib.accounts.totp.clock = lambda: clock[0]
    token = requests.post(
        f"{server.url}/api/auth/login", json={"email": email, "password": password}
    ).json()["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}
    secret = requests.post(f"{server.url}/api/photodesk/me/2fa/begin", headers=auth).json()[
        "secret"
    ]
    r = requests.post(
        f"{server.url}/api/photodesk/me/2fa/confirm", headers=auth,
        json={"code": code_at(secret, T0)},
    )  # fmt: skip
    assert r.status_code == 200, r.text

    def next_code() -> str:
        clock[0] += 30
        return code_at(secret, clock[0])

    return next_code


def test_a_two_factor_account_pairs_in_the_browser(
    tmp_path: Path, server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> None:
    uid, email, password, _ = make_user(name="Ann")
    code = _enrol_totp(server, email, password)
    with Library.open(tmp_path / "desk") as lib:
        with pytest.raises(RemoteRefused, match="second factor"):  # a password alone cannot
            pairing.add(lib, server.url, email=email, password=password)
        browser = ScriptedBrowser(email, password, code=code)
        made = pairing.add(lib, server.url, device="laptop", browser=browser.open)
        assert made.email == email and made.user_id == uid and made.device == "laptop"
        # the walk: the pairing page sent the browser to sign in and back, then to loopback
        assert browser.hops[0].startswith(f"{server.url}/pair/device?")
        assert browser.hops[1].startswith(f"{server.url}/login?next=")
        assert "/pair/device" in browser.hops[1]
        assert any(h.startswith("POST ") and h.endswith("/login/totp") for h in browser.hops)
        assert browser.hops[-1].startswith("http://127.0.0.1:")
        assert "/callback?" in browser.hops[-1] and "code=" in browser.hops[-1]
        assert browser.final_status == 200 and "paired" in browser.final_text
        info = pairing.status(lib)
        assert info["state"] == "online" and info["account"] == email
        names = [k.name for k in server.lib.accounts.list_api_keys(uid)]
        assert "device: laptop" in names


def test_cancel_in_the_browser_pairs_nothing(
    tmp_path: Path, server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> None:
    uid, email, password, _ = make_user()
    before = len(server.lib.accounts.list_api_keys(uid))
    with Library.open(tmp_path / "desk") as lib:
        browser = ScriptedBrowser(email, password, decision="deny")
        with pytest.raises(RemoteRefused, match="cancelled"):
            pairing.add(lib, server.url, device="laptop", browser=browser.open)
        assert lib.sync.pairing() is None
    assert len(server.lib.accounts.list_api_keys(uid)) == before


def _challenge() -> str:
    return "A" * 43


@pytest.mark.parametrize(
    "redirect",
    [
        "http://evil.example:8000/callback",
        "http://localhost.evil.example:8000/callback",
        "https://127.0.0.1:8000/callback",
        "http://127.0.0.1/callback",  # no port
        "http://127.0.0.1:8000",  # no path
        "http://user@127.0.0.1:8000/callback",
        "http://127.0.0.1:8000@evil.example/callback",
        "http://127.0.0.1:8000/callback?x=1",
        "http://127.0.0.1:8000/callback#x",
        "http://10.0.0.1:8000/callback",
        "//127.0.0.1:8000/callback",
        "javascript:alert(1)",
    ],
)
def test_the_redirect_is_a_loopback_address_only(server: ServerInfo, redirect: str) -> None:
    query = {"redirect_uri": redirect, "state": "s" * 20, "challenge": _challenge(), "name": "x"}
    r = requests.get(f"{server.url}/pair/device?{urlencode(query)}", allow_redirects=False)
    assert r.status_code == 400 and "redirect_uri" in r.text
    assert "pair-form" not in r.text


def test_the_page_checks_state_and_challenge_and_the_form_its_origin(
    server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> None:
    good = {"redirect_uri": "http://[::1]:9/cb", "state": "s" * 20, "challenge": _challenge(),
            "name": "x"}  # fmt: skip
    for bad in ({"state": "short"}, {"challenge": "nope"}, {"name": ""}, {"state": "s" * 19 + "!"}):
        r = requests.get(f"{server.url}/pair/device?{urlencode({**good, **bad})}")
        assert r.status_code == 400
    r = requests.get(f"{server.url}/pair/device?{urlencode(good)}", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    # signed in, a form posted from another site is refused before any code is made
    _, email, password, key = make_user()
    login = requests.post(
        f"{server.url}/api/auth/login", json={"email": email, "password": password}
    )
    cookies = {"photodesk_session": login.json()["accessToken"]}
    form = {**good, "decision": "allow"}
    evil = {"Origin": "https://evil.example"}
    r = requests.post(f"{server.url}/pair/device", data=form, cookies=cookies,
                      headers=evil, allow_redirects=False)  # fmt: skip
    assert r.status_code == 403 and "Location" not in r.headers
    # an API key is not a browser sign-in: it cannot mint device keys through the page
    r = requests.post(f"{server.url}/pair/device", data=form, headers={"x-api-key": key,
                      "Origin": server.url}, allow_redirects=False)  # fmt: skip
    assert r.status_code == 401
    r = requests.post(f"{server.url}/pair/device", data=form, cookies=cookies,
                      headers={"Origin": server.url}, allow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    location = r.headers["Location"]
    assert location.startswith("http://[::1]:9/cb?") and f"state={'s' * 20}" in location
    page = requests.get(f"{server.url}/pair/device?{urlencode(good)}", cookies=cookies)
    assert "form-action 'self' http://[::1]:9;" in page.headers["Content-Security-Policy"]


def test_a_code_works_once_and_only_with_its_verifier(
    tmp_path: Path, server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> None:
    _, email, password, _ = make_user()
    remote = HttpRemote(server.url)
    attempt = BrowserPairing(remote, "laptop")
    seen: list[str] = []

    class Keep(ScriptedBrowser):  # the browser walks the flow, the test keeps the code
        async def _get(self, s, url):  # type: ignore[no-untyped-def]
            if url.startswith(attempt.redirect_uri):
                seen.append(url)
                return 200, "", url
            return await super()._get(s, url)

    Keep(email, password).open(attempt.url)
    attempt.close()
    code = seen[0].split("code=")[1].split("&")[0]
    claim = f"{server.url}/api/photodesk/sync/devices/claim"
    r = requests.post(claim, json={"code": code, "verifier": "x" * 50})
    assert r.status_code == 400 and "verifier" in r.text
    r = requests.post(claim, json={"code": code, "verifier": attempt.verifier})
    assert r.status_code == 400  # the failed try spent it
    assert requests.post(claim, json={"code": "nope", "verifier": "x"}).status_code == 400


def test_a_code_outlives_a_restart_of_the_daemon_and_still_works_once(
    server: ServerInfo,
    start_server: Callable[..., ServerInfo],
    make_user: Callable[..., tuple[int, str, str, str]],
) -> None:
    from sqlalchemy import select

    from photodesk.core.catalog.db.pairing_codes import PairingCode

    uid, email, password, _ = make_user()
    attempt = BrowserPairing(HttpRemote(server.url), "laptop")
    seen: list[str] = []

    class Keep(ScriptedBrowser):
        async def _get(self, s, url):  # type: ignore[no-untyped-def]
            if url.startswith(attempt.redirect_uri):
                seen.append(url)
                return 200, "", url
            return await super()._get(s, url)

    Keep(email, password).open(attempt.url)
    attempt.close()
    code = seen[0].split("code=")[1].split("&")[0]
    with server.lib.read() as s:  # kept hashed, never as the code itself
        stored = list(s.scalars(select(PairingCode.code_hash)))
    assert len(stored) == 1 and code not in stored[0] and len(stored[0]) == 64
    server.running.stop()  # "Allow" was clicked; the daemon restarts before the desktop claims
    again = start_server(lib=server.lib)
    claim = f"{again.url}/api/photodesk/sync/devices/claim"
    r = requests.post(claim, json={"code": code, "verifier": attempt.verifier})
    assert r.status_code == 201, r.text
    assert r.json()["user_id"] == uid and r.json()["key"]
    r = requests.post(claim, json={"code": code, "verifier": attempt.verifier})
    assert r.status_code == 400 and "unknown, used or expired" in r.json()["message"]
    with server.lib.read() as s:
        assert list(s.scalars(select(PairingCode.code_hash))) == []


def test_an_expired_code_is_refused(
    server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]]
) -> None:
    import base64
    import hashlib
    from datetime import datetime, timedelta

    from photodesk.core import InvalidInput

    uid, *_ = make_user()
    codes = server.lib.accounts.pairing_codes
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    code = codes.issue(uid, "laptop", challenge.rstrip(b"=").decode())
    start = datetime.now()
    codes.clock = lambda: start + timedelta(minutes=6)
    with pytest.raises(InvalidInput, match="expired"):
        codes.claim(code, verifier)
    codes.clock = datetime.now
    with pytest.raises(InvalidInput, match="used"):  # and gone
        codes.claim(code, verifier)
    fresh = codes.issue(uid, "laptop", challenge.rstrip(b"=").decode())
    assert codes.claim(fresh, verifier).user_id == uid


def test_the_listener_ignores_an_answer_with_another_state(server: ServerInfo) -> None:
    attempt = BrowserPairing(HttpRemote(server.url), "laptop")
    try:
        r = requests.get(f"{attempt.redirect_uri}?code=abc&state=forged")
        assert r.status_code == 400
        assert requests.get(attempt.redirect_uri.replace("/callback", "/other")).status_code == 404
        r = requests.get(f"{attempt.redirect_uri}?error=access_denied&state={attempt.state}")
        assert r.status_code == 200
        with pytest.raises(RemoteRefused, match="cancelled"):
            attempt.wait(5)
    finally:
        attempt.close()


def test_remote_add_browser_from_the_command_line(
    tmp_path: Path, server: ServerInfo, make_user: Callable[..., tuple[int, str, str, str]],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    import webbrowser

    from photodesk.cli.main import main

    _, email, password, _ = make_user()
    browser = ScriptedBrowser(email, password)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    lib = tmp_path / "desk"
    rc = main(["--library", str(lib), "remote", "add", server.url, "--browser", "--device", "pc"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert f"{server.url}/pair/device?" in err  # printed too, for a browser on another screen
    assert f"paired with {server.url} as {email}" in out
    rc = main(["--library", str(lib), "remote", "add", server.url, "--browser", "--email", "a@b"])
    assert rc != 0 and "leave out --email" in capsys.readouterr().err
