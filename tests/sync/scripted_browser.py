"""A scripted browser for sign-in flows: an aiohttp client that keeps cookies, follows the
redirects one by one (so tests see each hop) and fills the forms a person would."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    import html as htmllib

    return {k: htmllib.unescape(v) for k, v in HIDDEN.findall(html)}


class ScriptedBrowser:
    """``open(url)`` walks the pairing flow: sign in (password, then ``code()`` if the server asks
    for a second factor), then press ``decision`` on the pairing page, then follow the redirect
    to the desktop's loopback listener. ``hops`` records every URL visited."""

    def __init__(
        self, email: str, password: str, *, code: Callable[[], str] | None = None,
        decision: str = "allow",
    ) -> None:  # fmt: skip
        self.email, self.password, self.code, self.decision = email, password, code, decision
        self.hops: list[str] = []
        self.final_status: int | None = None
        self.final_text = ""

    def open(self, url: str) -> bool:
        asyncio.run(self._walk(url))
        return True

    async def _get(self, s: aiohttp.ClientSession, url: str) -> tuple[int, str, str]:
        while True:
            self.hops.append(url)
            async with s.get(url, allow_redirects=False) as r:
                text = await r.text()
                if r.status in (301, 302, 303, 307):
                    url = urljoin(url, r.headers["Location"])
                    continue
                return r.status, text, url

    async def _post(
        self, s: aiohttp.ClientSession, url: str, form: dict[str, Any]
    ) -> tuple[int, str, str]:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        self.hops.append("POST " + url)
        async with s.post(url, data=form, headers={"Origin": origin}, allow_redirects=False) as r:
            text = await r.text()
            if r.status in (302, 303):
                return await self._get(s, urljoin(url, r.headers["Location"]))
            return r.status, text, url

    async def _walk(self, url: str) -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies of an IP-addressed host
        async with aiohttp.ClientSession(cookie_jar=jar) as s:
            status, text, at = await self._get(s, url)
            if 'id="password-form"' in text:
                form = {**hidden_fields(text), "email": self.email, "password": self.password}
                status, text, at = await self._post(s, urljoin(at, "/login"), form)
            if 'id="totp-form"' in text:
                assert self.code is not None, "the server asks for a second factor"
                form = {**hidden_fields(text), "code": self.code()}
                status, text, at = await self._post(s, urljoin(at, "/login/totp"), form)
            if 'id="pair-form"' in text:
                form = {**hidden_fields(text), "decision": self.decision}
                status, text, at = await self._post(s, urljoin(at, "/pair/device"), form)
            self.final_status, self.final_text = status, text
