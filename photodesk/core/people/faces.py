"""Faces found by the ML layer: storing them per photo, and grouping them into people."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import delete, func, select, update

from photodesk.core.catalog.db.schema import Asset, AssetAnalysis, Face, FaceRejection, Person
from photodesk.core.catalog.events import Changes
from photodesk.core.people import clustering

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from photodesk.core.catalog.store import Store
    from photodesk.core.inference.ports import DetectedFace, FaceAnalyzer

log = logging.getLogger(__name__)

MIN_FACES = 3  # Immich's minFaces: a face with this many close faces (itself too) founds a person
# (metric, match distance) by model-name prefix, when no analyzer is attached to say so
METRICS = {"dlib": ("euclidean", 0.6)}
DEFAULT_METRIC = ("cosine", 0.5)  # ArcFace (insightface packs), Immich's maxDistance


@dataclass(frozen=True)
class ClusterReport:
    """What one clustering run did."""

    model: str
    faces: int  # faces of this model in the library
    placed: int  # faces that got a person in this run
    new_people: int
    waiting: int  # faces still without a person (too few close faces yet)


def metric_of(analyzer: FaceAnalyzer | None, model: str) -> tuple[str, float]:
    """The distance metric and match threshold of ``model`` (the attached analyser's own)."""
    if analyzer is not None and analyzer.model_name == model:
        return analyzer.metric, float(analyzer.match_distance)
    for prefix, found in METRICS.items():
        if model.startswith(prefix):
            return found
    return DEFAULT_METRIC


def store_faces(
    store: Store, asset_id: int, model: str, found: Sequence[DetectedFace]
) -> list[int]:
    """Replace the machine's faces of a photo with ``found``; faces the user placed stay.

    A found face that overlaps one the user placed (same face, box IoU >= 0.5) is not added.
    """
    with store.write(Changes(people=True, assets=frozenset({int(asset_id)}))) as s:
        kept = s.scalars(
            select(Face).where(Face.asset_id == asset_id, Face.assigned_by_user.is_(True))
        ).all()
        machine = (Face.asset_id == asset_id, Face.assigned_by_user.is_(False))
        had = set(s.scalars(select(Face.person_id).where(*machine, Face.person_id.is_not(None))))
        s.execute(delete(Face).where(*machine))
        ids = []
        for f in found:
            box = tuple(float(min(max(v, 0.0), 1.0)) for v in f.box)
            if not (box[0] < box[2] and box[1] < box[3]):
                continue
            same = [k for k in kept if _iou(box, (k.x1, k.y1, k.x2, k.y2)) >= 0.5]
            if same:
                for k in same:
                    if k.embedding is None:  # a face named in XMP: it learns what it looks like
                        k.embedding = np.asarray(f.embedding, dtype="<f4").tobytes()
                        k.model, k.score = model, float(f.score)
                        k.landmarks = [float(v) for v in f.landmarks]
                continue
            row = Face(
                asset_id=asset_id,
                x1=box[0],
                y1=box[1],
                x2=box[2],
                y2=box[3],
                score=float(f.score),
                landmarks=[float(v) for v in f.landmarks],
                model=model,
                embedding=np.asarray(f.embedding, dtype="<f4").tobytes(),
                assigned_by_user=False,
            )
            s.add(row)
            s.flush()
            ids.append(row.id)
        s.merge(
            AssetAnalysis(
                asset_id=asset_id, task="faces", model=model, found=len(ids), done_at=datetime.now()
            )
        )
        # unnamed clusters whose only faces were on this photo (re-detected) go away
        s.execute(
            delete(Person).where(
                Person.id.in_(list(had)),
                Person.name == "",
                Person.hidden.is_(False),
                ~select(Face.id).where(Face.person_id == Person.id).exists(),
                ~select(FaceRejection.face_id).where(FaceRejection.person_id == Person.id).exists(),
            )
        )
        return ids


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def face_models(store: Store) -> list[str]:
    """Embedding models of the owner's faces, the most used first."""
    with store.read() as s:
        rows = s.execute(
            select(Face.model, func.count())
            .join(Asset, Asset.id == Face.asset_id)
            .where(Asset.owner_id == store.owner_id, Face.embedding.is_not(None))
            .group_by(Face.model)
            .order_by(func.count().desc())
        ).all()
    return [m for m, _ in rows]


def cluster(
    store: Store,
    analyzer: FaceAnalyzer | None = None,
    model: str | None = None,
    *,
    min_faces: int = MIN_FACES,
) -> ClusterReport:
    """Place the faces that have no person yet (the incremental pass after each import)."""
    if model is None:
        models = face_models(store)
        model = analyzer.model_name if analyzer is not None else (models[0] if models else "")
    metric, distance = metric_of(analyzer, model)
    with store.read() as s:
        faces = _load(s, store.owner_id, model)
    if faces is None:
        return ClusterReport(model, 0, 0, 0, 0)
    placed = clustering.assign(faces, metric=metric, match_distance=distance, min_faces=min_faces)
    return _save(store, model, faces, placed)


def recluster(
    store: Store,
    analyzer: FaceAnalyzer | None = None,
    model: str | None = None,
    *,
    min_faces: int = MIN_FACES,
) -> ClusterReport:
    """Cluster again from scratch, keeping every decision of the user.

    People the user touched stay with all their faces: a name, hidden, a face placed by hand
    (merges count), a "not this person". Unnamed machine clusters are dissolved and their faces
    are clustered again with all the unplaced ones.
    """
    with store.write(Changes(people=True)) as s:
        touched = (
            select(Person.id)
            .where(Person.owner_id == store.owner_id)
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
            p
            for p in s.scalars(select(Person.id).where(Person.owner_id == store.owner_id))
            if p not in kept
        ]
        for start in range(0, len(dissolve), 900):
            part = dissolve[start : start + 900]
            s.execute(update(Face).where(Face.person_id.in_(part)).values(person_id=None))
            s.execute(delete(Person).where(Person.id.in_(part)))
    return cluster(store, analyzer, model, min_faces=min_faces)


def _load(s: Session, owner_id: int, model: str) -> clustering.FaceSet | None:
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
    if not rows:
        return None
    dim = len(rows[0][3] or b"") // 4
    rows = [r for r in rows if r[3] is not None and len(r[3]) == dim * 4]
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    people = np.array([r[2] if r[2] is not None else clustering.NONE for r in rows], np.int64)
    vecs = np.frombuffer(b"".join(r[3] or b"" for r in rows), dtype="<f4").reshape(-1, dim)
    row_of = {int(f): i for i, f in enumerate(ids)}
    rejected: dict[int, set[int]] = {}
    c = FaceRejection.__table__.c
    for fid, pid in s.execute(select(c.face_id, c.person_id)):
        if int(fid) in row_of:
            rejected.setdefault(row_of[int(fid)], set()).add(int(pid))
    named = set(s.scalars(select(Person.id).where(Person.owner_id == owner_id, Person.name != "")))
    return clustering.FaceSet(
        ids=ids,
        assets=np.array([r[1] for r in rows], dtype=np.int64),
        people=people,
        vectors=vecs,
        pending=people == clustering.NONE,
        rejected=rejected,
        named=named,
    )


def _save(
    store: Store, model: str, faces: clustering.FaceSet, placed: dict[int, int]
) -> ClusterReport:
    moves = {row: p for row, p in placed.items() if p != clustering.NONE}
    waiting = sum(1 for p in placed.values() if p == clustering.NONE)
    if not moves:
        return ClusterReport(model, len(faces.ids), 0, 0, waiting)
    changed = frozenset(int(faces.assets[row]) for row in moves)
    created: dict[int, int] = {}
    done = 0
    with store.write(Changes(people=True, assets=changed)) as s:
        now = datetime.now()
        existing = {p for p in moves.values() if p >= 0}
        alive = set(s.scalars(select(Person.id).where(Person.id.in_(list(existing)))))
        taken: dict[int, set[int]] = {}
        for pid, aid in s.execute(
            select(Face.person_id, Face.asset_id).where(Face.person_id.in_(list(alive)))
        ):
            if pid is not None:
                taken.setdefault(int(pid), set()).add(int(aid))
        for row, label in sorted(moves.items(), key=lambda kv: int(faces.ids[kv[0]])):
            face = s.get(Face, int(faces.ids[row]))
            if face is None or face.person_id is not None or face.assigned_by_user:
                continue  # the user (or another run) got there first
            if label >= 0 and label not in alive:
                continue
            if label < 0 and label not in created:
                person = Person(owner_id=store.owner_id, name="", hidden=False, created_at=now)
                s.add(person)
                s.flush()
                created[label] = person.id
            pid = created[label] if label < 0 else label
            if face.asset_id in taken.setdefault(pid, set()):
                continue
            face.person_id = pid
            taken[pid].add(face.asset_id)
            done += 1
    return ClusterReport(model, len(faces.ids), done, len(created), waiting + len(moves) - done)
