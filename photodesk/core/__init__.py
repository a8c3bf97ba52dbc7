"""The headless core of photodesk. This module is its public edge: the front ends (ui, sync, cli)
and the composition root import only from here (import-linter's "front ends use the public edge"
contract); everything below it may move.

What is here: the ``Library`` facade and its ``LibraryOptions``; the plain frozen types its
services return; errors; change events; job names; and the few pure helpers the front ends share
with the core (map projection, metadata-free JPEG export, upload file names).

Every name here loads on first use (PEP 562 ``__getattr__``): importing one part of the core (an
import worker process, ``photodesk --version``, the app's first screen) loads only the domains
that part needs, not all of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from photodesk.core.accounts.identities import ExternalIdentity

    # The services, by type (what ``lib.<name>`` is), for front ends' annotations.
    from photodesk.core.accounts.service import (
        Account,
        AccountService,
        ApiKeyInfo,
        KeyGrant,
        QuotaExceeded,
    )
    from photodesk.core.catalog.errors import (
        Conflict,
        CorruptFile,
        Forbidden,
        InsufficientStorage,
        InvalidInput,
        LibraryError,
        NotFound,
        PhotodeskError,
        UnsupportedFormat,
        UploadTooLarge,
    )
    from photodesk.core.catalog.events import Changes, EventBus
    from photodesk.core.catalog.types import (
        Album,
        AssetId,
        AssetQuery,
        AssetRecord,
        ImportFailure,
        ImportProgress,
        ImportReport,
        LibraryStats,
        TagNode,
        UserId,
    )
    from photodesk.core.dav.locks import INFINITY as DAV_INFINITY
    from photodesk.core.dav.locks import DavLock, Locked
    from photodesk.core.dav.space import (
        DavItem,
        DavSpace,
        Exists,
        MissingParent,
        PreconditionFailed,
        norm_path,
    )
    from photodesk.core.inference.models import Models
    from photodesk.core.inference.ports import (
        DetectedFace,
        FaceAnalyzer,
        ImageEmbedder,
        TextEmbedder,
    )
    from photodesk.core.ingest.files import FileService, WatchedFolder
    from photodesk.core.ingest.importer import DEFAULT_TEMPLATE
    from photodesk.core.ingest.quota import Reservation
    from photodesk.core.ingest.storage import check_template
    from photodesk.core.ingest.uploads import (
        StagedFile,
        UploadOutcome,
        normalize_sha1,
        safe_filename,
    )
    from photodesk.core.ingest.watch import DEFAULT_POLL_INTERVAL_S, DEFAULT_SETTLE_S, WatchStatus
    from photodesk.core.ingest.watch.fs import network_fs_type
    from photodesk.core.jobs.engine import JobInfo, JobProgress, QueueStatus
    from photodesk.core.jobs.kinds import JobName, Queue
    from photodesk.core.jobs.payloads import ImportPayload
    from photodesk.core.jobs.service import JobService
    from photodesk.core.library import Library, LibraryOptions
    from photodesk.core.maintenance.backups import DEFAULT_KEEP as DEFAULT_BACKUPS_KEPT
    from photodesk.core.maintenance.check import CheckReport, FileIssue
    from photodesk.core.media.formats import PHOTO_EXTENSIONS, RAW_EXTENSIONS, VIDEO_EXTENSIONS
    from photodesk.core.media.icc import neutral_icc
    from photodesk.core.media.places import PlaceName
    from photodesk.core.media.render import RenderedImage, render_record, write_plain_jpeg
    from photodesk.core.media.thumbnails import PREVIEW_SIZE
    from photodesk.core.media.thumbnails.decode import pixel_count
    from photodesk.core.organize.assets import TRASH_DAYS
    from photodesk.core.organize.edits import EditService, FaceBox, parse_coordinates
    from photodesk.core.organize.events import Event, EventService
    from photodesk.core.organize.folders import FolderService
    from photodesk.core.organize.geo import (
        TILE_SIZE,
        Cluster,
        GeoBounds,
        GeoPoint,
        GeoService,
        MarkerIndex,
        project,
        project_arrays,
        unproject,
    )
    from photodesk.core.organize.memories import Memory, MemoryService
    from photodesk.core.organize.timeline import Cursor, GridItem, MonthBucket, TimelineService
    from photodesk.core.people.jobs import FACES_HELP
    from photodesk.core.people.service import FaceRecord, PeopleService, PersonSummary
    from photodesk.core.search.duplicates import DEFAULT_BITS as DUPLICATE_BITS
    from photodesk.core.search.duplicates import DuplicateService
    from photodesk.core.search.jobs import CLIP_HELP, video_frames
    from photodesk.core.search.query import SearchFacets, SearchQuery, SearchService
    from photodesk.core.sharing.grants import AlbumGrant, SharedAlbum
    from photodesk.core.sharing.links import ShareLink, parse_expiry
    from photodesk.core.workers.remote import REMOTE_QUEUES, RemoteWorkers, WorkerInfo

# module (under photodesk.core) -> the names it gives the edge ("Alias=name" renames)
_EDGE: dict[str, tuple[str, ...]] = {
    "accounts.identities": ("ExternalIdentity",),
    "accounts.service": (
        "Account",
        "AccountService",
        "ApiKeyInfo",
        "KeyGrant",
        "QuotaExceeded",
    ),
    "catalog.errors": (
        "Conflict",
        "CorruptFile",
        "Forbidden",
        "InsufficientStorage",
        "InvalidInput",
        "LibraryError",
        "NotFound",
        "PhotodeskError",
        "UnsupportedFormat",
        "UploadTooLarge",
    ),
    "catalog.events": (
        "Changes",
        "EventBus",
    ),
    "catalog.types": (
        "Album",
        "AssetId",
        "AssetQuery",
        "AssetRecord",
        "ImportFailure",
        "ImportProgress",
        "ImportReport",
        "LibraryStats",
        "TagNode",
        "UserId",
    ),
    "dav.locks": (
        "DAV_INFINITY=INFINITY",
        "DavLock",
        "Locked",
    ),
    "dav.space": (
        "DavItem",
        "DavSpace",
        "Exists",
        "MissingParent",
        "PreconditionFailed",
        "norm_path",
    ),
    "inference.models": ("Models",),
    "inference.ports": (
        "DetectedFace",
        "FaceAnalyzer",
        "ImageEmbedder",
        "TextEmbedder",
    ),
    "ingest.files": (
        "FileService",
        "WatchedFolder",
    ),
    "ingest.importer": ("DEFAULT_TEMPLATE",),
    "ingest.quota": ("Reservation",),
    "ingest.storage": ("check_template",),
    "ingest.uploads": (
        "StagedFile",
        "UploadOutcome",
        "normalize_sha1",
        "safe_filename",
    ),
    "ingest.watch": (
        "DEFAULT_POLL_INTERVAL_S",
        "DEFAULT_SETTLE_S",
        "WatchStatus",
    ),
    "ingest.watch.fs": ("network_fs_type",),
    "jobs.engine": (
        "JobInfo",
        "JobProgress",
        "QueueStatus",
    ),
    "jobs.kinds": (
        "JobName",
        "Queue",
    ),
    "jobs.payloads": ("ImportPayload",),
    "jobs.service": ("JobService",),
    "library": (
        "Library",
        "LibraryOptions",
    ),
    "maintenance.backups": ("DEFAULT_BACKUPS_KEPT=DEFAULT_KEEP",),
    "maintenance.check": (
        "CheckReport",
        "FileIssue",
    ),
    "media.formats": (
        "PHOTO_EXTENSIONS",
        "RAW_EXTENSIONS",
        "VIDEO_EXTENSIONS",
    ),
    "media.icc": ("neutral_icc",),
    "media.places": ("PlaceName",),
    "media.render": (
        "RenderedImage",
        "render_record",
        "write_plain_jpeg",
    ),
    "media.thumbnails": ("PREVIEW_SIZE",),
    "media.thumbnails.decode": ("pixel_count",),
    "organize.assets": ("TRASH_DAYS",),
    "organize.edits": (
        "EditService",
        "FaceBox",
        "parse_coordinates",
    ),
    "organize.events": (
        "Event",
        "EventService",
    ),
    "organize.folders": ("FolderService",),
    "organize.geo": (
        "TILE_SIZE",
        "Cluster",
        "GeoBounds",
        "GeoPoint",
        "GeoService",
        "MarkerIndex",
        "project",
        "project_arrays",
        "unproject",
    ),
    "organize.memories": (
        "Memory",
        "MemoryService",
    ),
    "organize.timeline": (
        "Cursor",
        "GridItem",
        "MonthBucket",
        "TimelineService",
    ),
    "people.jobs": ("FACES_HELP",),
    "people.service": (
        "FaceRecord",
        "PeopleService",
        "PersonSummary",
    ),
    "search.duplicates": (
        "DUPLICATE_BITS=DEFAULT_BITS",
        "DuplicateService",
    ),
    "search.jobs": (
        "CLIP_HELP",
        "video_frames",
    ),
    "search.query": (
        "SearchFacets",
        "SearchQuery",
        "SearchService",
    ),
    "sharing.grants": (
        "AlbumGrant",
        "SharedAlbum",
    ),
    "sharing.links": (
        "ShareLink",
        "parse_expiry",
    ),
    "workers.remote": (
        "REMOTE_QUEUES",
        "RemoteWorkers",
        "WorkerInfo",
    ),
}
_WHERE: dict[str, tuple[str, str]] = {
    alias: (f"photodesk.core.{module}", name or alias)
    for module, names in _EDGE.items()
    for alias, _, name in (entry.partition("=") for entry in names)
}


def __getattr__(name: str) -> Any:
    """Load a public name's module the first time the name is used."""
    try:
        module, attr = _WHERE[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__all__ = [
    "CLIP_HELP",
    "DAV_INFINITY",
    "DEFAULT_BACKUPS_KEPT",
    "DEFAULT_POLL_INTERVAL_S",
    "DEFAULT_SETTLE_S",
    "DEFAULT_TEMPLATE",
    "DUPLICATE_BITS",
    "FACES_HELP",
    "PHOTO_EXTENSIONS",
    "PREVIEW_SIZE",
    "RAW_EXTENSIONS",
    "REMOTE_QUEUES",
    "TILE_SIZE",
    "TRASH_DAYS",
    "VIDEO_EXTENSIONS",
    "Account",
    "AccountService",
    "Album",
    "AlbumGrant",
    "ApiKeyInfo",
    "AssetId",
    "AssetQuery",
    "AssetRecord",
    "Changes",
    "CheckReport",
    "Cluster",
    "Conflict",
    "CorruptFile",
    "Cursor",
    "DavItem",
    "DavLock",
    "DavSpace",
    "DetectedFace",
    "DuplicateService",
    "EditService",
    "Event",
    "EventBus",
    "EventService",
    "Exists",
    "ExternalIdentity",
    "FaceAnalyzer",
    "FaceBox",
    "FaceRecord",
    "FileIssue",
    "FileService",
    "FolderService",
    "Forbidden",
    "GeoBounds",
    "GeoPoint",
    "GeoService",
    "GridItem",
    "ImageEmbedder",
    "ImportFailure",
    "ImportPayload",
    "ImportProgress",
    "ImportReport",
    "InsufficientStorage",
    "InvalidInput",
    "JobInfo",
    "JobName",
    "JobProgress",
    "JobService",
    "KeyGrant",
    "Library",
    "LibraryError",
    "LibraryOptions",
    "LibraryStats",
    "Locked",
    "MarkerIndex",
    "Memory",
    "MemoryService",
    "MissingParent",
    "Models",
    "MonthBucket",
    "NotFound",
    "PeopleService",
    "PersonSummary",
    "PhotodeskError",
    "PlaceName",
    "PreconditionFailed",
    "Queue",
    "QueueStatus",
    "QuotaExceeded",
    "RemoteWorkers",
    "RenderedImage",
    "Reservation",
    "SearchFacets",
    "SearchQuery",
    "SearchService",
    "ShareLink",
    "SharedAlbum",
    "StagedFile",
    "TagNode",
    "TextEmbedder",
    "TimelineService",
    "UnsupportedFormat",
    "UploadOutcome",
    "UploadTooLarge",
    "UserId",
    "WatchStatus",
    "WatchedFolder",
    "WorkerInfo",
    "check_template",
    "network_fs_type",
    "neutral_icc",
    "norm_path",
    "normalize_sha1",
    "parse_coordinates",
    "parse_expiry",
    "pixel_count",
    "project",
    "project_arrays",
    "render_record",
    "safe_filename",
    "unproject",
    "video_frames",
    "write_plain_jpeg",
]
