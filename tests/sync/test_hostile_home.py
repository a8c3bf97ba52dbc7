"""The server's root answers a browser with a landing page, not a JSON 404."""

from __future__ import annotations

import requests


def test_the_root_is_a_landing_page(server, make_user) -> None:
    r = requests.get(server.url + "/", timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert 'href="/login"' in r.text and "Sign in" in r.text
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    _uid, email, password, _key = make_user(name="Ada")
    s = requests.Session()
    form = {"email": email, "password": password}
    assert s.post(server.url + "/login", data=form, headers={"Origin": server.url}).ok
    page = s.get(server.url + "/", timeout=60)
    assert page.status_code == 200
    for link in ('href="/albums"', 'href="/upload/"', 'action="/logout"'):
        assert link in page.text, link
    assert "Ada" in page.text and 'href="/login"' not in page.text
