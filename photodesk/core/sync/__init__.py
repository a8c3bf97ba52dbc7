"""Two-way, offline-first sync of a desktop library with a server account (docs/sync.md)."""

from photodesk.core.sync.offline import SyncSettings
from photodesk.core.sync.ports import Remote, RemoteRefused, RemoteUnavailable
from photodesk.core.sync.types import (
    AssetState,
    Decision,
    FeedPage,
    Mutation,
    Pairing,
    PushResult,
    RemoteAccount,
    SyncProgress,
    SyncReport,
    SyncState,
)

__all__ = [
    "AssetState",
    "Decision",
    "FeedPage",
    "Mutation",
    "Pairing",
    "PushResult",
    "Remote",
    "RemoteAccount",
    "RemoteRefused",
    "RemoteUnavailable",
    "SyncProgress",
    "SyncReport",
    "SyncSettings",
    "SyncState",
]
