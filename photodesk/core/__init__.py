"""The headless core of photodesk: its public API (Library, plain types, events, errors)."""

from photodesk.core.catalog.errors import (
    Conflict,
    CorruptFile,
    Forbidden,
    InvalidInput,
    LibraryError,
    NotFound,
    PhotodeskError,
    UnsupportedFormat,
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
)
from photodesk.core.library import Library

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
