"""Plain values describing a media file: its detected format and the metadata read from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Kind = Literal["photo", "raw", "video"]


@dataclass(frozen=True)
class FileFormat:
    """A format recognised from a file's content (never from its name alone)."""

    file_type: str  # ExifTool-style FileType: JPEG, PNG, HEIC, AVIF, MPO, DNG, CR2, MP4, MOV...
    mime: str  # e.g. image/jpeg, image/x-canon-cr2, video/quicktime
    kind: Kind


@dataclass(frozen=True)
class FaceRegion:
    """A named face region from XMP: box corners in 0-1 of the image as displayed."""

    name: str
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True)
class Metadata:
    """Everything photodesk reads from one media file (and its XMP), as ExifTool would report it."""

    format: FileFormat
    width: int | None = None  # pixels as stored, before orientation is applied
    height: int | None = None
    orientation: int | None = None  # EXIF 1-8; 0 when the file says "undefined" (as ExifTool)
    taken_at: datetime | None = None  # naive local wall-clock time of capture
    taken_at_offset: int | None = None  # minutes east of UTC, when known
    taken_at_source: str | None = (
        None  # e.g. exif:DateTimeOriginal, xmp:DateCreated, filename, mtime
    )
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    iso: int | None = None
    f_number: float | None = None
    exposure_time: float | None = None  # seconds
    focal_length: float | None = None  # millimetres
    latitude: float | None = None  # signed decimal degrees
    longitude: float | None = None
    altitude: float | None = None  # metres, negative below sea level
    duration: float | None = None  # seconds, videos only
    rating: int | None = None  # 0-5 from XMP, -1 (rejected) folded to 0
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()  # hierarchical paths joined with "/" (e.g. Places/France/Paris)
    faces: tuple[FaceRegion, ...] = ()  # named face regions from XMP (MWG, Microsoft)
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SidecarData:
    """What an XMP sidecar (photo.xmp / photo.jpg.xmp) adds to or overrides on its photo."""

    rating: int | None = None
    title: str | None = None
    description: str | None = None
    keywords: tuple[str, ...] = ()
    taken_at: datetime | None = None
    taken_at_offset: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    faces: tuple[FaceRegion, ...] = ()
