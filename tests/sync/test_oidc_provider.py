"""OIDC sign-in against a real OpenID provider (the npm ``oidc-provider``) on loopback.

The provider runs on Node 22 (both from npm, cached like the Immich CLI test); a requests session
plays the browser: it follows the redirects and submits the provider's login and consent forms.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
import requests

from photodesk.core.catalog.db.schema import User
from photodesk.sync.oidc import CLIENT
from tests.sync.npm_tools import npm_install

PACKAGES = ("node@22", "oidc-provider@9")
SCRIPT = Path(__file__).parent / "oidc_provider" / "provider.mjs"
SECRET = "a-client-secret-for-the-tests"


@pytest.fixture(scope="module")
def node_provider() -> Path:
    """The cache folder with Node 22 and oidc-provider installed from npm (once)."""
    cache = npm_install("oidc-provider", PACKAGES, "node_modules/oidc-provider/package.json")
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # ES modules resolve packages next to the script, so it runs from the cache folder.
        shutil.copyfile(SCRIPT, cache / "provider.mjs")
    return cache


class Provider:
    """A running oidc-provider process."""

    def __init__(self, cache: Path) -> None:
        self.proc = subprocess.Popen(
            [str(cache / "node_modules" / "node" / "bin" / "node"), "provider.mjs"],
            cwd=cache,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        self.issuer = self._expect(r"^ISSUER (\S+)").group(1)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def _expect(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            m = re.search(pattern, line)
            if m:
                return m
        raise RuntimeError("oidc-provider did not start:\n" + "".join(self.output))

    def configure(self, redirect_uri: str, **extra: Any) -> None:
        assert self.proc.stdin is not None
        cfg = {"redirect_uri": redirect_uri, "client_secret": SECRET, **extra}
        self.proc.stdin.write(json.dumps(cfg) + "\n")
        self.proc.stdin.flush()
        self._expect(r"^READY")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def oidc_server(node_provider, start_server) -> Iterator[Callable[..., Any]]:
    """``oidc_server(**oidc_settings)`` -> a daemon signing in through its own oidc-provider."""
    providers: list[Provider] = []

    def start(**settings: Any) -> Any:
        provider = Provider(node_provider)
        providers.append(provider)
        oidc = {"issuer": provider.issuer, "client_id": "photodesk", "client_secret": SECRET,
                "button_label": "Test IdP", **settings}  # fmt: skip
        server = start_server(extra={"oidc": oidc})
        provider.configure(f"{server.url}/auth/oidc/callback")
        return server

    yield start
    for provider in providers:
        provider.stop()


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def _follow(session: requests.Session, response: requests.Response, stop: str) -> str:
    """Follow redirects and submit the provider's forms until a redirect to ``stop``."""
    for _ in range(20):
        if response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if target.startswith(stop):
                return target
            response = session.get(target, allow_redirects=False)
            continue
        assert response.status_code == 200, response.text
        parser = _Forms()
        parser.feed(response.text)
        assert parser.forms, response.text
        form = parser.forms[0]
        fields = dict(form["fields"])
        if fields.get("prompt") == "login":
            fields.update(login=session.login_name, password="any password")  # type: ignore[attr-defined]
        response = session.post(
            urljoin(response.url, form["action"]), data=fields, allow_redirects=False
        )
    raise AssertionError("the provider's flow did not end at the callback")


def begin(server: Any, login_name: str, *, next_url: str = "/api/photodesk/me",
          nonce: str | None = None) -> tuple[requests.Session, str]:  # fmt: skip
    """Start signing in at the daemon, sign in at the provider; returns the callback URL."""
    session = requests.Session()
    session.login_name = login_name  # type: ignore[attr-defined]
    r = session.get(
        f"{server.url}/auth/oidc/login", params={"next": next_url}, allow_redirects=False
    )
    assert r.status_code == 302, r.text
    auth_url = r.headers["Location"]
    query = parse_qs(urlsplit(auth_url).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["response_type"] == ["code"] and "openid" in query["scope"][0].split()
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    if nonce is not None:  # an attacker's own authorization request, with its own nonce
        parts = urlsplit(auth_url)
        q = {k: v[0] for k, v in query.items()}
        q["nonce"] = nonce
        auth_url = urlunsplit(parts._replace(query=urlencode(q)))
    r = session.get(auth_url, allow_redirects=False)
    callback = _follow(session, r, f"{server.url}/auth/oidc/callback")
    return session, callback


def finish(session: requests.Session, callback: str) -> requests.Response:
    return session.get(callback, allow_redirects=False)


def _me(server: Any, response: requests.Response) -> requests.Response:
    cookie = response.cookies.get("photodesk_session")
    assert cookie, response.text
    return requests.get(f"{server.url}/api/photodesk/me", cookies={"photodesk_session": cookie})


def test_sign_in_links_a_verified_email_and_refuses_others(oidc_server) -> None:
    server = oidc_server(auto_register=False)
    uid = server.lib.accounts.add_user("alice@example.org", "a local password")

    page = requests.get(f"{server.url}/login")
    assert "Sign in with Test IdP" in page.text and 'id="password-form"' in page.text

    session, callback = begin(server, "alice")
    r = finish(session, callback)
    assert r.status_code == 302 and r.headers["Location"] == "/api/photodesk/me"
    me = _me(server, r)
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == uid and body["email"] == "alice@example.org"
    assert body["name"] == "Alice Liddell"  # the name claim
    assert body["quotaBytes"] == 5 * 1024**3  # the quota claim: 5 (GiB)
    links = server.lib.accounts.identities.links(uid)
    assert [(link.issuer.rstrip("/"), link.subject) for link in links] == [
        (server.config.extra["oidc"]["issuer"], "alice")
    ]
    # The same code cannot be used twice (the state is spent).
    again = finish(session, callback)
    assert again.status_code == 400 and "photodesk_session" not in again.cookies

    # No account for carol, and auto-registration is off.
    session, callback = begin(server, "carol")
    r = finish(session, callback)
    assert r.status_code == 403 and "no photodesk account for carol@example.org" in r.text
    # bob's email is not verified by the provider.
    session, callback = begin(server, "bob")
    r = finish(session, callback)
    assert r.status_code == 403 and "not verified the email address bob@example.org" in r.text
    emails = {u.email for u in server.lib.accounts.list_users()}
    assert "alice@example.org" in emails
    assert not emails & {"carol@example.org", "bob@example.org"}


def test_auto_register_then_link_by_subject(oidc_server) -> None:
    server = oidc_server(auto_register=True)
    session, callback = begin(server, "carol", next_url="//evil.example/")
    r = finish(session, callback)
    assert r.status_code == 302 and r.headers["Location"] == "/upload/"  # never off-site
    body = _me(server, r).json()
    assert body["email"] == "carol@example.org" and body["name"] == "Carol"
    assert body["quotaBytes"] == 750_000_000
    carol = server.lib.accounts.get(body["id"])
    assert not carol.has_password
    # Later sign-ins find the user by subject, whatever the local email became.
    with server.lib.write() as s:
        s.get(User, carol.id).email = "carol.new@example.org"
    session, callback = begin(server, "carol")
    body = _me(server, finish(session, callback)).json()
    assert body["id"] == carol.id and body["email"] == "carol.new@example.org"
    # An unverified email is still refused, auto-registration or not.
    session, callback = begin(server, "bob")
    assert finish(session, callback).status_code == 403
    emails = {u.email for u in server.lib.accounts.list_users()}
    assert "bob@example.org" not in emails and "carol@example.org" not in emails


def test_tampered_state_wrong_nonce_expired_token_are_refused(oidc_server) -> None:
    server = oidc_server(auto_register=True, clock_skew_s=0)
    session, callback = begin(server, "alice")

    # Tampered state: unknown, refused; nothing is signed in.
    parts = urlsplit(callback)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    tampered = urlunsplit(parts._replace(query=urlencode({**q, "state": q["state"][:-2] + "xx"})))
    r = finish(session, tampered)
    assert r.status_code == 400 and "unknown or has expired" in r.text
    assert "photodesk_session" not in r.cookies
    # The callback in another browser (without the cookie of the one that started): refused.
    r = requests.get(callback, allow_redirects=False)
    assert r.status_code == 400 and "another browser" in r.text
    assert "photodesk_session" not in r.cookies

    # The answer claims to come from another provider (RFC 9207 "iss"): refused.
    session, callback = begin(server, "alice")
    parts = urlsplit(callback)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert q["iss"] == server.config.extra["oidc"]["issuer"]
    mixed = urlunsplit(parts._replace(query=urlencode({**q, "iss": "https://other.example"})))
    r = finish(session, mixed)
    assert r.status_code == 400 and "another provider" in r.text

    # Wrong nonce: a code from an authorization request with another nonce is injected.
    session, callback = begin(server, "alice", nonce="an-attackers-nonce-" + "x" * 24)
    r = finish(session, callback)
    assert r.status_code == 400 and "not issued for this sign-in (nonce)" in r.text
    assert "photodesk_session" not in r.cookies

    # Expired ID token: the provider's real token, checked two hours later.
    session, callback = begin(server, "alice")
    server.app[CLIENT].clock = lambda: time.time() + 7200
    r = finish(session, callback)
    assert r.status_code == 400 and "the ID token has expired" in r.text
    assert "photodesk_session" not in r.cookies

    # With the clock right again, the whole flow works.
    server.app[CLIENT].clock = time.time
    session, callback = begin(server, "alice")
    r = finish(session, callback)
    assert r.status_code == 302 and _me(server, r).status_code == 200

    # The provider says no: the user sees why.
    r = requests.get(
        f"{server.url}/auth/oidc/callback",
        params={"error": "access_denied", "error_description": "End-User aborted", "state": "x"},
    )
    assert r.status_code == 403 and "End-User aborted" in r.text


def test_password_login_can_be_disabled(oidc_server) -> None:
    server = oidc_server(auto_register=True, disable_password_login=True)
    uid = server.lib.accounts.add_user("dave@example.org", "a local password")
    key = server.lib.accounts.create_api_key(uid, "scripts")
    r = requests.post(
        f"{server.url}/api/auth/login",
        json={"email": "dave@example.org", "password": "a local password"},
    )
    assert r.status_code == 403 and "sign in with Test IdP" in r.json()["message"]
    page = requests.get(f"{server.url}/login")
    assert "Sign in with Test IdP" in page.text and 'id="password-form"' not in page.text
    r = requests.post(
        f"{server.url}/login",
        data={"email": "dave@example.org", "password": "a local password"},
        headers={"Origin": server.url},
    )
    assert r.status_code == 403 and "photodesk_session" not in r.cookies
    # API keys still work, and OIDC sign-in does.
    assert requests.get(f"{server.url}/api/photodesk/me", headers={"x-api-key": key}).ok
    session, callback = begin(server, "alice")
    assert _me(server, finish(session, callback)).status_code == 200


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Debian chromium through Playwright (never a Playwright browser download)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    exe = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
                if os.access(p, os.X_OK)), shutil.which("chromium"))  # fmt: skip
    if exe is None:
        pytest.skip("no chromium executable (apt-get install chromium)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


def test_browser_signs_in_with_the_provider_and_with_totp(oidc_server, chromium) -> None:
    from photodesk.core.accounts.totp import code_at

    server = oidc_server(auto_register=True)
    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # "Sign in with Test IdP", the provider's own login and consent pages, and back.
        page.goto(f"{server.url}/login?next=/api/photodesk/me")
        page.click("#oidc")
        page.wait_for_selector("input[name=login]")
        page.fill("input[name=login]", "alice")
        page.fill("input[name=password]", "anything")
        page.click("button[type=submit]")
        page.wait_for_selector("button[type=submit]")  # the consent page
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/api/photodesk/me")
        me = json.loads(page.inner_text("body"))
        assert me["email"] == "alice@example.org" and me["authVia"] == "cookie"

        # A local account with TOTP: password, then the code step, then signed in.
        uid = server.lib.accounts.add_user("erin@example.org", "erin's password")
        now = [1_800_000_000.0]
        totp = server.lib.accounts.totp
        totp.clock = lambda: now[0]
        secret = totp.begin(uid).secret
        totp.confirm(uid, code_at(secret, now[0]))
        context.clear_cookies()
        page.goto(f"{server.url}/login?next=/api/photodesk/me")
        page.fill("#email", "erin@example.org")
        page.fill("#password", "erin's password")
        page.click("#password-form button[type=submit]")
        page.wait_for_selector("#totp-form")
        now[0] += 30
        page.fill("#code", code_at(secret, now[0] - 30))  # already used: refused
        page.click("#totp-form button[type=submit]")
        page.wait_for_selector("#error")
        assert "not right" in page.inner_text("#error")
        page.fill("#code", code_at(secret, now[0]))
        page.click("#totp-form button[type=submit]")
        page.wait_for_url(f"{server.url}/api/photodesk/me")
        assert json.loads(page.inner_text("body"))["email"] == "erin@example.org"
    finally:
        context.close()
    assert not errors, errors
