"""Frozen dataclasses and ids: the plain data that crosses the core's boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

AssetId = NewType("AssetId", int)
AlbumId = NewType("AlbumId", int)
UserId = NewType("UserId", int)


@dataclass(frozen=True)
class AssetRecord:
    """Everything the catalog knows about one asset, as front ends and scripts see it."""

    id: AssetId
    owner_id: UserId
    path: str  # absolute path of the primary file
    files: tuple[str, ...]
    checksum: str
    kind: str
    file_type: str
    mime: str
    size: int
    width: int | None
    height: int | None
    orientation: int | None
    duration: float | None
    taken_at: datetime | None
    taken_offset: int | None
    taken_at_source: str | None
    make: str | None
    model: str | None
    lens: str | None
    iso: int | None
    f_number: float | None
    exposure_time: float | None
    focal_length: float | None
    latitude: float | None
    longitude: float | None
    altitude: float | None
    city: str | None
    admin1: str | None
    admin2: str | None
    country: str | None  # ISO 3166 alpha-2 code
    country_name: str | None
    title: str | None
    description: str | None
    rating: int
    favorite: bool
    archived: bool
    trashed_at: datetime | None
    offline: bool
    has_thumbnail: bool
    stack_id: int | None
    tags: tuple[str, ...]
    albums: tuple[str, ...]
    people: tuple[str, ...]
    created_at: datetime
    xmp_written_at: datetime | None = None  # when photodesk last wrote its XMP sidecar

    def taken_at_iso(self) -> str | None:
        """ISO 8601 local time, with the ``+HH:MM`` offset when it is known."""
        if self.taken_at is None:
            return None
        text = self.taken_at.isoformat(timespec="seconds")
        if self.taken_offset is None:
            return text
        sign = "+" if self.taken_offset >= 0 else "-"
        hours, minutes = divmod(abs(self.taken_offset), 60)
        return f"{text}{sign}{hours:02d}:{minutes:02d}"


@dataclass(frozen=True)
class AssetQuery:
    """Filters for listing assets; every field left at its default matches everything."""

    kind: str | None = None
    taken_from: datetime | None = None
    taken_to: datetime | None = None
    tag: str | None = None  # a tag path; matches the tag and everything below it
    album: str | None = None
    favorite: bool | None = None
    min_rating: int | None = None
    make: str | None = None
    model: str | None = None
    country: str | None = None
    city: str | None = None
    archived: bool | None = False  # None: both
    trashed: bool = False
    path_prefix: str | None = None
    limit: int | None = None
    newest_first: bool = True


@dataclass(frozen=True)
class ImportFailure:
    path: str
    error: str


@dataclass(frozen=True)
class ImportReport:
    """The outcome of one import run, as ``photodesk import --json`` prints it."""

    scanned: int = 0
    imported: int = 0
    duplicates: int = 0
    unchanged: int = 0
    relinked: int = 0
    sidecars: int = 0
    failed: tuple[ImportFailure, ...] = ()
    copied: int = 0  # referenced in place before, copied into the library by this --copy import
    warnings: tuple[ImportFailure, ...] = ()
    asset_ids: tuple[AssetId, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, object]:
        """The ``photodesk import --json`` object."""
        return {
            "scanned": self.scanned,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "unchanged": self.unchanged,
            "relinked": self.relinked,
            "copied": self.copied,
            "sidecars": self.sidecars,
            "failed": [{"path": f.path, "error": f.error} for f in self.failed],
            "warnings": [{"path": f.path, "warning": f.error} for f in self.warnings],
        }


@dataclass(frozen=True)
class ImportProgress:
    """A progress event of a running import (the terminal bar and the GUI read the same values)."""

    done: int
    total: int
    path: str | None = None


@dataclass(frozen=True)
class Album:
    id: AlbumId
    name: str
    description: str
    asset_count: int
    cover_asset_id: AssetId | None
    created_at: datetime


@dataclass(frozen=True)
class TagNode:
    id: int
    path: str
    name: str
    parent_id: int | None
    asset_count: int


@dataclass(frozen=True)
class LibraryStats:
    assets: int
    photos: int
    raws: int
    videos: int
    total_bytes: int
    with_gps: int
    favorites: int
    archived: int
    trashed: int
    offline: int
    stacks: int
    albums: int
    tags: int
    people: int
    import_errors: int
    oldest: datetime | None
    newest: datetime | None


@dataclass(frozen=True)
class PlaceName:
    """A reverse-geocoded place: the nearest city and its regions and country."""

    city: str
    admin1: str
    admin2: str
    country_code: str
    country: str
    latitude: float
    longitude: float


# -- accounts (the repositories build these; accounts.service re-exports them) ---------------------


@dataclass(frozen=True)
class Account:
    """A user as front ends see it (never with the password hash)."""

    id: int
    email: str
    name: str
    is_admin: bool
    quota_bytes: int | None
    storage_label: str | None
    has_password: bool
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key's public facts; the secret itself is shown once, when created."""

    id: int
    user_id: int
    name: str
    prefix: str
    permissions: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True)
class KeyGrant:
    """Who an API key acts for, and what it may do."""

    user: Account
    key: ApiKeyInfo


# -- sharing (the repositories build these; sharing.grants and sharing.links re-export them) ------


@dataclass(frozen=True)
class AlbumGrant:
    """One user's access to someone else's album."""

    album_id: int
    album_name: str
    user_id: int
    email: str
    role: str
    created_at: datetime


@dataclass(frozen=True)
class SharedAlbum:
    """An album as a user sees it: their own (role ``owner``) or shared with them."""

    id: int
    name: str
    description: str
    owner_id: int
    owner_email: str
    role: str  # owner | editor | viewer
    asset_count: int
    cover_asset_id: int | None
    created_at: datetime
    owner_name: str = ""


@dataclass(frozen=True)
class ShareLink:
    """A public link's facts (the key is the secret that opens it)."""

    id: int
    owner_id: int
    key: str
    slug: str | None
    album_id: int | None
    album_name: str | None
    title: str
    has_password: bool
    expires_at: datetime | None
    allow_download: bool
    allow_upload: bool
    show_metadata: bool
    created_at: datetime
    revoked_at: datetime | None

    def active(self, now: datetime | None = None) -> bool:
        now = now or datetime.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class LinkItem:
    """What a public gallery needs of one photo (no paths, no metadata)."""

    id: int
    kind: str
    mime: str
    width: int | None
    height: int | None
    duration: float | None
    filename: str


@dataclass(frozen=True)
class LinkFile:
    """What serving one file of a link needs (one query; no tags, albums or people)."""

    id: int
    kind: str
    file_type: str
    mime: str
    checksum: str
    path: str
    orientation: int | None
    offline: bool


# -- WebDAV (the repository builds these; dav.space re-exports them) ------------------------------


@dataclass(frozen=True)
class DavItem:
    """One name of the space as clients see it."""

    path: str  # "" is the root
    is_dir: bool
    size: int
    sha1: str | None
    content_type: str | None
    modified_at: datetime
    created_at: datetime
    asset_id: int | None = None
    props: dict[str, str] = field(default_factory=dict)  # dead properties: "{ns}name" -> XML

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def etag(self) -> str:
        if self.is_dir:
            return f'"d{int(self.modified_at.timestamp() * 1e6):x}"'
        return f'"{self.sha1 or "e"}"'


# -- people (the repositories build these; people.service re-exports them) ------------------------

PersonId = NewType("PersonId", int)
FaceId = NewType("FaceId", int)


@dataclass(frozen=True)
class PersonSummary:
    """A person (named, or an unnamed cluster) as the people grid shows it."""

    id: PersonId
    name: str
    face_count: int
    photo_count: int
    cover_face_id: FaceId | None
    hidden: bool


@dataclass(frozen=True)
class FaceRecord:
    """One detected face: its photo, its box (0-1 on the upright image) and its person."""

    id: FaceId
    asset_id: AssetId
    person_id: PersonId | None
    box: tuple[float, float, float, float]
    score: float
    assigned_by_user: bool


@dataclass(frozen=True)
class WatchedFolder:
    """A folder whose new, changed, moved and deleted files the catalog follows."""

    id: int
    path: str
    copy: bool  # copy new files into the library's originals/ instead of referencing them
    enabled: bool
    polling: bool | None  # None: decided automatically (network shares are polled)
    last_scan_at: datetime | None
    owner_id: int = 0  # whose assets its new files become
    inbox: bool = False  # new files are copied in as uploads of owner_id (any account)
    delete_after_import: bool = False  # an inbox file goes once its import is verified


@dataclass(frozen=True)
class CatalogFile:
    """One file the catalog knows: an original, a sidecar, a Live Photo video, a duplicate..."""

    asset_id: AssetId
    path: str
    role: str
    size: int
    mtime_ns: int
    checksum: str | None
    missing: bool
