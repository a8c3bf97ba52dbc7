"""Sharing on the paired server from the desktop: an album with other accounts, public links.

Uses the server's own share routes (``/api/photodesk/albums/{id}/shares``,
``/api/photodesk/shared-links``) with this device's key. A desktop album is the server album of
the same name owned by the account (album identity in sync is the name per owner), so an album
made on the desktop is shareable once a sync round has taken it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from photodesk.core import Library, NotFound
from photodesk.remote.http import HttpRemote
from photodesk.remote.pairing import remote_for

ALBUMS = "/api/photodesk/albums"
LINKS = "/api/photodesk/shared-links"
EXPIRIES = {"never": None, "1 day": "1d", "7 days": "7d", "30 days": "30d"}


@dataclass(frozen=True)
class Grant:
    user_id: int
    email: str
    role: str  # viewer | editor


@dataclass(frozen=True)
class Link:
    id: int
    url: str
    has_password: bool
    expires_at: str | None
    allow_download: bool
    allow_upload: bool
    show_metadata: bool
    active: bool

    def describe(self) -> str:
        parts = ["password" if self.has_password else "no password"]
        parts.append(f"expires {self.expires_at[:10]}" if self.expires_at else "no expiry")
        if self.allow_download:
            parts.append("download")
        if self.allow_upload:
            parts.append("upload")
        if not self.show_metadata:
            parts.append("no metadata")
        if not self.active:
            parts.append("revoked or expired")
        return ", ".join(parts)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Link:
        return cls(
            int(d["id"]), str(d["url"]), bool(d["has_password"]), d.get("expires_at"),
            bool(d["allow_download"]), bool(d["allow_upload"]), bool(d["show_metadata"]),
            bool(d["active"]),
        )  # fmt: skip


@dataclass(frozen=True)
class AlbumShares:
    album_id: int
    name: str
    grants: tuple[Grant, ...]
    links: tuple[Link, ...]


class Sharing:
    """One album's shares on the paired server (every call is HTTP: never on a GUI thread)."""

    def __init__(self, remote: HttpRemote, album: str) -> None:
        self.remote = remote
        self.album = album
        self._id: int | None = None

    @classmethod
    def for_library(cls, lib: Library, album: str) -> Sharing:
        return cls(remote_for(lib)[1], album)

    def album_id(self) -> int:
        if self._id is None:
            albums = self.remote._json("GET", ALBUMS)
            owned = [a for a in albums if a["name"] == self.album and a["role"] == "owner"]
            if not owned:
                raise NotFound(
                    f"the album {self.album!r} is not on the server yet: sync first, then share"
                )
            self._id = int(owned[0]["id"])
        return self._id

    def load(self) -> AlbumShares:
        aid = self.album_id()
        grants = self.remote._json("GET", f"{ALBUMS}/{aid}/shares")
        links = self.remote._json("GET", LINKS)
        return AlbumShares(
            aid,
            self.album,
            tuple(Grant(int(g["user_id"]), str(g["email"]), str(g["role"])) for g in grants),
            tuple(
                Link.from_json(x)
                for x in links
                if x.get("album_id") == aid and x.get("revoked_at") is None
            ),
        )

    def share(self, email: str, role: str) -> Grant:
        body = {"email": email.strip(), "role": role}
        g = self.remote._json("POST", f"{ALBUMS}/{self.album_id()}/shares", body)
        return Grant(int(g["user_id"]), str(g["email"]), str(g["role"]))

    def unshare(self, user_id: int) -> None:
        self.remote._json("DELETE", f"{ALBUMS}/{self.album_id()}/shares/{int(user_id)}")

    def create_link(
        self, *, password: str = "", expires: str = "never", allow_download: bool = False,
        allow_upload: bool = False, show_metadata: bool = True,
    ) -> Link:  # fmt: skip
        body: dict[str, Any] = {
            "album_id": self.album_id(),
            "allow_download": allow_download,
            "allow_upload": allow_upload,
            "show_metadata": show_metadata,
        }
        if password:
            body["password"] = password
        when = EXPIRIES.get(expires, expires)
        if when:
            body["expires"] = when
        return Link.from_json(self.remote._json("POST", LINKS, body))

    def revoke_link(self, link_id: int) -> None:
        self.remote._json("DELETE", f"{LINKS}/{quote(str(int(link_id)))}")
