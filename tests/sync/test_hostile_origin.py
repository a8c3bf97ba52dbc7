"""Cookie-authenticated writes from other sites are refused: logout too."""

from __future__ import annotations

import requests


def _signed_in(server, make_user) -> tuple[requests.Session, str]:
    _uid, email, password, _key = make_user()
    s = requests.Session()
    r = s.post(f"{server.url}/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 201
    return s, r.json()["accessToken"]


def test_logout_from_a_foreign_origin_is_refused(server, make_user) -> None:
    s, _token = _signed_in(server, make_user)
    r = s.post(f"{server.url}/api/auth/logout", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "cross-site" in r.json()["message"]
    r = s.post(f"{server.url}/api/auth/logout", headers={"Referer": "https://evil.example/x"})
    assert r.status_code == 403
    assert s.get(f"{server.url}/api/photodesk/me").status_code == 200  # still signed in
    # from this server's own pages it works
    r = s.post(f"{server.url}/api/auth/logout", headers={"Origin": server.url})
    assert r.status_code == 200
    assert s.get(f"{server.url}/api/photodesk/me").status_code == 401


def test_logout_with_a_bearer_token_needs_no_origin(server, make_user) -> None:
    _s, token = _signed_in(server, make_user)
    bearer = {"Authorization": f"Bearer {token}"}
    r = requests.post(f"{server.url}/api/auth/logout", headers=bearer)
    assert r.status_code == 200
    assert requests.get(f"{server.url}/api/photodesk/me", headers=bearer).status_code == 401
