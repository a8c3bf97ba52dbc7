"""Face-region rows: the faces on a photo, people found or created by name (XMP regions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Face, Person


def people_names(s: Session, owner_id: int) -> list[tuple[int, str | None]]:
    """(id, name) of the owner's people."""
    rows = s.execute(select(Person.id, Person.name).where(Person.owner_id == owner_id))
    return [(int(pid), name) for pid, name in rows]


def add_person(s: Session, owner_id: int, name: str) -> int:
    person = Person(owner_id=owner_id, name=name, hidden=False, created_at=datetime.now())
    s.add(person)
    s.flush()
    return int(person.id)


def faces_on(s: Session, asset_id: int) -> list[Face]:
    """The photo's face rows (the caller may change their person)."""
    return list(s.scalars(select(Face).where(Face.asset_id == asset_id)))


def add_face(s: Session, asset_id: int, **values: Any) -> Face:
    face = Face(asset_id=asset_id, **values)
    s.add(face)
    return face


def flush(s: Session) -> None:
    s.flush()


def named_faces(s: Session, asset_id: int) -> list[tuple[str, float, float, float, float]]:
    """(name, x1, y1, x2, y2) of the photo's faces of named people, left to right."""
    rows = s.execute(
        select(Person.name, Face.x1, Face.y1, Face.x2, Face.y2)
        .join(Person, Person.id == Face.person_id)
        .where(Face.asset_id == asset_id, Person.name != "")
        .order_by(Face.x1, Face.id)
    )
    return [(n, x1, y1, x2, y2) for n, x1, y1, x2, y2 in rows]


def face_boxes(s: Session, asset_id: int) -> list[tuple[Any, ...]]:
    """(face id, x1, y1, x2, y2, score, person id, person name) of the photo's faces, left to
    right."""
    rows = s.execute(
        select(
            Face.id,
            Face.x1,
            Face.y1,
            Face.x2,
            Face.y2,
            Face.score,
            Face.person_id,
            Person.name,
        )
        .outerjoin(Person, Person.id == Face.person_id)
        .where(Face.asset_id == asset_id)
        .order_by(Face.x1, Face.id)
    )
    return [tuple(r) for r in rows]
