"""People and face rows: who is on which photo, covers, "not this person" decisions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, func, or_, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, Face, FaceRejection, Person
from photodesk.core.catalog.types import AssetId, FaceId, FaceRecord, PersonId, PersonSummary

# "This face is not that person", one row per decision (migration 0003). Clustering and
# assignments by the machine never put a face back into a person it was rejected for.
face_rejections = cast(Table, FaceRejection.__table__)


@dataclass(frozen=True)
class PersonRow:
    id: int
    owner_id: int
    name: str
    hidden: bool
    cover_face_id: int | None


def _person(p: Person) -> PersonRow:
    return PersonRow(p.id, p.owner_id, p.name or "", bool(p.hidden), p.cover_face_id)


def record(f: Face) -> FaceRecord:
    return FaceRecord(
        FaceId(f.id),
        AssetId(f.asset_id),
        PersonId(f.person_id) if f.person_id is not None else None,
        (f.x1, f.y1, f.x2, f.y2),
        f.score,
        bool(f.assigned_by_user),
    )


# -- reading ------------------------------------------------------------------------------------


def person(s: Session, person_id: int) -> PersonRow | None:
    row = s.get(Person, person_id)
    return None if row is None else _person(row)


def face(s: Session, face_id: int) -> tuple[FaceRecord, int] | None:
    """The face and the owner of its photo."""
    row = s.get(Face, face_id)
    if row is None:
        return None
    owner = s.scalar(select(Asset.owner_id).where(Asset.id == row.asset_id))
    return record(row), int(owner) if owner is not None else -1


def summaries(s: Session, owner_id: int, include_hidden: bool) -> list[PersonSummary]:
    """The owner's people with at least one face on an untrashed photo (in no order)."""
    q = (
        select(Person, func.count(Face.id), func.count(func.distinct(Face.asset_id)))
        .join(Face, Face.person_id == Person.id)
        .join(Asset, Asset.id == Face.asset_id)
        .where(Person.owner_id == owner_id, Asset.trashed_at.is_(None))
        .group_by(Person.id)
    )
    if not include_hidden:
        q = q.where(Person.hidden.is_(False))
    rows = s.execute(q).all()
    covers = _covers(s, [p for p, _, _ in rows])
    return [
        PersonSummary(PersonId(p.id), p.name, faces, photos, covers.get(p.id), bool(p.hidden))
        for p, faces, photos in rows
    ]


def _covers(s: Session, people: Iterable[Person]) -> dict[int, FaceId]:
    """The chosen cover face where it is still the person's, else their largest (in pixels)."""
    people = list(people)
    ids = [p.id for p in people]
    if not ids:
        return {}
    pixels = func.coalesce(Asset.width * Asset.height, 1)
    area = (Face.x2 - Face.x1) * (Face.y2 - Face.y1) * pixels
    q = (
        select(Face.person_id, Face.id)
        .join(Asset, Asset.id == Face.asset_id)
        .where(Face.person_id.in_(ids), Asset.trashed_at.is_(None))
        .order_by(Face.person_id, area.desc(), Face.id)
    )
    best: dict[int | None, FaceId] = {}
    valid: set[int] = set()
    for pid, fid in s.execute(q):
        best.setdefault(pid, FaceId(fid))
        valid.add(fid)
    return {
        p.id: FaceId(p.cover_face_id) if p.cover_face_id in valid else best[p.id]
        for p in people
        if p.id in best
    }


def photos(s: Session, person_id: int) -> list[int]:
    """The person's untrashed photos, newest first."""
    q = (
        select(Asset.id)
        .join(Face, Face.asset_id == Asset.id)
        .where(Face.person_id == person_id, Asset.trashed_at.is_(None))
        .group_by(Asset.id)
        .order_by(Asset.taken_at.desc(), Asset.id.desc())
    )
    return list(s.scalars(q))


def faces(
    s: Session, owner_id: int, *, person_id: int | None = None, asset_id: int | None = None
) -> list[FaceRecord]:
    q = select(Face).join(Asset, Asset.id == Face.asset_id)
    q = q.where(Asset.owner_id == owner_id).order_by(Face.id)
    if person_id is not None:
        q = q.where(Face.person_id == person_id)
    if asset_id is not None:
        q = q.where(Face.asset_id == asset_id)
    return [record(f) for f in s.scalars(q)]


def person_names(s: Session, owner_id: int) -> list[tuple[int, str]]:
    return [
        (pid, n)
        for pid, n in s.execute(select(Person.id, Person.name).where(Person.owner_id == owner_id))
    ]


def rejected_faces(s: Session, person_id: int) -> set[int]:
    c = face_rejections.c
    return set(s.scalars(select(c.face_id).where(c.person_id == person_id)))


def rejected_people(s: Session, face_id: int) -> set[int]:
    c = face_rejections.c
    return set(s.scalars(select(c.person_id).where(c.face_id == face_id)))


def other_face(s: Session, person_id: int, asset_id: int, except_face: int = -1) -> int | None:
    """A face of the person on this photo other than ``except_face``."""
    return s.scalar(
        select(Face.id).where(
            Face.person_id == person_id, Face.asset_id == asset_id, Face.id != except_face
        )
    )


def person_asset_ids(s: Session, person_id: int) -> set[int]:
    return set(s.scalars(select(Face.asset_id).where(Face.person_id == person_id)))


def person_faces(s: Session, person_id: int) -> list[FaceRecord]:
    return [record(f) for f in s.scalars(select(Face).where(Face.person_id == person_id)).all()]


def face_count(s: Session, person_id: int) -> int:
    return int(s.scalar(select(func.count()).where(Face.person_id == person_id)) or 0)


def asset_checksum(s: Session, asset_id: int) -> str | None:
    return s.scalar(select(Asset.checksum).where(Asset.id == asset_id))


def photos_of(s: Session, people: Sequence[int] = (), faces: Sequence[int] = ()) -> frozenset[int]:
    """The photos with a face of these people, or these faces."""
    where = or_(Face.person_id.in_(list(people)), Face.id.in_(list(faces)))
    return frozenset(s.scalars(select(Face.asset_id).where(where).distinct()))


# -- writing ------------------------------------------------------------------------------------


def add_person(s: Session, owner_id: int, name: str, hidden: bool, now: datetime) -> int:
    row = Person(owner_id=owner_id, name=name, hidden=hidden, created_at=now)
    s.add(row)
    s.flush()
    return row.id


def set_person(
    s: Session, person_id: int, *, name: str | None = None, hidden: bool | None = None
) -> None:
    """Change what is given of a person."""
    row = s.get(Person, person_id)
    assert row is not None
    if name is not None:
        row.name = name
    if hidden is not None:
        row.hidden = hidden


def set_cover(s: Session, person_id: int, face_id: int | None) -> None:
    row = s.get(Person, person_id)
    assert row is not None
    row.cover_face_id = face_id


def delete_person(s: Session, person_id: int) -> None:
    s.flush()
    row = s.get(Person, person_id)
    if row is not None:
        s.delete(row)


def add_face(
    s: Session,
    *,
    asset_id: int,
    person_id: int | None,
    box: tuple[float, float, float, float],
    score: float,
    landmarks: list[float] | None,
    model: str,
    embedding: bytes | None,
    assigned_by_user: bool,
) -> int:
    x1, y1, x2, y2 = box
    row = Face(
        asset_id=asset_id,
        person_id=person_id,
        x1=x1,
        y1=y1,
        x2=x2,
        y2=y2,
        score=score,
        landmarks=landmarks,
        model=model,
        embedding=embedding,
        assigned_by_user=assigned_by_user,
    )
    s.add(row)
    s.flush()
    return row.id


def set_face(s: Session, face_id: int, person_id: int | None, by_user: bool) -> None:
    row = s.get(Face, face_id)
    assert row is not None
    row.person_id, row.assigned_by_user = person_id, by_user


def unset_cover(s: Session, face_id: int) -> None:
    """No person has this face as its cover any more."""
    s.execute(update(Person).where(Person.cover_face_id == face_id).values(cover_face_id=None))


def add_rejections(s: Session, pairs: Sequence[tuple[int, int]], now: datetime) -> None:
    """Remember (face, person) "not this person" decisions."""
    rows = [{"face_id": f, "person_id": p, "created_at": now} for f, p in pairs]
    if len(rows) == 1:
        s.execute(face_rejections.insert().values(**rows[0]))
    elif rows:
        s.execute(face_rejections.insert(), rows)


def lift_rejection(s: Session, face_id: int, person_id: int) -> None:
    s.execute(
        delete(face_rejections).where(
            face_rejections.c.face_id == face_id, face_rejections.c.person_id == person_id
        )
    )
