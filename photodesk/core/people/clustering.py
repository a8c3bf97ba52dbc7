"""Face clustering: Immich-like incremental DBSCAN with photodesk's rules (pure numpy, no I/O).

A face with at least ``min_faces`` faces (itself included) within ``eps`` is a *core* face:
it joins the nearest person among its neighbours, or founds a new person. Clusters grow from
each new person through its neighbouring core faces first (DBSCAN's expansion, so one tight
group becomes one person whatever the arrival order). Faces that are not core wait until all
cores are placed and then only join an existing person. Rules Immich breaks and we keep:

* two faces of one photo never belong to the same person;
* a face never goes to a person it was rejected for ("not this person");
* a face that matches a named person joins that person rather than an unnamed cluster.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

NONE = -1  # no person
CHUNK = 512
CELLS = 16_000_000  # distances held at once (64 MB of float32)


@dataclass
class FaceSet:
    """The faces of one embedding model, in arrays of one row per face."""

    ids: NDArray[np.int64]
    assets: NDArray[np.int64]
    people: NDArray[np.int64]  # person id or NONE
    vectors: NDArray[np.float32]
    pending: NDArray[np.bool_]  # faces to place (the others stay where they are)
    rejected: dict[int, set[int]] = field(default_factory=dict)  # row -> person ids
    named: set[int] = field(default_factory=set)  # person ids with a name


def radius(metric: str, match_distance: float) -> float:
    """The euclidean radius that means ``match_distance`` under ``metric`` (on unit vectors
    for cosine: ``|a - b|^2 = 2 (1 - cos)``)."""
    if metric == "cosine":
        return float(np.sqrt(2.0 * match_distance))
    if metric == "euclidean":
        return float(match_distance)
    raise ValueError(f"unknown face metric {metric!r} (euclidean or cosine)")


def neighbours(
    x: NDArray[np.float32], rows: NDArray[np.int64], r: float
) -> list[tuple[NDArray[np.int64], NDArray[np.float32]]]:
    """For each of ``rows``: the other rows within ``r`` of it, nearest first, with distances."""
    sq = np.einsum("ij,ij->i", x, x)
    out: list[tuple[NDArray[np.int64], NDArray[np.float32]]] = []
    step = max(1, min(CHUNK, CELLS // max(len(x), 1)))  # at most ~CELLS distances at once
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        d2 = sq[chunk, None] + sq[None, :] - 2.0 * (x[chunk] @ x.T)
        np.maximum(d2, 0.0, out=d2)
        for i, row in enumerate(chunk):
            near = np.flatnonzero(d2[i] <= r * r)
            near = near[near != row]
            dist = np.sqrt(d2[i, near])
            order = np.argsort(dist, kind="stable")
            out.append((near[order].astype(np.int64), dist[order].astype(np.float32)))
    return out


def assign(
    faces: FaceSet, *, metric: str, match_distance: float, min_faces: int = 3
) -> dict[int, int]:
    """Place the pending faces: ``{row: person}`` where person is an existing id (>= 0), a
    new cluster (<= -2, the same number for one new person), or ``NONE`` (still waiting)."""
    x = np.asarray(faces.vectors, dtype=np.float32)
    if metric == "cosine":
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    r = radius(metric, match_distance)
    rows = np.flatnonzero(faces.pending).astype(np.int64)
    if not len(rows):
        return {}
    near = dict(zip((int(r) for r in rows), neighbours(x, rows, r), strict=True))
    label = faces.people.astype(np.int64).copy()
    label[rows] = NONE
    photos: dict[int, set[int]] = {}
    for placed in np.flatnonzero(label != NONE):
        photos.setdefault(int(label[placed]), set()).add(int(faces.assets[placed]))
    next_new = -2

    def allowed(row: int, person: int) -> bool:
        return person not in faces.rejected.get(row, ()) and int(faces.assets[row]) not in (
            photos.get(person, ())
        )

    def best_person(row: int) -> int:
        """The nearest allowed person among the neighbours, named people first."""
        idx, _ = near[row]
        people = [int(label[j]) for j in idx if label[j] != NONE]
        people = [p for p in dict.fromkeys(people) if allowed(row, p)]
        named = [p for p in people if p in faces.named]
        return (named or people or [NONE])[0]

    def put(row: int, person: int) -> None:
        label[row] = person
        photos.setdefault(person, set()).add(int(faces.assets[row]))

    pending: list[int] = [int(r) for r in rows]
    core = {row for row in pending if len(near[row][0]) + 1 >= min_faces}
    # Densest cores first; each new person grows through its neighbouring cores at once.
    order = sorted(core, key=lambda row: (-len(near[row][0]), int(faces.ids[row])))
    for seed in order:
        if label[seed] != NONE:
            continue
        queue: deque[int] = deque([seed])
        while queue:
            row = queue.popleft()
            if label[row] != NONE:
                continue
            person = best_person(row)
            if person == NONE:
                if row != seed:
                    continue  # reached from a cluster it may not join: it waits for its turn
                person, next_new = next_new, next_new - 1
            put(row, person)
            queue.extend(int(j) for j in near[row][0] if j in core and label[j] == NONE)
    # Faces that are not core only join people (again while that places more of them).
    waiting = [row for row in pending if label[row] == NONE]
    changed = True
    while waiting and changed:
        changed, still = False, list[int]()
        for row in waiting:
            person = best_person(row)
            if person == NONE:
                still.append(row)
            else:
                put(row, person)
                changed = True
        waiting = still
    return {int(row): int(label[row]) for row in rows}
