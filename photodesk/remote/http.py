"""The sync port over HTTP (standard library only): feed, push, uploads, thumbnails, originals."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import struct
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from photodesk import __version__
from photodesk.core.sync import (
    AssetState,
    Decision,
    FeedPage,
    Mutation,
    PeopleItem,
    PeoplePage,
    PushResult,
    RemoteAccount,
    RemoteRefused,
    RemoteUnavailable,
    SharedAlbumState,
    VectorItem,
    VectorPage,
)

CHUNK = 1 << 20
REVOKED = "the server refused this device's key (revoked?): pair again with `photodesk remote add`"


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not a server address: {url!r} (use http://host:port)")
    return url


def _message(body: bytes, status: int) -> str:
    try:
        data = json.loads(body)
        if isinstance(data, dict) and data.get("message"):
            msg = data["message"]
            return "; ".join(map(str, msg)) if isinstance(msg, list) else str(msg)
    except ValueError:
        pass
    return f"HTTP {status}"


class HttpRemote:
    """A server reached at ``url`` with a device API key."""

    def __init__(self, url: str, key: str | None = None, *, timeout: float = 90.0) -> None:
        self.url = normalize_url(url)
        self.key = key
        self.timeout = timeout

    # -- plumbing --------------------------------------------------------------------------
    def _open(
        self,
        method: str,
        path: str,
        *,
        data: Any = None,
        headers: dict[str, str] | None = None,
        bearer: str | None = None,
    ) -> Any:
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("User-Agent", f"photodesk/{__version__}")
        if bearer:
            req.add_header("Authorization", f"Bearer {bearer}")
        elif self.key:
            req.add_header("x-api-key", self.key)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            body = exc.read()
            exc.close()
            message = _message(body, exc.code)
            if exc.code == 401:
                raise RemoteRefused(
                    "auth", REVOKED if self.key and not bearer else message
                ) from None
            if exc.code in (413, 507):
                raise RemoteRefused("quota", message) from None
            if exc.code in (502, 503, 504):
                raise RemoteUnavailable(f"{self.url}: {message}") from None
            raise RemoteRefused("server", f"{message} ({method} {path})") from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise RemoteUnavailable(f"{self.url} cannot be reached ({reason})") from None

    def _json(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        with self._open(method, path, data=data, headers=headers, **kw) as resp:
            try:
                raw = resp.read()
            except OSError as exc:
                raise RemoteUnavailable(f"{self.url}: the answer was cut ({exc})") from None
        try:
            return json.loads(raw or b"null")
        except ValueError:
            raise RemoteRefused("server", f"{self.url} did not answer JSON ({path})") from None

    # -- pairing ---------------------------------------------------------------------------
    def ping(self) -> None:
        """Is a photodesk (or Immich-compatible) server there? RemoteUnavailable if not."""
        data = self._json("GET", "/api/server/ping")
        if not isinstance(data, dict) or data.get("res") != "pong":
            raise RemoteRefused("server", f"{self.url} does not look like a photodesk server")

    def login(self, email: str, password: str) -> str:
        """A session token for the account (accounts with two factors pair with a key)."""
        data = self._json("POST", "/api/auth/login", {"email": email, "password": password})
        token = data.get("accessToken") if isinstance(data, dict) else None
        if not token:
            raise RemoteRefused(
                "auth", "this account signs in with a second factor: pair with --api-key-stdin"
            )
        return str(token)

    def create_device_key(self, token: str, device: str) -> str:
        data = self._json("POST", "/api/photodesk/sync/devices", {"name": device}, bearer=token)
        return str(data["key"])

    # -- the port --------------------------------------------------------------------------
    def account(self) -> RemoteAccount:
        data = self._json("GET", "/api/photodesk/sync/account")
        return RemoteAccount(int(data["user_id"]), str(data["email"]), str(data.get("name") or ""))

    def head(self) -> int:
        return int(self._json("GET", "/api/photodesk/sync/account")["head"])

    def changes(
        self,
        cursor: int,
        limit: int,
        wait: int = 0,
        *,
        after: int | None = None,
        device: str | None = None,
        known: dict[str, int] | None = None,
    ) -> FeedPage:
        params: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if wait:
            params["wait"] = wait
            params.update(known or {})
        if after is not None:
            params["after"] = after
        if device:
            params["device"] = device
        query = urlencode(params)
        data = self._json("GET", f"/api/photodesk/sync/changes?{query}")
        snapshot = data.get("snapshot")
        return FeedPage(
            tuple(AssetState.from_json(item) for item in data["items"]),
            int(data["cursor"]),
            int(data["head"]),
            bool(data["more"]),
            after=None if data.get("after") is None else int(data["after"]),
            resync=bool(data.get("resync")),
            snapshot=None if snapshot is None else (int(snapshot[0]), int(snapshot[1])),
            heads={str(k): int(v) for k, v in (data.get("heads") or {}).items()},
        )

    def people(self, cursor: int, limit: int) -> PeoplePage:
        query = urlencode({"cursor": cursor, "limit": limit})
        data = self._json("GET", f"/api/photodesk/sync/people?{query}")
        return PeoplePage(
            tuple(PeopleItem.from_json(item) for item in data["items"]),
            int(data["cursor"]),
            int(data["head"]),
            bool(data["more"]),
        )

    def push_people(self, items: list[PeopleItem]) -> PushResult:
        body = {"items": [i.as_json() for i in items]}
        data = self._json("POST", "/api/photodesk/sync/people", body)
        return _push_result(data)

    def embeddings(self, after: int, limit: int) -> VectorPage:
        query = urlencode({"after": after, "limit": limit})
        data = self._json("GET", f"/api/photodesk/sync/embeddings?{query}")
        return VectorPage(
            tuple(VectorItem.from_json(item) for item in data["items"]),
            int(data["cursor"]),
            bool(data["more"]),
        )

    def shared(self) -> tuple[list[SharedAlbumState], int]:
        data = self._json("GET", "/api/photodesk/sync/shared")
        albums = [SharedAlbumState.from_json(a) for a in data["albums"]]
        return albums, int(data["version"])

    def edit_shared(self, album_id: int, add: list[int], remove: list[int]) -> None:
        """Through the server's album routes (the same rules as the web app's)."""
        path = f"/api/photodesk/albums/{int(album_id)}/assets"
        if add:
            self._json("PUT", path, {"ids": add})
        if remove:
            self._json("DELETE", path, {"ids": remove})

    def push_embeddings(self, items: list[VectorItem]) -> PushResult:
        data = self._json(
            "POST", "/api/photodesk/sync/embeddings", {"items": [i.as_json() for i in items]}
        )
        return _push_result(data)

    def push(self, mutations: list[Mutation]) -> PushResult:
        data = self._json(
            "POST", "/api/photodesk/sync/push", {"mutations": [m.as_json() for m in mutations]}
        )
        return _push_result(data)

    def upload(self, path: Path, checksum: str) -> int:
        """Through the server's upload route (``POST /api/assets``), found first by checksum."""
        stat = path.stat()
        when = datetime.fromtimestamp(stat.st_mtime).isoformat(timespec="seconds")
        fields = {
            "deviceAssetId": f"{path.name}-{checksum}",
            "deviceId": "photodesk-desktop",
            "fileCreatedAt": when,
            "fileModifiedAt": when,
            "fileSize": str(stat.st_size),
            "filename": path.name,
        }
        boundary = "photodesk" + secrets.token_hex(12)
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        )
        safe = path.name.replace('"', "_").replace("\r", "_").replace("\n", "_")
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="assetData"; '
            f'filename="{safe}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()

        def body() -> Iterator[bytes]:
            yield head
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
            yield tail

        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + stat.st_size + len(tail)),
            "x-immich-checksum": checksum,
        }
        with self._open("POST", "/api/assets", data=body(), headers=headers) as resp:
            data = json.loads(resp.read())
        return int(data["id"])

    def thumbnails(self, remote_ids: list[int]) -> dict[int, bytes]:
        query = urlencode({"ids": ",".join(str(int(i)) for i in remote_ids)})
        out: dict[int, bytes] = {}
        with self._open("GET", f"/api/photodesk/sync/thumbnails?{query}") as resp:
            try:
                while header := resp.read(12):
                    if len(header) < 12:
                        raise RemoteUnavailable(f"{self.url}: the thumbnails were cut short")
                    asset_id, size = struct.unpack(">QI", header)
                    data = resp.read(size) if size else b""
                    if len(data) < size:
                        raise RemoteUnavailable(f"{self.url}: the thumbnails were cut short")
                    if data:
                        out[int(asset_id)] = bytes(data)
            except OSError as exc:
                raise RemoteUnavailable(f"{self.url}: the answer was cut ({exc})") from None
        return out

    def preview(self, remote_id: int) -> bytes | None:
        try:
            with self._open(
                "GET", f"/api/photodesk/assets/{int(remote_id)}/thumbnail?size=preview"
            ) as resp:
                return bytes(resp.read())
        except RemoteRefused as exc:
            message = str(exc)
            if exc.reason == "server" and ("no thumbnail" in message or "HTTP 404" in message):
                return None
            raise
        except OSError as exc:
            raise RemoteUnavailable(f"{self.url}: the answer was cut ({exc})") from None

    def original(self, remote_id: int, dest: Path, checksum: str | None = None) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        sha1 = hashlib.sha1()
        try:
            with (
                self._open("GET", f"/api/photodesk/assets/{int(remote_id)}/original") as resp,
                open(tmp, "wb") as fh,
            ):
                while chunk := resp.read(CHUNK):
                    sha1.update(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if checksum and sha1.hexdigest() != checksum:
                raise RemoteRefused("server", f"the original of asset {remote_id} arrived damaged")
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)


def _push_result(data: Any) -> PushResult:
    return PushResult(
        int(data["applied"]),
        int(data["skipped"]),
        tuple(
            Decision(c["checksum"], c["field"], c["winner"], c["kept"], c["dropped"])
            for c in data.get("conflicts", [])
        ),
        tuple(str(e) for e in data.get("errors", [])),
    )
