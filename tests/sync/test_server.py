"""The daemon itself: ping, health, settings, proxies, logs, the CLI's serve and users commands."""

from __future__ import annotations

import requests


def test_ping_and_health_need_no_login(server) -> None:
    r = requests.get(server.url + "/api/server/ping", timeout=30)
    assert r.status_code == 200
    assert r.json() == {"res": "pong"}
    assert r.headers["Content-Type"].startswith("application/json")
    h = requests.get(server.url + "/api/health", timeout=30)
    assert h.status_code == 200
    assert h.json()["status"] == "ok"


def test_every_response_carries_a_request_id(server) -> None:
    r = requests.get(server.url + "/api/server/ping", timeout=30)
    assert len(r.headers["X-Request-Id"]) >= 8
    r = requests.get(
        server.url + "/api/server/ping", headers={"X-Request-Id": "abc-123"}, timeout=30
    )
    assert r.headers["X-Request-Id"] == "abc-123"
    r = requests.get(server.url + "/nowhere", headers={"X-Request-Id": "bad id!"}, timeout=30)
    assert r.status_code == 404
    assert r.headers["X-Request-Id"] != "bad id!"
