"""What the import's workers hand back: plain, picklable results (and ``sha1_file``)."""

from __future__ import annotations

from dataclasses import dataclass

from photodesk.core.media.checksums import sha1_file
from photodesk.core.media.mediatypes import Metadata, SidecarData


@dataclass(frozen=True)
class FileTask:
    path: str
    size: int
    mtime_ns: int
    sidecar: str | None
    thumbs_dir: str
    previews_dir: str
    checksum: str | None = None  # already known (an upload hashed while received): not re-read


@dataclass(frozen=True)
class Analysis:
    """A file that can be imported, with its identity and metadata."""

    path: str
    size: int
    mtime_ns: int
    checksum: str
    meta: Metadata
    sidecar: str | None
    sidecar_data: SidecarData | None
    has_thumbnail: bool
    warnings: tuple[str, ...]
    phash: int | None = None  # perceptual hash of the thumbnail (near-duplicate finding)
    sharpness: float | None = None  # of the thumbnail: the best frame of a burst goes on top


@dataclass(frozen=True)
class Failure:
    path: str
    size: int | None
    mtime_ns: int | None
    error: str


__all__ = ["Analysis", "Failure", "FileTask", "sha1_file"]
