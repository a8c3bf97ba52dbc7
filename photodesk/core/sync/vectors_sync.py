"""CLIP embeddings both ways: a device without a GPU gets the server's, a server without one
gets a device's. An embedding is (asset, model) -> vector and never edited: a side takes one
only where it has none for that model, so there is nothing to decide (docs/sync.md)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from photodesk.core.catalog.db import sync_fields, vectors
from photodesk.core.sync.types import VectorItem, VectorPage

if TYPE_CHECKING:
    from photodesk.core.catalog.store import Session

MAX_PAGE = 1000


def page(s: Session, owner: int, after: int, limit: int) -> VectorPage:
    """The owner's embeddings written after row ``after``; the cursor of the last page is the
    table's newest row (others' rows are no reason to ask again)."""
    limit = max(1, min(limit, MAX_PAGE))
    top = vectors.head(s)
    rows = vectors.of_owner_after(s, owner, after, limit)
    more = len(rows) == limit
    cursor = rows[-1][0] if more else max(top, after, rows[-1][0] if rows else 0)
    return VectorPage(
        tuple(VectorItem(checksum, model, blob) for _, _, checksum, model, blob in rows),
        cursor,
        more,
    )


def store(s: Session, owner: int, items: Sequence[VectorItem]) -> tuple[int, int, list[str]]:
    """Save the embeddings this catalog lacks (by the owner's asset checksum and model):
    (stored, already there or unknown, errors)."""
    by_sum = sync_fields.ids_by_checksum(s, owner, {it.checksum for it in items})
    wanted: dict[str, list[tuple[int, np.ndarray]]] = defaultdict(list)
    errors: list[str] = []
    skipped = 0
    for it in items:
        aid = by_sum.get(it.checksum)
        if aid is None:
            errors.append(f"embedding: no asset {it.checksum[:40]} in this account")
            continue
        wanted[it.model].append((aid, np.frombuffer(it.vector, dtype="<f4")))
    stored = 0
    for model, rows in wanted.items():
        dim = vectors.dim_of(s, model)
        have = vectors.embedded(s, model, [a for a, _ in rows])
        fresh: dict[int, np.ndarray] = {}
        for aid, vec in rows:
            if aid in have or aid in fresh:
                skipped += 1
            elif dim is not None and vec.shape[0] != dim:
                errors.append(f"embedding of {model[:40]}: {vec.shape[0]} values, not {dim}")
            else:
                fresh[aid] = vec
        vectors.save(s, model, list(fresh.items()))
        stored += len(fresh)
    return stored, skipped, errors


def head(s: Session) -> int:
    return vectors.head(s)
