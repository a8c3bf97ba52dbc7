"""What of a remote-only asset comes to the desktop besides its thumbnail (settings per library).

- previews: ``always`` (each round fetches the server's preview of every remote-only asset) or
  ``on_demand`` (the viewer fetches one when it opens the photo);
- originals: ``on_demand`` (opening 1:1, export, ``remote fetch``), ``albums`` (kept offline for
  the albums named in ``offline_albums``, fetched each round) or ``all``.

Files are written whole or not at all (the transport writes a temporary file, checks the SHA-1 and
renames); a downloaded original becomes the asset's file, so it is no longer remote-only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import sync_remote
from photodesk.core.catalog.errors import InvalidInput, NotFound
from photodesk.core.sync.ports import Remote, RemoteRefused

if TYPE_CHECKING:
    from photodesk.core.library import Library

SETTINGS_KEY = "sync.settings"
PREVIEWS = ("always", "on_demand")
ORIGINALS = ("on_demand", "albums", "all")


@dataclass(frozen=True)
class SyncSettings:
    previews: str = "on_demand"
    originals: str = "on_demand"
    offline_albums: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "previews": self.previews,
            "originals": self.originals,
            "offline_albums": list(self.offline_albums),
        }

    @classmethod
    def from_json(cls, data: Any) -> SyncSettings:
        if not isinstance(data, dict):
            return cls()
        albums = data.get("offline_albums") or []
        return cls(
            str(data.get("previews") or "on_demand"),
            str(data.get("originals") or "on_demand"),
            tuple(str(a) for a in albums if isinstance(a, str)),
        )

    def checked(self) -> SyncSettings:
        if self.previews not in PREVIEWS:
            raise InvalidInput(f"previews is {' or '.join(PREVIEWS)}, not {self.previews!r}")
        if self.originals not in ORIGINALS:
            raise InvalidInput(f"originals is {', '.join(ORIGINALS)}, not {self.originals!r}")
        names = tuple(dict.fromkeys(a.strip() for a in self.offline_albums if a.strip()))
        return SyncSettings(self.previews, self.originals, names)


def remote_only(lib: Library, settings: SyncSettings, *, with_previews: bool) -> list[Any]:
    """(id, checksum, remote_id, filename, file_type) of remote-only assets to fetch."""
    albums = None
    if not with_previews and settings.originals == "albums":
        albums = settings.offline_albums  # only the photos of these albums
    with lib.read() as s:
        return sync_remote.remote_only(s, lib.owner_id, albums)


def original_dest(lib: Library, checksum: str, filename: str | None, file_type: str) -> Path:
    name = Path(filename).name if filename else f"{checksum}.{file_type.lower()}"
    return lib.originals_dir / "from-server" / checksum[:2] / name


def fetch_original(lib: Library, remote: Remote, asset_id: int) -> Path:
    """Download one remote-only original and attach it (a local file is answered as it is)."""
    rec = lib.assets.get(asset_id)
    if rec.path:
        return Path(rec.path)
    remote_id = lib.sync.remote_id(asset_id)
    if remote_id is None:
        raise NotFound(f"asset {asset_id} is not on the server")
    dest = original_dest(lib, rec.checksum, lib.sync.original_name(asset_id), rec.file_type)
    remote.original(remote_id, dest, rec.checksum)
    lib.sync.attach_original(asset_id, dest)
    return dest


def fetch_preview(lib: Library, remote: Remote, asset_id: int) -> Path | None:
    """The server's preview of a remote-only asset, cached where local previews are: the
    account's own, or one of an album shared with it (the server serves those too)."""
    rec = lib.accounts.readable_asset(lib.owner_id, asset_id)
    path = lib.thumbnails.preview_path(rec.checksum)
    if path.is_file():
        return path
    remote_id = lib.sync.remote_id(asset_id)
    if remote_id is None:
        return None
    data = remote.preview(remote_id)
    if not data:
        return None
    _write_whole(path, data)
    return path


def after_round(
    lib: Library, remote: Remote, progress: Callable[[str, int, int], None]
) -> tuple[int, int, list[str]]:
    """The round's extra step per the settings: (originals, previews) fetched, and errors."""
    settings = lib.sync.settings()
    originals = previews = 0
    errors: list[str] = []
    if settings.previews == "always":
        rows = remote_only(lib, settings, with_previews=True)
        rows = [r for r in rows if not lib.thumbnails.preview_path(r.checksum).is_file()]
        for i, row in enumerate(rows, 1):
            try:
                previews += fetch_preview(lib, remote, row.id) is not None
            except RemoteRefused as exc:
                errors.append(f"preview of {row.checksum}: {exc}")
            progress("previews", i, len(rows))
    if settings.originals != "on_demand":
        rows = remote_only(lib, settings, with_previews=False)
        for i, row in enumerate(rows, 1):
            try:
                fetch_original(lib, remote, row.id)
                originals += 1
            except RemoteRefused as exc:
                errors.append(f"original of {row.checksum}: {exc}")
            except OSError as exc:  # a full disk: stop, the next round goes on
                errors.append(f"original of {row.checksum}: {exc}")
                break
            progress("originals", i, len(rows))
    return originals, previews, errors


def _write_whole(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
