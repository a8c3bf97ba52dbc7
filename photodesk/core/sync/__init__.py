"""Two-way, offline-first sync of a desktop library with a server account (docs/sync.md)."""

from photodesk.core.sync.offline import SyncSettings
from photodesk.core.sync.ports import Remote, RemoteRefused, RemoteUnavailable
from photodesk.core.sync.types import (
    AssetState,
    Decision,
    FeedPage,
    Mutation,
    Pairing,
    PeopleItem,
    PeoplePage,
    PushResult,
    RemoteAccount,
    SharedAlbumState,
    SyncProgress,
    SyncReport,
    SyncState,
    VectorItem,
    VectorPage,
)

__all__ = [
    "AssetState",
    "Decision",
    "FeedPage",
    "Mutation",
    "Pairing",
    "PeopleItem",
    "PeoplePage",
    "PushResult",
    "Remote",
    "RemoteAccount",
    "RemoteRefused",
    "RemoteUnavailable",
    "SharedAlbumState",
    "SyncProgress",
    "SyncReport",
    "SyncSettings",
    "SyncState",
    "VectorItem",
    "VectorPage",
]
