"""Two-factor sign-in on the daemon: enrol over the API, password + code, replay, recovery."""

from __future__ import annotations

import re

import pytest
import requests

from photodesk.core.accounts.totp import code_at

T0 = 1_800_000_000.0  # the injected clock starts at a step boundary


def _login(url: str, email: str, password: str) -> requests.Response:
    return requests.post(f"{url}/api/auth/login", json={"email": email, "password": password})


def _code(url: str, pending: str, code: str) -> requests.Response:
    return requests.post(f"{url}/api/auth/login/totp", json={"pendingToken": pending, "code": code})


@pytest.fixture
def enrolled(server, make_user):
    """A user with TOTP on (enrolled through the API at T0); the daemon's clock is ``clock``."""
    uid, email, password, key = make_user()
    clock = [T0]
    server.lib.accounts.totp.clock = lambda: clock[0]
    token = _login(server.url, email, password).json()["accessToken"]
    auth = {"Authorization": f"Bearer {token}"}
    # API keys cannot change the second factor; sessions can.
    r = requests.post(f"{server.url}/api/photodesk/me/2fa/begin", headers={"x-api-key": key})
    assert r.status_code == 403
    r = requests.post(f"{server.url}/api/photodesk/me/2fa/begin", headers=auth)
    assert r.status_code == 200, r.text
    setup = r.json()
    secret = setup["secret"]
    assert setup["otpauthUri"].startswith("otpauth://totp/photodesk:")
    assert f"secret={secret}" in setup["otpauthUri"]
    try:
        import qrcode  # noqa: F401  (optional: the QR code comes with it)
    except ImportError:
        assert "qrSvg" not in setup
    else:
        assert setup["qrSvg"].startswith("<svg") and setup["qrSvg"].endswith("</svg>")
    assert (
        requests.get(f"{server.url}/api/photodesk/me/2fa", headers=auth).json()["enabled"] is False
    )
    r = requests.post(
        f"{server.url}/api/photodesk/me/2fa/confirm", headers=auth, json={"code": "000000"}
    )
    assert r.status_code == 400 or code_at(secret, T0) == "000000"
    r = requests.post(
        f"{server.url}/api/photodesk/me/2fa/confirm",
        headers=auth,
        json={"code": code_at(secret, T0)},
    )
    assert r.status_code == 200, r.text
    codes = r.json()["recoveryCodes"]
    assert len(codes) == 10
    status = requests.get(f"{server.url}/api/photodesk/me/2fa", headers=auth).json()
    assert status == {"enabled": True, "recoveryCodesLeft": 10, "enabledAt": status["enabledAt"]}
    return {"uid": uid, "email": email, "password": password, "key": key, "secret": secret,
            "codes": codes, "clock": clock}  # fmt: skip


def test_password_alone_is_not_enough(server, enrolled) -> None:
    e = enrolled
    r = _login(server.url, e["email"], e["password"])
    assert r.status_code == 401
    body = r.json()
    assert body["secondFactorRequired"] is True and "accessToken" not in body
    assert "set-cookie" not in {k.lower() for k in r.headers}
    pending = body["pendingToken"]
    # The pending token is no credential.
    me = requests.get(
        f"{server.url}/api/photodesk/me", headers={"Authorization": f"Bearer {pending}"}
    )
    assert me.status_code == 401
    # A wrong password never reaches the second step.
    wrong = _login(server.url, e["email"], "not the password")
    assert wrong.status_code == 401 and "pendingToken" not in wrong.json()

    e["clock"][0] = T0 + 30
    assert _code(server.url, pending, "123456" if code_at(e["secret"], T0 + 30) != "123456"
                 else "654321").status_code == 401  # fmt: skip
    r = _code(server.url, pending, code_at(e["secret"], T0 + 30))
    assert r.status_code == 201, r.text
    token = r.json()["accessToken"]
    me = requests.get(
        f"{server.url}/api/photodesk/me", headers={"Authorization": f"Bearer {token}"}
    )
    assert me.status_code == 200 and me.json()["email"] == e["email"]
    assert _code(server.url, pending, code_at(e["secret"], T0 + 30)).status_code == 401  # used up

    # Replay: the same code on a new login is refused, even within its 30 s.
    pending = _login(server.url, e["email"], e["password"]).json()["pendingToken"]
    r = _code(server.url, pending, code_at(e["secret"], T0 + 30))
    assert r.status_code == 401 and "not right" in r.json()["message"]
    e["clock"][0] = T0 + 60
    assert _code(server.url, pending, code_at(e["secret"], T0 + 60)).status_code == 201

    # API keys are unaffected by the second factor.
    me = requests.get(f"{server.url}/api/photodesk/me", headers={"x-api-key": e["key"]})
    assert me.status_code == 200


def test_recovery_code_works_once(server, enrolled) -> None:
    e = enrolled
    pending = _login(server.url, e["email"], e["password"]).json()["pendingToken"]
    assert _code(server.url, pending, e["codes"][3]).status_code == 201
    pending = _login(server.url, e["email"], e["password"]).json()["pendingToken"]
    assert _code(server.url, pending, e["codes"][3]).status_code == 401
    assert _code(server.url, pending, e["codes"][4].upper()).status_code == 201


def test_wrong_codes_are_rate_limited(server, enrolled) -> None:
    e = enrolled
    pending = _login(server.url, e["email"], e["password"]).json()["pendingToken"]
    right = code_at(e["secret"], T0 + 30)
    e["clock"][0] = T0 + 30
    wrong = "111111" if right != "111111" else "222222"
    statuses = [_code(server.url, pending, wrong).status_code for _ in range(6)]
    assert statuses[0] == 401 and 429 in statuses, statuses
    # Limited now: even the right code and the right password wait.
    assert _code(server.url, pending, right).status_code in (401, 429)
    assert _login(server.url, e["email"], e["password"]).status_code == 429


def test_disable_needs_a_code_or_password(server, enrolled) -> None:
    e = enrolled
    token = _login_fully(server, e)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{server.url}/api/photodesk/me/2fa/disable"
    assert requests.post(url, headers=auth, json={}).status_code == 400
    assert requests.post(url, headers=auth, json={"password": "wrong password"}).status_code == 400
    r = requests.post(url, headers=auth, json={"password": e["password"]})
    assert r.status_code == 200 and r.json()["wasEnabled"] is True
    assert _login(server.url, e["email"], e["password"]).status_code == 201


def _login_fully(server, e) -> str:
    e["clock"][0] += 30
    pending = _login(server.url, e["email"], e["password"]).json()["pendingToken"]
    r = _code(server.url, pending, code_at(e["secret"], e["clock"][0]))
    assert r.status_code == 201, r.text
    return str(r.json()["accessToken"])


def test_web_login_page_with_totp_step(server, enrolled) -> None:
    e = enrolled
    origin = {"Origin": server.url}
    page = requests.get(f"{server.url}/login?next=/upload/")
    assert page.status_code == 200 and 'id="password-form"' in page.text
    assert "Sign in with" not in page.text  # no provider configured
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert requests.get(f"{server.url}/login/login.css").status_code == 200

    form = {"email": e["email"], "password": e["password"], "next": "/upload/"}
    # Cross-site form posts are refused.
    r = requests.post(f"{server.url}/login", data=form, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = requests.post(f"{server.url}/login", data={**form, "password": "nope nope"}, headers=origin)
    assert r.status_code == 401 and "incorrect email or password" in r.text
    r = requests.post(f"{server.url}/login", data=form, headers=origin, allow_redirects=False)
    assert r.status_code == 200 and 'id="totp-form"' in r.text
    assert "photodesk_session" not in r.cookies
    pending = re.search(r'name="pending" value="([^"]+)"', r.text).group(1)
    e["clock"][0] = T0 + 30
    step = {"pending": pending, "next": "https://evil.example/", "code": "999999"}
    if code_at(e["secret"], T0 + 30) == "999999":
        step["code"] = "888888"
    r = requests.post(f"{server.url}/login/totp", data=step, headers=origin)
    assert r.status_code == 401 and 'id="totp-form"' in r.text  # still at the code step
    step["code"] = code_at(e["secret"], T0 + 30)
    r = requests.post(f"{server.url}/login/totp", data=step, headers=origin, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"] == "/upload/"  # never to another site
    cookie = r.cookies.get("photodesk_session")
    assert cookie
    me = requests.get(f"{server.url}/api/photodesk/me", cookies={"photodesk_session": cookie})
    assert me.status_code == 200 and me.json()["email"] == e["email"]
    # Signed in: the page sends the browser on.
    r = requests.get(
        f"{server.url}/login?next=/api/photodesk/me",
        cookies={"photodesk_session": cookie},
        allow_redirects=False,
    )
    assert r.status_code == 302 and r.headers["Location"] == "/api/photodesk/me"


def test_users_2fa_command(tmp_path, monkeypatch, capsys) -> None:
    import time

    from photodesk.cli.main import main
    from photodesk.core import Library
    from photodesk.core.catalog.db.schema import UserTotp

    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        uid = lib.accounts.add_user("ann@example.org", "a long password")

    class AppCode:
        """Standard input that answers with the code the new secret shows now."""

        def readline(self) -> str:
            with Library.open(lib_dir) as lib, lib.read() as s:
                return code_at(s.get(UserTotp, uid).secret, time.time()) + "\n"

    monkeypatch.setattr("sys.stdin", AppCode())
    args = ["--library", str(lib_dir), "users", "2fa"]
    assert main([*args, "enable", "ann@example.org"]) == 0
    out = capsys.readouterr().out
    assert "otpauth://totp/photodesk:ann@example.org?secret=" in out
    assert len(re.findall(r"^  [a-z2-9]{5}-[a-z2-9]{5}$", out, re.MULTILINE)) == 10
    assert main([*args, "status", "ann@example.org"]) == 0
    assert "on, 10 recovery codes left" in capsys.readouterr().out
    assert main([*args, "enable", "ann@example.org", "--code", "123456"]) == 1  # already on
    assert "already on" in capsys.readouterr().err
    assert main([*args, "disable", "ann@example.org"]) == 0
    assert main([*args, "status", "ann@example.org"]) == 0
    assert ": off" in capsys.readouterr().out
    assert main([*args, "status", "nobody@example.org"]) == 1
