"""What an analysed file writes to the catalog beside its row: the ``assets`` columns from its
metadata, its keywords as tags, its named face regions, its place name. Shared by the import
writer (new assets) and the upload analysis (assets admitted before they were analysed)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import assets as asset_repo
from photodesk.core.catalog.db.places import place_id_for
from photodesk.core.catalog.db.tags import ensure_tag, tag_asset
from photodesk.core.catalog.errors import InvalidInput
from photodesk.core.media.metadata.xmp_merge import sidecar_snapshot
from photodesk.core.media.places import reverse_geocode
from photodesk.core.organize.regions import add_region_faces

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session
    from photodesk.core.ingest.results import Analysis
    from photodesk.core.media.mediatypes import Metadata, SidecarData

log = logging.getLogger(__name__)


def asset_values(a: Analysis) -> dict[str, object]:
    """The ``assets`` columns an analysed file gives (its format, size and metadata)."""
    fmt = a.meta.format
    return {
        **({"phash": a.phash, "sharpness": a.sharpness} if a.phash is not None else {}),
        "kind": fmt.kind,
        "file_type": fmt.file_type,
        "mime": fmt.mime,
        "size": a.size,
        **metadata_values(a.meta, a.sidecar_data),
    }


def user_values(a: Analysis) -> dict[str, object]:
    """Rating, title and description as the file (or its sidecar, which wins) says."""
    m, sc = a.meta, a.sidecar_data
    rating = sc.rating if sc and sc.rating is not None else m.rating
    return {
        "rating": max(0, min(5, rating or 0)),
        "title": (sc.title if sc and sc.title else None) or m.title,
        "description": (sc.description if sc and sc.description else None) or m.description,
    }


def xmp_state(a: Analysis) -> dict[str, object] | None:
    """What the sidecar said, for merging its later changes (core.organize.sidecars)."""
    if a.sidecar_data is None:
        return None
    return {"synced": sidecar_snapshot(a.sidecar_data), "edited": {}}


def attach_details(
    s: Session, owner: int, asset_id: int, a: Analysis, geo: list[tuple[int, float, float]]
) -> None:
    """A new asset's keywords (as tags) and named face regions; its position goes on ``geo``
    for ``geocode``."""
    keywords = set(a.meta.keywords) | set(a.sidecar_data.keywords if a.sidecar_data else ())
    for kw in sorted(keywords):
        try:
            tag_id = ensure_tag(s, owner, kw)
        except InvalidInput:
            continue
        tag_asset(s, asset_id, tag_id)
    # named face regions (MWG, Microsoft) become faces of those people, the sidecar's first
    regions = (a.sidecar_data.faces if a.sidecar_data else ()) + a.meta.faces
    if regions:
        add_region_faces(s, owner, asset_id, regions)
    values = asset_values(a)
    lat, lon = values["latitude"], values["longitude"]
    if isinstance(lat, float | int) and isinstance(lon, float | int):
        geo.append((asset_id, float(lat), float(lon)))


def geocode(s: Session, geo: list[tuple[int, float, float]]) -> None:
    """Name the place of each ``(asset, lat, lon)`` (offline reverse geocoding)."""
    if not geo:
        return
    try:
        names = reverse_geocode([(lat, lon) for _, lat, lon in geo])
    except Exception:  # the place name is a nicety; never fail an import over it
        log.exception("reverse geocoding failed")
        return
    for (asset_id, _, _), name in zip(geo, names, strict=True):
        if name is None:
            continue
        place_id = place_id_for(s, name)
        asset_repo.set_columns(s, asset_id, {"place_id": place_id})


def metadata_values(meta: Metadata, sidecar: SidecarData | None = None) -> dict[str, object]:
    """The ``assets`` columns read from a file's metadata (an XMP sidecar's date and place win):
    what an import writes and ``metadata.refresh`` rewrites. A new metadata field goes here."""
    taken, offset, source = meta.taken_at, meta.taken_at_offset, meta.taken_at_source
    if sidecar is not None and sidecar.taken_at is not None:
        taken, offset, source = sidecar.taken_at, sidecar.taken_at_offset, "xmp-sidecar"
    lat, lon, alt = meta.latitude, meta.longitude, meta.altitude
    if sidecar is not None and sidecar.latitude is not None and sidecar.longitude is not None:
        lat, lon, alt = sidecar.latitude, sidecar.longitude, sidecar.altitude
    return {
        "width": meta.width,
        "height": meta.height,
        "orientation": meta.orientation,
        "duration": meta.duration,
        "taken_at": taken,
        "taken_offset": offset,
        "taken_at_source": source,
        "taken_month": taken.year * 100 + taken.month if taken else None,
        "make": meta.make,
        "model": meta.model,
        "lens": meta.lens,
        "iso": meta.iso,
        "f_number": meta.f_number,
        "exposure_time": meta.exposure_time,
        "focal_length": meta.focal_length,
        "latitude": lat,
        "longitude": lon,
        "altitude": alt,
    }
