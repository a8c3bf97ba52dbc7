"""Faces found by the ML layer: storing them per photo, and grouping them into people."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from photodesk.core.catalog.db import faces as face_repo
from photodesk.core.catalog.db import people as people_repo
from photodesk.core.catalog.events import Changes
from photodesk.core.people import clustering

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session, Store
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
    One that overlaps a face the machine found before (here, or on a synced side and pulled)
    is that face: it keeps its id, box and person and takes the new embedding, so detecting
    again, or with another model, never makes a second face or loses a placement.
    """
    with store.write(Changes(people=True, assets=frozenset({int(asset_id)}))) as s:
        kept = face_repo.user_faces(s, asset_id)
        before = face_repo.machine_faces(s, asset_id)
        ids: list[int] = []
        refound: list[int] = []
        todo = []
        for f in found:
            box = tuple(float(min(max(v, 0.0), 1.0)) for v in f.box)
            if not (box[0] < box[2] and box[1] < box[3]):
                continue
            embedding = np.asarray(f.embedding, dtype="<f4").tobytes()
            landmarks = [float(v) for v in f.landmarks]
            same = [k for k in kept if _iou(box, k[1]) >= 0.5]
            if same:
                for face_id, _, has_embedding in same:
                    if not has_embedding:  # a face named in XMP: it learns what it looks like
                        face_repo.teach(s, face_id, embedding, model, float(f.score), landmarks)
                continue
            near = [(_iou(box, b), -i, i) for i, b in before if i not in refound]
            best = max(near, default=(0.0, 0, 0))
            if best[0] >= 0.5:
                face_repo.teach(s, best[2], embedding, model, float(f.score), landmarks)
                refound.append(best[2])
                continue
            todo.append((box, embedding, landmarks, f))
        had = face_repo.clear_machine_faces(s, asset_id, keep=refound)
        for box, embedding, landmarks, f in todo:
            ids.append(
                people_repo.add_face(
                    s,
                    asset_id=asset_id,
                    person_id=None,
                    box=(box[0], box[1], box[2], box[3]),
                    score=float(f.score),
                    landmarks=landmarks,
                    model=model,
                    embedding=embedding,
                    assigned_by_user=False,
                )
            )
        face_repo.record_analysis(s, asset_id, "faces", model, len(ids) + len(refound))
        # unnamed clusters whose only faces were on this photo (re-detected) go away
        face_repo.drop_empty_clusters(s, list(had))
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
        return face_repo.models(s, store.owner_id)


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
        face_repo.dissolve_untouched(s, store.owner_id)
    return cluster(store, analyzer, model, min_faces=min_faces)


def _load(s: Session, owner_id: int, model: str) -> clustering.FaceSet | None:
    rows = face_repo.embeddings(s, owner_id, model)
    if not rows:
        return None
    dim = len(rows[0][3] or b"") // 4
    rows = [r for r in rows if r[3] is not None and len(r[3]) == dim * 4]
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    people = np.array([r[2] if r[2] is not None else clustering.NONE for r in rows], np.int64)
    vecs = np.frombuffer(b"".join(r[3] or b"" for r in rows), dtype="<f4").reshape(-1, dim)
    row_of = {int(f): i for i, f in enumerate(ids)}
    rejected: dict[int, set[int]] = {}
    for fid, pid in face_repo.rejections(s):
        if fid in row_of:
            rejected.setdefault(row_of[fid], set()).add(pid)
    named = face_repo.named_people(s, owner_id)
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
        alive = face_repo.alive(s, list(existing))
        taken = face_repo.photos_taken(s, list(alive))
        for row, label in sorted(moves.items(), key=lambda kv: int(faces.ids[kv[0]])):
            face_id = int(faces.ids[row])
            asset_id = face_repo.placeable(s, face_id)
            if asset_id is None:
                continue  # the user (or another run) got there first
            if label >= 0 and label not in alive:
                continue
            if label < 0 and label not in created:
                created[label] = people_repo.add_person(s, store.owner_id, "", False, now)
            pid = created[label] if label < 0 else label
            if asset_id in taken.setdefault(pid, set()):
                continue
            face_repo.place(s, face_id, pid)
            taken[pid].add(asset_id)
            done += 1
    return ClusterReport(model, len(faces.ids), done, len(created), waiting + len(moves) - done)
