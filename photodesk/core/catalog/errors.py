"""Domain errors raised by the core and mapped to user messages by the front ends."""

from __future__ import annotations


class PhotodeskError(Exception):
    """Base class of every error the core raises on purpose."""


class NotFound(PhotodeskError):
    """An id or path that does not exist in the catalog."""


class Forbidden(PhotodeskError):
    """The caller may not touch this object."""


class Conflict(PhotodeskError):
    """The request clashes with the catalog's current state."""


class InvalidInput(PhotodeskError):
    """A value given by the user or a client is not acceptable."""


class UnsupportedFormat(PhotodeskError):
    """A file is not a photo or video photodesk can read."""


class CorruptFile(PhotodeskError):
    """A file claims a known format but cannot be read (empty, truncated, damaged)."""


class LibraryError(PhotodeskError):
    """The library folder or its catalog cannot be used."""


class InsufficientStorage(PhotodeskError):
    """The disk holding the library has not enough free space for the upload."""


class UploadTooLarge(InvalidInput):
    """The upload is larger than the server accepts (or than the client announced)."""
