"""What the catalog knows about an asset for its XMP sidecar: values, paths, sync state."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from photodesk.core.catalog.db import xmp as repo
from photodesk.core.catalog.db.assets import asset_of_file
from photodesk.core.catalog.db.tags import paths_of
from photodesk.core.catalog.errors import NotFound
from photodesk.core.media.mediatypes import FaceRegion
from photodesk.core.media.metadata import sidecar_path
from photodesk.core.media.metadata.xmp_merge import Snapshot, snapshot
from photodesk.core.media.metadata.xmp_write import SidecarValues
from photodesk.core.organize.regions import named_regions

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session


@dataclass(frozen=True)
class SidecarState:
    """One asset as its sidecar should say it, and where that sidecar is."""

    asset_id: int
    owner_id: int
    kind: str
    file_type: str
    original: str | None
    offline: bool
    sidecar: str | None  # the catalog's sidecar row, if any
    sidecar_checksum: str | None
    width: int | None  # as displayed
    height: int | None
    taken_at: datetime | None
    taken_offset: int | None
    taken_at_source: str | None
    latitude: float | None
    longitude: float | None
    altitude: float | None
    rating: int
    title: str | None
    description: str | None
    keywords: tuple[str, ...]
    faces: tuple[FaceRegion, ...]
    synced: dict[str, Any] = field(default_factory=dict)
    edited: dict[str, str] = field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        return snapshot(
            keywords=self.keywords,
            rating=self.rating,
            title=self.title,
            description=self.description,
            taken_at=self.taken_at,
            taken_offset=self.taken_offset,
            latitude=self.latitude,
            longitude=self.longitude,
            faces=self.faces,
        )

    def values(self) -> SidecarValues:
        """What to write: everything photodesk owns; the date and GPS only once edited here."""
        fields = {"keywords", "rating", "title", "description", "faces"}
        if "date" in self.edited or self.taken_at_source == "user":
            fields.add("date")
        if "location" in self.edited:
            fields.add("location")
        return SidecarValues(
            fields=frozenset(fields),
            keywords=self.keywords,
            rating=self.rating,
            title=self.title,
            description=self.description,
            taken_at=self.taken_at,
            taken_offset=self.taken_offset,
            latitude=self.latitude,
            longitude=self.longitude,
            altitude=self.altitude,
            faces=self.faces,
            width=self.width,
            height=self.height,
        )

    def says_anything(self) -> bool:
        v = self.values()
        return bool(v.keywords or v.rating or v.title or v.description or v.faces) or bool(
            v.fields & {"date", "location"}
        )


def load_state(s: Session, asset_id: int) -> SidecarState:
    a = repo.asset(s, asset_id)
    if a is None:
        raise NotFound(f"no asset with id {asset_id}")
    files = repo.files_of(s, asset_id, ("original", "sidecar"))
    original = next((p for r, p, _, _ in files if r == "original"), None)
    side = next(((p, c) for r, p, c, m in files if r == "sidecar" and not m), None)
    tags = paths_of(s, asset_id)
    width, height = a.width, a.height
    if a.orientation in (5, 6, 7, 8):
        width, height = height, width
    state = a.xmp_state or {}
    return SidecarState(
        asset_id=a.id,
        owner_id=a.owner_id,
        kind=a.kind,
        file_type=a.file_type,
        original=original,
        offline=bool(a.offline),
        sidecar=side[0] if side else None,
        sidecar_checksum=side[1] if side else None,
        width=width,
        height=height,
        taken_at=a.taken_at,
        taken_offset=a.taken_offset,
        taken_at_source=a.taken_at_source,
        latitude=a.latitude,
        longitude=a.longitude,
        altitude=a.altitude,
        rating=int(a.rating or 0),
        title=a.title,
        description=a.description,
        keywords=tags,
        faces=named_regions(s, asset_id),
        synced=dict(state.get("synced") or {}),
        edited=dict(state.get("edited") or {}),
    )


def sidecar_target(s: Session, st: SidecarState) -> Path | None:
    """The sidecar to write: the catalog's, else one on disk, else a new ``name.ext.xmp``
    (``name.xmp`` for RAW files, as Lightroom and darktable's importers expect)."""
    if st.sidecar:
        return Path(st.sidecar)
    if st.original is None:
        return None
    media = Path(st.original)
    long, short = media.with_name(media.name + ".xmp"), media.with_suffix(".xmp")
    found = sidecar_path(media)
    if found is not None:
        owner = asset_of_file(s, os.fspath(found))
        mine = owner in (None, st.asset_id)  # not the sidecar of a RAW sibling's asset
        is_long = found.name.lower() == long.name.lower()
        if mine and (is_long or st.kind == "raw" or not _raw_sibling(media)):
            return found
    return short if st.kind == "raw" else long


def _raw_sibling(media: Path) -> bool:
    """Whether a RAW file with the same base name sits beside ``media`` (its ``name.xmp``)."""
    from photodesk.core.media.formats import RAW_EXTENSIONS

    stem = media.stem.lower()
    try:
        with os.scandir(media.parent) as it:
            return any(
                e.name.lower().rsplit(".", 1)[0] == stem
                and os.path.splitext(e.name)[1].lower() in RAW_EXTENSIONS
                for e in it
            )
    except OSError:
        return False
