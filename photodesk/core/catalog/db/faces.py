"""Face rows as detection and clustering use them: a photo's machine faces, the embeddings of a
model, and people made, placed or dissolved by a clustering run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, AssetAnalysis, Face, FaceRejection, Person

Box = tuple[float, float, float, float]
EmbeddingRow = tuple[int, int, "int | None", "bytes | None"]  # face, asset, person, embedding


def user_faces(s: Session, asset_id: int) -> list[tuple[int, Box, bool]]:
    """(id, box, has an embedding) of the faces the user placed on a photo."""
    rows = s.scalars(
        select(Face).where(Face.asset_id == asset_id, Face.assigned_by_user.is_(True))
    ).all()
    return [(f.id, (f.x1, f.y1, f.x2, f.y2), f.embedding is not None) for f in rows]


def boxes(s: Session, asset_id: int) -> list[tuple[int, Box]]:
    """(id, box) of every face on a photo, oldest first."""
    rows = s.execute(
        select(Face.id, Face.x1, Face.y1, Face.x2, Face.y2)
        .where(Face.asset_id == asset_id)
        .order_by(Face.id)
    )
    return [(int(r[0]), (r[1], r[2], r[3], r[4])) for r in rows]


def machine_faces(s: Session, asset_id: int) -> list[tuple[int, Box]]:
    """(id, box) of the faces the machine found on a photo (here or on a synced side)."""
    rows = s.execute(
        select(Face.id, Face.x1, Face.y1, Face.x2, Face.y2)
        .where(Face.asset_id == asset_id, Face.assigned_by_user.is_(False))
        .order_by(Face.id)
    )
    return [(int(r[0]), (r[1], r[2], r[3], r[4])) for r in rows]


def clear_machine_faces(s: Session, asset_id: int, keep: Sequence[int] = ()) -> set[int]:
    """Delete the faces the machine found on a photo but ``keep``; returns the people they
    were in."""
    machine = (Face.asset_id == asset_id, Face.assigned_by_user.is_(False), Face.id.not_in(keep))
    had = s.scalars(select(Face.person_id).where(*machine, Face.person_id.is_not(None)))
    people = {int(p) for p in had if p is not None}
    s.execute(delete(Face).where(*machine))
    return people


def teach(
    s: Session, face_id: int, embedding: bytes, model: str, score: float, landmarks: list[float]
) -> None:
    """Give a face what the machine saw of it now (one placed without an embedding, named in
    XMP; one found before, here or on a synced side, found again)."""
    row = s.get(Face, face_id)
    assert row is not None
    row.embedding, row.model, row.score, row.landmarks = embedding, model, score, landmarks


def record_analysis(s: Session, asset_id: int, task: str, model: str, found: int) -> None:
    s.merge(
        AssetAnalysis(
            asset_id=asset_id, task=task, model=model, found=found, done_at=datetime.now()
        )
    )


def drop_empty_clusters(s: Session, people: Sequence[int]) -> None:
    """Delete those of ``people`` that are unnamed, not hidden, without faces or decisions."""
    s.execute(
        delete(Person).where(
            Person.id.in_(list(people)),
            Person.name == "",
            Person.hidden.is_(False),
            ~select(Face.id).where(Face.person_id == Person.id).exists(),
            ~select(FaceRejection.face_id).where(FaceRejection.person_id == Person.id).exists(),
        )
    )


def models(s: Session, owner_id: int) -> list[str]:
    """Embedding models of the owner's faces, the most used first."""
    rows = s.execute(
        select(Face.model, func.count())
        .join(Asset, Asset.id == Face.asset_id)
        .where(Asset.owner_id == owner_id, Face.embedding.is_not(None))
        .group_by(Face.model)
        .order_by(func.count().desc())
    ).all()
    return [m for m, _ in rows]


def dissolve_untouched(s: Session, owner_id: int) -> None:
    """Dissolve the owner's people the user never touched (no name, not hidden, no face placed
    by hand, no "not this person"): their faces lose their person."""
    touched = (
        select(Person.id)
        .where(Person.owner_id == owner_id)
        .where(
            (Person.name != "")
            | Person.hidden.is_(True)
            | select(Face.id)
            .where(Face.person_id == Person.id, Face.assigned_by_user.is_(True))
            .exists()
            | select(FaceRejection.face_id).where(FaceRejection.person_id == Person.id).exists()
        )
    )
    kept = set(s.scalars(touched))
    dissolve = [
        p for p in s.scalars(select(Person.id).where(Person.owner_id == owner_id)) if p not in kept
    ]
    for start in range(0, len(dissolve), 900):
        part = dissolve[start : start + 900]
        s.execute(update(Face).where(Face.person_id.in_(part)).values(person_id=None))
        s.execute(delete(Person).where(Person.id.in_(part)))


def embeddings(s: Session, owner_id: int, model: str) -> list[EmbeddingRow]:
    """The owner's faces (on untrashed photos) with an embedding of ``model``, by id."""
    rows = s.execute(
        select(Face.id, Face.asset_id, Face.person_id, Face.embedding)
        .join(Asset, Asset.id == Face.asset_id)
        .where(
            Asset.owner_id == owner_id,
            Asset.trashed_at.is_(None),
            Face.model == model,
            Face.embedding.is_not(None),
        )
        .order_by(Face.id)
    ).all()
    return [(fid, aid, pid, emb) for fid, aid, pid, emb in rows]


def rejections(s: Session) -> list[tuple[int, int]]:
    """Every (face, person) "not this person" decision."""
    c = FaceRejection.__table__.c
    return [(int(f), int(p)) for f, p in s.execute(select(c.face_id, c.person_id))]


def named_people(s: Session, owner_id: int) -> set[int]:
    return set(s.scalars(select(Person.id).where(Person.owner_id == owner_id, Person.name != "")))


def alive(s: Session, people: Sequence[int]) -> set[int]:
    """Those of ``people`` that still exist."""
    return set(s.scalars(select(Person.id).where(Person.id.in_(list(people)))))


def photos_taken(s: Session, people: Sequence[int]) -> dict[int, set[int]]:
    """The photos each of ``people`` has a face on."""
    taken: dict[int, set[int]] = {}
    for pid, aid in s.execute(
        select(Face.person_id, Face.asset_id).where(Face.person_id.in_(list(people)))
    ):
        if pid is not None:
            taken.setdefault(int(pid), set()).add(int(aid))
    return taken


def placeable(s: Session, face_id: int) -> int | None:
    """The photo of a face nobody has placed yet (None: gone, in a person, or the user's)."""
    row = s.get(Face, face_id)
    if row is None or row.person_id is not None or row.assigned_by_user:
        return None
    return row.asset_id


def place(s: Session, face_id: int, person_id: int) -> None:
    row = s.get(Face, face_id)
    assert row is not None
    row.person_id = person_id
