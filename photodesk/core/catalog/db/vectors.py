"""Embedding rows: bulk writes and fast incremental reads (the only dialect-specific vector SQL).

Embeddings live in the portable ``embeddings`` table (float32 little-endian blobs). On SQLite
searching happens in an in-memory index (core/search/vector_index.py) that follows the table by
``rowid``: a
row written or rewritten gets a rowid above every earlier one, so "rows after the last rowid I
loaded" is the whole delta. sqlite-vec's ``vec0`` scan measured ~10x slower than the in-memory
index here (750 ms at 1M), so it is not used for search.

On PostgreSQL the same order comes from the ``seq`` identity column (migration 0001 adds it
there only): every insert takes the next value, and a rewrite is a delete plus an insert. With
pgvector (migration 0019) PostgreSQL searches its own HNSW index (vector_search.py, 3x faster
than the in-memory index at 1M); without it the in-memory index is fed from PostgreSQL the same
way as from SQLite. Near-duplicate grouping uses the in-memory index on both.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from photodesk.core.catalog.db import vector_search
from photodesk.core.catalog.db.schema import Embedding, Setting

CHUNK = 20_000
HWM_KEY = "vectors.rowid"


def save(s: Session, model: str, rows: Sequence[tuple[int, NDArray[np.float32]]]) -> None:
    """Insert or replace the embeddings of ``(asset id, vector)`` for ``model``.

    Rows get explicit rowids above every rowid ever given (a high-water mark kept in
    ``settings``), so a row written after a delete is never mistaken for an old one.
    """
    if not rows:
        return
    ids = [int(a) for a, _ in rows]
    s.execute(delete(Embedding).where(Embedding.model == model, Embedding.asset_id.in_(ids)))
    if vector_search.native(s):  # the halfvec column too (vector_search.py)
        vector_search.insert(s, model, rows)
        return
    if _postgres(s):  # seq comes from its identity sequence, never reused
        s.execute(
            insert(Embedding),
            [
                {
                    "asset_id": int(a),
                    "model": model,
                    "dim": int(v.shape[0]),
                    "vector": np.asarray(v, dtype="<f4").tobytes(),
                }
                for a, v in rows
            ],
        )
        return
    mark = s.get(Setting, HWM_KEY)
    top = max(int(mark.value) if mark is not None and isinstance(mark.value, int) else 0, head(s))
    s.execute(
        text(
            "INSERT INTO embeddings (rowid, asset_id, model, dim, vector) "
            "VALUES (:rowid, :asset_id, :model, :dim, :vector)"
        ),
        [
            {
                "rowid": top + n + 1,
                "asset_id": int(a),
                "model": model,
                "dim": int(v.shape[0]),
                "vector": np.asarray(v, dtype="<f4").tobytes(),
            }
            for n, (a, v) in enumerate(rows)
        ],
    )
    s.merge(Setting(key=HWM_KEY, value=top + len(rows)))


def _postgres(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def _order(s: Session) -> str:
    return "seq" if _postgres(s) else "rowid"


def head(s: Session) -> int:
    """The highest rowid in the table (0 when empty): a change marker that costs one lookup."""
    return int(s.scalar(text(f"SELECT coalesce(max({_order(s)}), 0) FROM embeddings")) or 0)


def any_of(s: Session, model: str) -> bool:
    return s.scalar(select(Embedding.asset_id).where(Embedding.model == model).limit(1)) is not None


def dim_of(s: Session, model: str) -> int | None:
    """The model's vector size, from its first row (None: nothing embedded yet)."""
    return s.scalar(select(Embedding.dim).where(Embedding.model == model).limit(1))


def count(s: Session, model: str) -> int:
    return int(s.scalar(select(func.count()).where(Embedding.model == model)) or 0)


def read_since(
    s: Session, model: str, after: int, dim: int
) -> Iterator[tuple[int, NDArray[np.int64], NDArray[np.float32]]]:
    """``(last rowid, asset ids, vectors)`` chunks of ``model``'s rows with rowid > ``after``."""
    conn = s.connection().connection.driver_connection
    assert conn is not None
    if _postgres(s):
        cur = conn.cursor()
        cur.execute(
            "SELECT seq, asset_id, vector FROM embeddings "
            "WHERE seq > %s AND model = %s AND dim = %s ORDER BY seq",
            (after, model, dim),
        )
    else:
        cur = conn.execute(
            "SELECT rowid, asset_id, vector FROM embeddings "
            "WHERE rowid > ? AND model = ? AND dim = ? ORDER BY rowid",
            (after, model, dim),
        )
    try:
        while True:
            batch = cur.fetchmany(CHUNK)
            if not batch:
                return
            ids = np.fromiter((r[1] for r in batch), dtype=np.int64, count=len(batch))
            vecs = np.frombuffer(b"".join(r[2] for r in batch), dtype="<f4").reshape(-1, dim)
            yield int(batch[-1][0]), ids, vecs
    finally:
        cur.close()


def vectors_of(s: Session, model: str, asset_ids: Iterable[int]) -> dict[int, NDArray[np.float32]]:
    """The stored vectors of some assets."""
    ids = [int(i) for i in asset_ids]
    out: dict[int, NDArray[np.float32]] = {}
    for start in range(0, len(ids), 900):
        for aid, blob in s.execute(
            select(Embedding.asset_id, Embedding.vector).where(
                Embedding.model == model, Embedding.asset_id.in_(ids[start : start + 900])
            )
        ):
            out[int(aid)] = np.frombuffer(blob, dtype="<f4")
    return out


def embedded_all(s: Session, model: str | None) -> list[int]:
    """The assets with an embedding of ``model`` (None: of any model)."""
    query = select(Embedding.asset_id).distinct()
    if model is not None:
        query = query.where(Embedding.model == model)
    return list(s.scalars(query))


def embedded(s: Session, model: str, asset_ids: Iterable[int]) -> set[int]:
    """Which of ``asset_ids`` have an embedding for ``model``."""
    ids = [int(i) for i in asset_ids]
    found: set[int] = set()
    for start in range(0, len(ids), 900):
        found.update(
            s.scalars(
                select(Embedding.asset_id).where(
                    Embedding.model == model, Embedding.asset_id.in_(ids[start : start + 900])
                )
            )
        )
    return found


def of_owner_after(
    s: Session, owner: int, after: int, limit: int
) -> list[tuple[int, int, str, str, bytes]]:
    """``(row position, asset id, checksum, model, vector)`` of ``owner``'s embeddings written
    after ``after``, in write order (sync's embeddings feed). Nothing written after ``after``
    costs one lookup (the join below walks every asset of the owner)."""
    if head(s) <= after:
        return []
    order = _order(s)
    rows = s.execute(
        text(
            f"SELECT e.{order}, a.id, a.checksum, e.model, e.vector FROM embeddings e "
            "JOIN assets a ON a.id = e.asset_id "
            f"WHERE a.owner_id = :owner AND e.{order} > :after "
            f"ORDER BY e.{order} LIMIT :limit"
        ),
        {"owner": owner, "after": after, "limit": limit},
    ).all()
    return [(int(r[0]), int(r[1]), str(r[2]), str(r[3]), bytes(r[4])) for r in rows]


def of_assets(s: Session, pairs: Iterable[tuple[int, str]]) -> list[tuple[int, str, str, bytes]]:
    """``(asset id, checksum, model, vector)`` of the given (asset id, model) pairs."""
    from photodesk.core.catalog.db.schema import Asset

    out = []
    for aid, model in pairs:
        row = s.execute(
            select(Asset.checksum, Embedding.vector)
            .join(Asset, Asset.id == Embedding.asset_id)
            .where(Embedding.asset_id == aid, Embedding.model == model)
        ).first()
        if row is not None:
            out.append((int(aid), str(row[0]), model, bytes(row[1])))
    return out
