"""Smart search inside PostgreSQL: pgvector's ``halfvec`` column and HNSW indexes (the only
pgvector SQL).

On PostgreSQL with the ``vector`` extension (migration 0019), each ``embeddings`` row also holds
its vector as ``embedding halfvec`` (float16, half the bytes of the float32 ``vector`` blob that
sync and "more like this" read), and each vector size has a partial HNSW index on
``embedding::halfvec(dim)`` with cosine distance. A search asks the index for the ``k`` nearest
rows among the assets the filters let through (iterative index scans, so a narrow filter still
gets ``k`` rows) and returns their float32 vectors: the caller ranks them exactly, so scores
match SQLite's in-memory index and only the candidate set is approximate.

Measured at 1M embeddings (bench/scale_bench.py, README): top-100 p95 261 ms here against 796 ms
for the in-memory index fed from PostgreSQL, and no index to load into the server's memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from photodesk.core.catalog.db.schema import Asset, Embedding

EF_SEARCH = 100  # HNSW candidate list: pgvector's default is 40; at most 1000
MAX_SCAN = 50_000  # rows an iterative scan may visit to fill ``k`` past the filters
_native: dict[str, bool] = {}  # database URL -> the embeddings table has the halfvec column
_indexed: dict[str, set[int]] = {}  # database URL -> vector sizes known to have their index


def _key(bind: Any) -> str:
    engine = getattr(bind, "engine", bind)
    return str(engine.url)


def available(conn: Connection) -> bool:
    """The server can make the ``vector`` extension (a migration step asks)."""
    return bool(
        conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").scalar()
    )


HAS_COLUMN = text(
    "SELECT 1 FROM information_schema.columns WHERE table_name = 'embeddings' "
    "AND column_name = 'embedding' AND table_schema = current_schema()"
)


def native(s: Session) -> bool:
    """Smart search runs in this catalog: PostgreSQL with the halfvec column (cached)."""
    bind = s.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    key = _key(bind)
    if key not in _native:
        _native[key] = bool(s.scalar(HAS_COLUMN))
    return _native[key]


def native_conn(conn: Connection) -> bool:
    """``native`` for a connection (a catalog copy's target), not cached."""
    return conn.dialect.name == "postgresql" and bool(conn.execute(HAS_COLUMN).scalar())


def literal(vec: NDArray[np.float32]) -> str:
    """pgvector's text form of a vector (``[0.1,0.2]``); 6 decimals is finer than float16."""
    return repr(np.round(np.asarray(vec, dtype=np.float64), 6).tolist()).replace(" ", "")


def index_name(dim: int) -> str:
    return f"ix_embeddings_hnsw_{int(dim)}"


def create_index(conn: Connection | Session, dim: int) -> None:
    """The HNSW index (cosine) of one vector size: partial, on the column cast to that size."""
    dim = int(dim)
    conn.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {index_name(dim)} ON embeddings USING hnsw "
            f"((embedding::halfvec({dim})) halfvec_cosine_ops) WHERE dim = {dim}"
        )
    )


def ensure_index(s: Session, dim: int) -> None:
    """Make the index of ``dim`` unless this process has seen it (the first row of a new model
    size makes it, on an empty or nearly empty set)."""
    key = _key(s.get_bind())
    known = _indexed.setdefault(key, set())
    if dim in known:
        return
    exists = s.scalar(
        text("SELECT 1 FROM pg_indexes WHERE tablename = 'embeddings' AND indexname = :n"),
        {"n": index_name(dim)},
    )
    if not exists:
        create_index(s, dim)
    known.add(dim)


def insert(s: Session, model: str, rows: Sequence[tuple[int, NDArray[np.float32]]]) -> None:
    """Insert rows with both forms of the vector (the caller deleted the old ones)."""
    for dim in {int(v.shape[0]) for _, v in rows}:
        ensure_index(s, dim)
    s.execute(
        text(
            "INSERT INTO embeddings (asset_id, model, dim, vector, embedding) "
            "VALUES (:asset_id, :model, :dim, :vector, CAST(:embedding AS halfvec))"
        ),
        [
            {
                "asset_id": int(a),
                "model": model,
                "dim": int(v.shape[0]),
                "vector": np.asarray(v, dtype="<f4").tobytes(),
                "embedding": literal(v),
            }
            for a, v in rows
        ],
    )


def nearest(
    s: Session,
    model: str,
    query: NDArray[np.float32],
    k: int,
    *,
    where: Any = None,
    exclude: Iterable[int] = (),
) -> list[tuple[int, NDArray[np.float32]]]:
    """``(asset id, float32 vector)`` of about the ``k`` rows nearest ``query`` (cosine) among
    the assets ``where`` (a WHERE clause on ``assets``) lets through, nearest first.

    An iterative HNSW scan (``relaxed_order``: the caller re-ranks) keeps visiting the graph
    until ``k`` rows passed the filters (or ``MAX_SCAN`` rows were seen); ``ef_search`` is at
    least ``k``, so a set smaller than that is searched whole, in exact order.
    """
    dim = int(query.shape[0])
    ef = max(EF_SEARCH, min(int(k), 1000))
    s.execute(text("SET LOCAL hnsw.iterative_scan = relaxed_order"))
    s.execute(text(f"SET LOCAL hnsw.ef_search = {ef}"))
    s.execute(text(f"SET LOCAL hnsw.max_scan_tuples = {MAX_SCAN}"))
    distance = text(
        f"embeddings.embedding::halfvec({dim}) <=> CAST(:q AS halfvec({dim}))"
    ).bindparams(q=literal(query))
    stmt = (
        select(Embedding.asset_id, Embedding.vector)
        .where(Embedding.model == model, Embedding.dim == dim, text("embedding IS NOT NULL"))
        .order_by(distance)
        .limit(int(k))
    )
    skip = [int(i) for i in exclude]
    if skip:
        stmt = stmt.where(Embedding.asset_id.not_in(skip))
    if where is not None:
        stmt = stmt.join(Asset, Asset.id == Embedding.asset_id).where(where)
    rows = s.execute(stmt).all()
    return [(int(a), np.frombuffer(blob, dtype="<f4")) for a, blob in rows]


def add_column(conn: Connection) -> None:
    """Migration 0019 on PostgreSQL: the extension, the column, every row copied, the indexes."""
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    conn.exec_driver_sql("ALTER TABLE embeddings ADD COLUMN IF NOT EXISTS embedding halfvec")
    _native.clear()
    fill(conn)


def fill(conn: Connection) -> None:
    """Give the rows written without it (a migration, a catalog copy) their ``embedding``, then
    make the HNSW index of every vector size (a long build at a million rows: it runs once)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    after = -1
    while True:
        batch = conn.exec_driver_sql(
            "SELECT seq, vector FROM embeddings WHERE embedding IS NULL AND seq > %(after)s "
            "ORDER BY seq LIMIT 5000",
            {"after": after},
        ).all()
        if not batch:
            break
        with raw.cursor() as cur:
            cur.executemany(
                "UPDATE embeddings SET embedding = CAST(%s AS halfvec) WHERE seq = %s",
                [(literal(np.frombuffer(blob, dtype="<f4")), seq) for seq, blob in batch],
            )
        after = int(batch[-1][0])
    conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '1GB'")
    for (dim,) in conn.exec_driver_sql("SELECT DISTINCT dim FROM embeddings").all():
        create_index(conn, int(dim))
    _indexed.clear()


def drop_column(conn: Connection) -> None:
    for (name,) in conn.exec_driver_sql(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'embeddings' "
        "AND indexname LIKE 'ix_embeddings_hnsw_%'"
    ).all():
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    conn.exec_driver_sql("ALTER TABLE embeddings DROP COLUMN IF EXISTS embedding")
    _native.clear()
    _indexed.clear()
