"""Face clustering rules on synthetic embeddings (no library, no model)."""

from __future__ import annotations

import numpy as np

from photodesk.core.people.clustering import NONE, FaceSet, assign, radius


def identities(n_people: int, per: int, *, spread: float = 0.15, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_people, 64))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows = [c + rng.normal(scale=spread / 8, size=64) for c in centres for _ in range(per)]
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def faceset(x: np.ndarray, assets: list[int] | None = None, **kw: object) -> FaceSet:
    n = len(x)
    return FaceSet(
        ids=np.arange(1, n + 1),
        assets=np.asarray(assets if assets is not None else range(100, 100 + n)),
        people=np.full(n, NONE),
        vectors=x,
        pending=np.ones(n, dtype=bool),
        **kw,  # type: ignore[arg-type]
    )


def groups(placed: dict[int, int]) -> list[set[int]]:
    by: dict[int, set[int]] = {}
    for row, person in placed.items():
        if person != NONE:
            by.setdefault(person, set()).add(row)
    return sorted(by.values(), key=min)


def test_each_identity_becomes_one_person_whatever_the_order():
    x = identities(3, 6)
    order = np.random.default_rng(5).permutation(len(x))
    placed = assign(faceset(x[order]), metric="cosine", match_distance=0.5)
    found = [{int(order[r]) // 6 for r in g} for g in groups(placed)]
    assert sorted(map(sorted, found)) == [[0], [1], [2]]
    assert all(p != NONE for p in placed.values())


def test_a_lone_face_waits_and_a_pair_does_not_found_a_person():
    x = identities(2, 2)  # two people with two faces each: below min_faces = 3
    placed = assign(faceset(x), metric="cosine", match_distance=0.5, min_faces=3)
    assert set(placed.values()) == {NONE}


def test_two_faces_of_one_photo_never_share_a_person():
    x = identities(1, 5)
    # rows 0 and 1 are on the same photo, with (nearly) the same embedding
    x[1] = x[0]
    placed = assign(faceset(x, assets=[7, 7, 8, 9, 10]), metric="cosine", match_distance=0.5)
    assert placed[0] != placed[1] or placed[0] == NONE


def test_rejected_face_never_joins_that_person_and_named_people_win():
    x = identities(1, 6)
    fs = faceset(x)
    fs.people[:3] = 42  # an existing, named person
    fs.pending[:3] = False
    fs.named = {42}
    fs.rejected = {4: {42}}
    placed = assign(fs, metric="cosine", match_distance=0.5)
    assert placed[3] == 42 and placed[5] == 42
    assert placed[4] != 42


def test_euclidean_metric_and_radius():
    assert radius("cosine", 0.5) == 1.0
    assert radius("euclidean", 0.6) == 0.6
    x = identities(2, 4) * 0.45  # dlib-like: unnormalised, norm ~0.45
    placed = assign(faceset(x), metric="euclidean", match_distance=0.3)
    assert len(groups(placed)) == 2
