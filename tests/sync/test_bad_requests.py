"""Bad requests get a 4xx answer, the server keeps serving, and nothing is left behind."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import text


def _raw(url: str, payload: bytes, *, timeout: float = 30.0, hang_up: bool = False) -> bytes:
    """Send raw bytes; returns what the server answers before it closes (or ``timeout``)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(payload)
        if hang_up:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                chunks.append(data)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:200]
    return int(answer.split(b" ", 2)[1])


def _state(server) -> tuple[set[str], tuple[int, ...]]:
    """Files in the library (the catalog's own journal aside) and row counts that bad requests
    must not change."""
    files = {
        str(p.relative_to(server.library_dir))
        for p in Path(server.library_dir).rglob("*")
        if p.is_file() and not p.name.startswith("catalog.db")
    }
    with server.lib.read() as db:
        counts = tuple(
            int(db.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("assets", "asset_files", "user_sessions", "api_keys", "users", "albums")
        )
    return files, counts


@pytest.fixture
def small_server(start_server):
    return start_server(max_json_bytes=4096, max_header_bytes=4096, jobs=False)


def test_invalid_json_bodies_get_400_or_413(small_server, make_user) -> None:
    srv = small_server
    srv.lib.accounts.add_user("x@example.org", "password-x")
    before = _state(srv)
    url = srv.url + "/api/auth/login"
    for body in (b"{", b"\xff\xfe", b"[1, 2", b'{"email": "x@example.org", "password": '):
        r = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
        assert r.status_code == 400, body
        assert r.json()["statusCode"] == 400
    big = b'{"email": "' + b"a" * 10_000 + b'", "password": "x"}'
    r = requests.post(url, data=big, headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413
    r = requests.post(url, data=b"email=x", headers={"Content-Type": "text/html"}, timeout=30)
    assert r.status_code == 415
    assert _state(srv) == before


def test_unknown_routes_and_methods(server, make_user) -> None:
    key = make_user()[3]
    for path in ("/nope", "/api/nope", "/api/photodesk/assets/1/nope", "/../../etc/passwd"):
        r = requests.get(server.url + path, headers={"x-api-key": key}, timeout=30)
        assert r.status_code == 404, path
        assert r.json()["statusCode"] == 404
    r = requests.delete(server.url + "/api/server/ping", timeout=30)
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]


def test_oversized_headers_are_refused(small_server) -> None:
    srv = small_server
    before = _state(srv)
    huge = b"GET /api/server/ping HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n"
    assert 400 <= _status(_raw(srv.url, huge)) < 500
    many = b"GET /api/server/ping HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(500)
    )
    assert 400 <= _status(_raw(srv.url, many + b"\r\n")) < 500
    long_line = b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert 400 <= _status(_raw(srv.url, long_line)) < 500
    assert requests.get(srv.url + "/api/server/ping", timeout=30).json() == {"res": "pong"}
    assert _state(srv) == before


def test_wrong_content_lengths_and_garbage(small_server) -> None:
    srv = small_server
    srv.lib.accounts.add_user("y@example.org", "password-y")
    before = _state(srv)
    body = b'{"email": "y@example.org", "password": "password-y"}'
    head = b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    # announced more than sent, then the client hangs up: no session is created
    short = _raw(srv.url, head + b"Content-Length: 500\r\n\r\n" + body, hang_up=True)
    assert short == b"" or 400 <= _status(short) < 500
    # not a number, negative, or two different lengths
    for bad in (
        b"Content-Length: ten\r\n",
        b"Content-Length: -5\r\n",
        b"Content-Length: 5\r\nContent-Length: 6\r\n",
    ):
        answer = _raw(srv.url, head + bad + b"\r\n" + body)
        assert 400 <= _status(answer) < 500, bad
    # both a length and chunked encoding (request smuggling)
    answer = _raw(
        srv.url,
        head + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    assert 400 <= _status(answer) < 500
    # a request line that is not HTTP at all
    assert 400 <= _status(_raw(srv.url, b"HELLO THERE\r\n\r\n")) < 500
    assert 400 <= _status(_raw(srv.url, b"GET / HTTP/9.9\r\nHost: x\r\n\r\n")) < 600
    assert requests.get(srv.url + "/api/server/ping", timeout=30).status_code == 200
    assert _state(srv) == before
