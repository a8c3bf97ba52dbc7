"""Merging a sidecar another app changed with the catalog: per field, the newer side wins.

Both sides are compared as small JSON-able snapshots. The catalog remembers the snapshot both
sides last agreed on (``synced``) and when each field was last edited in photodesk (``edited``):

- a field only the sidecar changed since ``synced`` is taken from the sidecar;
- a field only the catalog changed is kept (the next write puts it in the sidecar);
- a field both changed (or never synced) goes to the side changed last: the catalog's edit time
  against the sidecar's modification time; a sidecar that says nothing never clears a field.
People are only ever added from a sidecar (an app that drops regions does not unname faces).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from photodesk.core.media.mediatypes import FaceRegion, SidecarData
from photodesk.core.media.metadata.xmp_write import xmp_date

FIELDS = ("keywords", "rating", "title", "description", "date", "location", "faces")
Snapshot = dict[str, Any]


def _location(lat: float | None, lon: float | None) -> list[float] | None:
    if lat is None or lon is None:
        return None
    return [round(lat, 6), round(lon, 6)]


def snapshot(
    *,
    keywords: Iterable[str],
    rating: int | None,
    title: str | None,
    description: str | None,
    taken_at: datetime | None,
    taken_offset: int | None,
    latitude: float | None,
    longitude: float | None,
    faces: Iterable[FaceRegion],
) -> Snapshot:
    return {
        "keywords": sorted(set(k for k in keywords if k)),
        "rating": rating if rating else None,
        "title": title or None,
        "description": description or None,
        "date": xmp_date(taken_at, taken_offset) if taken_at is not None else None,
        "location": _location(latitude, longitude),
        "faces": sorted({f.name.strip() for f in faces if f.name.strip()}, key=str.casefold),
    }


def sidecar_snapshot(sc: SidecarData) -> Snapshot:
    return snapshot(
        keywords=sc.keywords,
        rating=sc.rating,
        title=sc.title,
        description=sc.description,
        taken_at=sc.taken_at,
        taken_offset=sc.taken_at_offset,
        latitude=sc.latitude,
        longitude=sc.longitude,
        faces=sc.faces,
    )


def _empty(value: Any) -> bool:
    return value in (None, [], "")


def merge(
    sidecar: Snapshot,
    catalog: Snapshot,
    synced: Snapshot,
    edited: dict[str, str],
    sidecar_mtime: datetime,
) -> tuple[set[str], set[str]]:
    """(fields to take from the sidecar, fields where the catalog wins and the sidecar differs)."""
    take: set[str] = set()
    keep: set[str] = set()
    for f in FIELDS:
        sv, cv = sidecar.get(f), catalog.get(f)
        if f == "faces":
            known = {n.casefold() for n in [*(cv or []), *(synced.get(f) or [])]}
            if any(n.casefold() not in known for n in sv or []):
                take.add(f)  # a name the other app added
            if any(n.casefold() not in {m.casefold() for m in sv or []} for n in cv or []):
                keep.add(f)
            continue
        if sv == cv:
            continue
        if f in synced and sv == synced[f]:
            keep.add(f)  # only the catalog changed it
        elif f in synced and cv == synced[f]:
            take.add(f)  # only the other app changed it
        elif f not in synced and _empty(sv):
            keep.add(f)  # the sidecar just does not say
        else:
            when = edited.get(f)
            catalog_newer = when is not None and datetime.fromisoformat(when) > sidecar_mtime
            (keep if catalog_newer else take).add(f)
    return take, keep
