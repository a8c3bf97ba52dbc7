"""The headless core of photodesk: its public API (Library, plain types, events, errors)."""

from photodesk.core.errors import (
    Conflict,
    CorruptFile,
    Forbidden,
    InvalidInput,
    LibraryError,
    NotFound,
    PhotodeskError,
    UnsupportedFormat,
)
from photodesk.core.events import Changes, EventBus
from photodesk.core.library import Library
from photodesk.core.types import (
    Album,
    AssetId,
    AssetQuery,
    AssetRecord,
    ImportFailure,
    ImportProgress,
    ImportReport,
    LibraryStats,
    TagNode,
)

__all__ = [
    "Album",
    "AssetId",
    "AssetQuery",
    "AssetRecord",
    "Changes",
    "Conflict",
    "CorruptFile",
    "EventBus",
    "Forbidden",
    "ImportFailure",
    "ImportProgress",
    "ImportReport",
    "InvalidInput",
    "Library",
    "LibraryError",
    "LibraryStats",
    "NotFound",
    "PhotodeskError",
    "TagNode",
    "UnsupportedFormat",
]
