"""The daemon itself: ping, health, settings, proxies, logs, the CLI's serve and users commands."""

from __future__ import annotations

import io
import ipaddress
import json
import logging
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from photodesk.core import InvalidInput, Library
from photodesk.sync.config import ServerConfig, load_config
from photodesk.sync.logs import ACCESS_LOGGER, JsonFormatter
from photodesk.sync.proxy import client_address


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


def test_settings_come_from_defaults_file_env_and_flags(tmp_path: Path) -> None:
    default = load_config(env={})
    assert default.host == "127.0.0.1"  # safe: this machine only
    assert default.trusted_proxies == ()
    cfg = tmp_path / "server.toml"
    cfg.write_text(
        "[server]\n"
        'library = "lib"\n'
        'host = "0.0.0.0"\n'
        "port = 9000\n"
        "max_upload_mb = 2\n"
        'trusted_proxies = ["10.0.0.0/8", "::1"]\n'
        'public_url = "https://photos.example.org/"\n'
        "[other]\n"
        "x = 1\n"
    )
    got = load_config(cfg, env={"PHOTODESK_PORT": "9100", "PHOTODESK_LOG_FORMAT": "json"})
    assert got.library == (tmp_path / "lib").resolve()
    assert (got.host, got.port, got.log_format) == ("0.0.0.0", 9100, "json")
    assert got.max_upload_bytes == 2 * 1024 * 1024
    assert got.is_trusted_proxy("10.1.2.3") and got.is_trusted_proxy("::1")
    assert not got.is_trusted_proxy("192.168.1.1") and not got.is_trusted_proxy("junk")
    assert got.public_origin == "https://photos.example.org"
    assert got.extra == {"other": {"x": 1}}
    flags = load_config(cfg, env={"PHOTODESK_PORT": "9100"}, port=9200, host=None)
    assert (flags.host, flags.port) == ("0.0.0.0", 9200)


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("port = 99999\n", {}),
        ('trusted_proxies = ["not-an-ip"]\n', {}),
        ("colour = 'red'\n", {}),
        ("port = \n", {}),
        ("", {"PHOTODESK_MAX_UPLOAD_BYTES": "-1"}),
        ("", {"PHOTODESK_PUBLIC_URL": "ftp://x"}),
    ],
)
def test_bad_settings_are_clear_errors(tmp_path: Path, text: str, env: dict[str, str]) -> None:
    cfg = tmp_path / "server.toml"
    cfg.write_text(text)
    with pytest.raises(InvalidInput):
        load_config(cfg, env=env)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read"):
        load_config(tmp_path / "nope.toml", env={})


def test_forwarded_headers_count_only_from_trusted_proxies() -> None:
    trusted = ServerConfig(trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),))
    # a trusted proxy: the client is the right-most address that is not one of ours
    assert client_address("10.0.0.2", "203.0.113.9, 10.0.0.7", trusted) == "203.0.113.9"
    # a client cannot pick its address by prepending a fake one
    assert client_address("10.0.0.2", "1.2.3.4, 203.0.113.9", trusted) == "203.0.113.9"
    assert client_address("10.0.0.2", "garbage", trusted) == "10.0.0.2"
    # anyone else: the headers are ignored
    assert client_address("198.51.100.1", "203.0.113.9", trusted) == "198.51.100.1"


def test_behind_a_trusted_proxy_cookies_are_secure(start_server) -> None:
    srv = start_server(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),))
    srv.lib.accounts.add_user("p@example.org", "password-p")
    login = {"email": "p@example.org", "password": "password-p"}
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "photos.example.org"}
    r = requests.post(srv.url + "/api/auth/login", json=login, headers=proxied, timeout=60)
    assert r.status_code == 201
    assert "Secure" in r.headers["Set-Cookie"]
    # the origin check uses the host and scheme the proxy reports
    token = r.json()["accessToken"]
    change = {"password": "x" * 9, "newPassword": "y" * 9}
    r = requests.post(
        srv.url + "/api/photodesk/me/password",
        json=change,
        cookies={"photodesk_session": token},
        headers={**proxied, "Origin": "https://photos.example.org"},
        timeout=60,
    )
    assert r.status_code == 400  # past the CSRF check: the current password is wrong
    # rate limits follow the real client address given by the proxy
    wrong = {"email": "p@example.org", "password": "wrong-one"}
    for _ in range(srv.config.login_attempts):
        hdrs = {"X-Forwarded-For": "203.0.113.1"}
        requests.post(srv.url + "/api/auth/login", json=wrong, headers=hdrs, timeout=60)
    hdrs = {"X-Forwarded-For": "203.0.113.1"}
    assert requests.post(srv.url + "/api/auth/login", json=login, headers=hdrs).status_code == 429
    hdrs = {"X-Forwarded-For": "203.0.113.2"}
    assert requests.post(srv.url + "/api/auth/login", json=login, headers=hdrs).status_code == 201


def test_without_trusted_proxies_forwarded_headers_are_ignored(server) -> None:
    server.lib.accounts.add_user("q@example.org", "password-q")
    wrong = {"email": "q@example.org", "password": "wrong-one"}
    for i in range(server.config.login_attempts):
        hdrs = {"X-Forwarded-For": f"203.0.113.{i}", "X-Forwarded-Proto": "https"}
        r = requests.post(server.url + "/api/auth/login", json=wrong, headers=hdrs, timeout=60)
        assert "Secure" not in r.headers.get("Set-Cookie", "")
    hdrs = {"X-Forwarded-For": "198.51.100.77"}
    r = requests.post(server.url + "/api/auth/login", json=wrong, headers=hdrs, timeout=60)
    assert r.status_code == 429


def test_access_log_lines_are_json_with_the_request_id(server, make_user) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    access = logging.getLogger(ACCESS_LOGGER)
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        uid, _, _, key = make_user()
        r = requests.get(server.url + "/api/photodesk/me", headers={"x-api-key": key}, timeout=30)
        rid = r.headers["X-Request-Id"]
        deadline = time.monotonic() + 30
        while rid not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    mine = [x for x in lines if x.get("request_id") == rid]
    assert len(mine) == 1
    entry = mine[0]
    assert entry["status"] == 200 and entry["method"] == "GET"
    assert entry["path"] == "/api/photodesk/me"
    assert entry["user_id"] == uid and entry["remote"] == "127.0.0.1"
    assert key not in stream.getvalue()  # credentials never reach the logs


def test_users_and_apikeys_commands(tmp_path: Path, monkeypatch, capsys) -> None:
    from photodesk.cli.main import main

    lib_dir = str(tmp_path / "lib")
    assert main(["--library", lib_dir, "init"]) == 0  # `users` needs a library; it makes none
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password\n"))
    assert (
        main(
            [
                "--library",
                lib_dir,
                "users",
                "add",
                "Cli@Example.org",
                "--admin",
                "--password-stdin",
                "--quota",
                "2G",
            ]
        )
        == 0
    )
    assert "cli@example.org" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n"))
    assert main(["--library", lib_dir, "users", "add", "b@example.org", "--password-stdin"]) == 1
    assert "at least 8" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("second-password\n"))
    assert main(["--library", lib_dir, "users", "add", "cli@example.org", "--password-stdin"]) == 1
    assert "already" in capsys.readouterr().err
    assert main(["--library", lib_dir, "users", "list", "--json"]) == 0
    users = {u["email"]: u for u in json.loads(capsys.readouterr().out)}
    assert users["cli@example.org"]["is_admin"] is True
    assert users["cli@example.org"]["quota_bytes"] == 2 * 1024**3
    assert (
        main(
            [
                "--library",
                lib_dir,
                "apikeys",
                "create",
                "--user",
                "cli@example.org",
                "--name",
                "laptop",
            ]
        )
        == 0
    )
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("pd_") and " " not in key
    assert main(["--library", lib_dir, "apikeys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "laptop" in listing and key not in listing
    monkeypatch.setattr("sys.stdin", io.StringIO("changed-password\n"))
    assert (
        main(["--library", lib_dir, "users", "passwd", "cli@example.org", "--password-stdin"]) == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("whatever-pass\n"))
    assert (
        main(["--library", lib_dir, "users", "passwd", "nobody@example.org", "--password-stdin"])
        == 1
    )
    with Library.open(lib_dir) as lib:
        assert lib.accounts.verify_password("cli@example.org", "changed-password") is not None
        grant = lib.accounts.resolve_api_key(key)
        assert grant is not None and grant.user.email == "cli@example.org"
        key_id = grant.key.id
    assert main(["--library", lib_dir, "apikeys", "revoke", str(key_id)]) == 0
    with Library.open(lib_dir) as lib:
        assert lib.accounts.resolve_api_key(key) is None


def test_photodesk_serve_runs_as_a_process_and_stops_cleanly(tmp_path, serve_subprocess) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        uid = lib.accounts.add_user("proc@example.org", "password-proc")
        key = lib.accounts.create_api_key(uid, "test")
    sp = serve_subprocess(lib_dir, "--log-format", "json")
    assert sp.url.startswith("http://127.0.0.1:")
    assert requests.get(sp.url + "/api/server/ping", timeout=30).json() == {"res": "pong"}
    me = requests.get(sp.url + "/api/photodesk/me", headers={"x-api-key": key}, timeout=30)
    assert me.status_code == 200 and me.json()["email"] == "proc@example.org"
    assert sp.stop() == 0
    logs = [json.loads(line) for line in sp.output if line.startswith("{")]
    assert any(x.get("path") == "/api/photodesk/me" and x.get("status") == 200 for x in logs)
    assert any(x["msg"] == "shutting down" for x in logs)
    with Library.open(lib_dir) as lib:  # closed cleanly: the catalog opens again
        assert lib.accounts.by_email("proc@example.org").id == uid


def test_serve_refuses_a_bad_config(tmp_path: Path, capsys) -> None:
    from photodesk.cli.main import main

    bad = tmp_path / "bad.toml"
    bad.write_text("port = 'eighty'\n")
    assert main(["--library", str(tmp_path / "lib"), "serve", "--config", str(bad)]) == 2
    assert "port" in capsys.readouterr().err


def test_listening_line_is_one_write_logs_cannot_split() -> None:
    """Scripts read the port from this line; with PYTHONUNBUFFERED, print() wrote the text and
    the newline apart and a log line of the server thread glued itself to the URL (CI saw
    ``127.0.0.1:335892026-12-07``)."""
    from photodesk.cli.serve_cmd import announce

    writes: list[str] = []

    class Pipe(io.StringIO):
        def write(self, s: str) -> int:
            writes.append(s)
            return super().write(s)

    announce("http://127.0.0.1:33589", Pipe())
    assert writes == ["photodesk serve: listening on http://127.0.0.1:33589\n"]


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path, serve_subprocess) -> None:
    lib_dir = tmp_path / "lib"
    with Library.open(lib_dir) as lib:
        lib.accounts.add_user("late@example.org", "password-late")
    sp = serve_subprocess(lib_dir)
    body = json.dumps({"email": "late@example.org", "password": "password-late"}).encode()
    parts = urlsplit(sp.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as sock:
        sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        # "100 Continue" comes from the request's handling task: the request is now in flight
        assert sock.recv(1024).startswith(b"HTTP/1.1 100")
        sp.proc.send_signal(signal.SIGTERM)
        sock.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
    assert sp.proc.wait(60) == 0
