"""Pairing through the browser: a one-shot loopback listener, as desktop OAuth apps do.

``BrowserPairing`` listens on ``127.0.0.1`` (a free port), opens the server's
``/pair/device`` page with a random ``state`` and the SHA-256 ``challenge`` of a secret
verifier, waits for the browser to come back to ``/callback?code=..&state=..``, checks the state,
and trades the code and verifier for a device key (``POST /api/photodesk/sync/devices/claim``).
The key never passes through the browser. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import secrets
import threading
import webbrowser
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from photodesk.core.sync import RemoteRefused
from photodesk.remote.http import HttpRemote

CALLBACK = "/callback"
WAIT_S = 300.0
DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>photodesk</title>"
    "<p style='font:16px sans-serif;margin:3em'>{}</p>"
)


class BrowserPairing:
    """One pairing attempt; ``url`` is the page to open, ``wait()`` the device key."""

    def __init__(self, remote: HttpRemote, device: str, *, host: str = "127.0.0.1") -> None:
        self.remote = remote
        self.device = device
        self.state = secrets.token_urlsafe(24)
        self.verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(self.verifier.encode()).digest()
        self.challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        self._answer: dict[str, str] | None = None
        self._closed = False
        self._got = threading.Event()
        self._server = http.server.HTTPServer((host, 0), self._handler())
        self._server.timeout = 0.5
        port = self._server.server_address[1]
        self.redirect_uri = f"http://{host}:{port}{CALLBACK}"
        query = urlencode(
            {"redirect_uri": self.redirect_uri, "state": self.state,
             "challenge": self.challenge, "name": device}
        )  # fmt: skip
        self.url = f"{remote.url}/pair/device?{query}"
        self._thread = threading.Thread(target=self._serve, name="pair-listener", daemon=True)
        self._thread.start()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
                if parts.path != CALLBACK or owner._got.is_set():
                    self._reply(404, "Nothing here.")
                    return
                if not secrets.compare_digest(query.get("state", ""), owner.state):
                    # another page's redirect: ignored, the real one may still come
                    self._reply(400, "This answer does not belong to the pairing in progress.")
                    return
                owner._answer = query
                owner._got.set()
                if "code" in query:
                    self._reply(200, "This device is paired. You can close this window.")
                else:
                    self._reply(200, "Pairing cancelled. You can close this window.")

            def _reply(self, status: int, text: str) -> None:
                body = DONE_PAGE.format(text).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def _serve(self) -> None:
        while not self._got.is_set() and not self._closed:
            self._server.handle_request()

    def open(self, opener: Callable[[str], object] | None = None) -> None:
        """Open the page in the user's browser (or hand it to ``opener``)."""
        (opener or webbrowser.open)(self.url)

    def wait(self, timeout: float = WAIT_S) -> str:
        """The device key, once the browser came back; RemoteRefused if cancelled or too late."""
        try:
            if not self._got.wait(timeout):
                raise RemoteRefused("auth", "no answer from the browser: pairing cancelled")
            answer = self._answer or {}
            if "code" not in answer:
                raise RemoteRefused("auth", "pairing was cancelled in the browser")
            data = self.remote._json(
                "POST",
                "/api/photodesk/sync/devices/claim",
                {"code": answer["code"], "verifier": self.verifier},
            )
            return str(data["key"])
        finally:
            self.close()

    def close(self) -> None:
        self._closed = True
        self._got.set()
        self._thread.join(timeout=2.0)
        self._server.server_close()
