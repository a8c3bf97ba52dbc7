"""Named face regions from XMP (MWG, Microsoft) become faces of people with those names.

A region's face counts as placed by the user: clustering never moves it, and the face detector
keeps it (giving it the embedding of the face it finds there, so the person learns from it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from photodesk.core.catalog.db import regions as repo
from photodesk.core.media.mediatypes import FaceRegion

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session

REGION_MODEL = "xmp"  # Face.model of faces read from XMP regions (no embedding)
SAME_FACE_IOU = 0.5


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def person_named(s: Session, owner_id: int, name: str) -> int:
    """The owner's person with this name (case-insensitive), created if there is none."""
    wanted = name.strip().casefold()
    for pid, existing in repo.people_names(s, owner_id):
        if existing and existing.casefold() == wanted:
            return pid
    return repo.add_person(s, owner_id, name.strip())


def add_region_faces(
    s: Session, owner_id: int, asset_id: int, regions: Iterable[FaceRegion]
) -> int:
    """Give ``asset_id`` a user-set face for each named region; returns how many changed.

    A region over a face the machine found (same face: IoU >= 0.5) names that face; a face the
    user placed on someone else stays theirs. A person already on the photo is not added twice.
    """
    faces = repo.faces_on(s, asset_id)
    changed = 0
    seen: set[str] = set()
    for r in regions:
        key = r.name.strip().casefold()
        if not key or key in seen:
            continue
        seen.add(key)
        pid = person_named(s, owner_id, r.name)
        if any(f.person_id == pid for f in faces):
            continue
        overlap = max(faces, key=lambda f: iou((f.x1, f.y1, f.x2, f.y2), r.box), default=None)
        if overlap is not None and iou((overlap.x1, overlap.y1, overlap.x2, overlap.y2), r.box) >= (
            SAME_FACE_IOU
        ):
            if overlap.assigned_by_user and overlap.person_id is not None:
                continue
            overlap.person_id, overlap.assigned_by_user = pid, True
        else:
            face = repo.add_face(
                s,
                asset_id,
                person_id=pid,
                x1=r.x1,
                y1=r.y1,
                x2=r.x2,
                y2=r.y2,
                score=0.0,
                model=REGION_MODEL,
                assigned_by_user=True,
            )
            faces.append(face)
        changed += 1
    if changed:
        repo.flush(s)
    return changed


def named_regions(s: Session, asset_id: int) -> tuple[FaceRegion, ...]:
    """The photo's faces that belong to named people, as regions (left to right)."""
    rows = repo.named_faces(s, asset_id)
    out: dict[str, FaceRegion] = {}
    for name, x1, y1, x2, y2 in rows:
        out.setdefault(
            name.casefold(),
            FaceRegion(name, round(x1, 6), round(y1, 6), round(x2, 6), round(y2, 6)),
        )
    return tuple(out.values())
