"""The catalog's people, faces and face rejections as people sync reads and writes them: the
rows a stamp compares with the synced state, and the rows that applying the other side's
people makes, changes, merges and deletes (``photodesk.core.sync.people_sync``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetAnalysis, Face, FaceRejection, Person

# -- people ------------------------------------------------------------------------------------


def person(s: Session, person_id: int | None) -> Person | None:
    return s.get(Person, person_id) if person_id is not None else None


def make_person(s: Session, owner: int, name: str, hidden: bool) -> Person:
    row = Person(owner_id=owner, name=name, hidden=hidden, created_at=datetime.now())
    s.add(row)
    s.flush()
    return row


def delete_person(s: Session, row: Person) -> None:
    s.delete(row)


def flush(s: Session) -> None:
    s.flush()


# -- faces -------------------------------------------------------------------------------------


def face(s: Session, face_id: int | None) -> Face | None:
    return s.get(Face, face_id) if face_id is not None else None


def person_of_face(s: Session, face_id: int) -> int | None:
    return s.scalar(select(Face.person_id).where(Face.id == face_id))


def faces_of_person(s: Session, person_id: int) -> list[Face]:
    return list(s.scalars(select(Face).where(Face.person_id == person_id)))


def assets_of_person(s: Session, person_id: int) -> list[int]:
    """The assets with a face of this person."""
    return list(s.scalars(select(Face.asset_id).where(Face.person_id == person_id)))


def make_face(s: Session, asset_id: int, **columns: Any) -> Face:
    """A face found on the other side (no person yet, not placed by a user)."""
    row = Face(asset_id=asset_id, person_id=None, assigned_by_user=False, **columns)
    s.add(row)
    s.flush()
    return row


def delete_face(s: Session, row: Face) -> None:
    s.delete(row)


def infos(s: Session, ids: Sequence[int]) -> list[tuple[Face, str]]:
    """(face, its asset's checksum) of these faces."""
    out: list[tuple[Face, str]] = []
    for k in range(0, len(ids), 500):
        out.extend(
            (f, checksum)
            for f, checksum in s.execute(
                select(Face, Asset.checksum)
                .join(Asset, Asset.id == Face.asset_id)
                .where(Face.id.in_(ids[k : k + 500]))
            )
        )
    return out


def note_faces_found(s: Session, asset_id: int, model: str) -> None:
    """Faces of ``asset_id`` came with ``model`` from the other side: unless this side looked
    already, record the analysis as done (this side's detection need not look again)."""
    if s.get(AssetAnalysis, (asset_id, "faces")) is not None:
        return
    found = s.scalar(select(func.count()).where(Face.asset_id == asset_id)) or 0
    s.add(AssetAnalysis(asset_id=asset_id, task="faces", model=model, found=int(found),
                        done_at=datetime.now()))  # fmt: skip


# -- rejections (a face is not this person) ----------------------------------------------------


def rejected_people(s: Session, face_id: int) -> set[int]:
    """The people a face is said not to be."""
    return set(s.scalars(select(FaceRejection.person_id).where(FaceRejection.face_id == face_id)))


def rejected_faces(s: Session, person_id: int) -> set[int]:
    """The faces said not to be this person."""
    return set(s.scalars(select(FaceRejection.face_id).where(FaceRejection.person_id == person_id)))


def reject(s: Session, face_id: int, person_id: int) -> None:
    s.add(FaceRejection(face_id=face_id, person_id=person_id, created_at=datetime.now()))


def unreject(s: Session, face_id: int, person_ids: Collection[int]) -> None:
    s.execute(
        delete(FaceRejection).where(
            FaceRejection.face_id == face_id, FaceRejection.person_id.in_(set(person_ids))
        )
    )
