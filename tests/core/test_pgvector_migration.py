"""Migration 0019: a PostgreSQL catalog's embeddings get their pgvector ``halfvec`` copy and an
HNSW index per vector size, and smart search then runs in the catalog; SQLite is unchanged."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from alembic import command
from sqlalchemy import Engine, text

from photodesk.core import Library
from photodesk.core.catalog.db import migrate
from photodesk.core.catalog.db.engine import make_engine, make_server_engine


def _to(engine: Engine, revision: str) -> None:
    cfg = migrate._config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _embedded_before(engine: Engine, vecs: np.ndarray) -> list[int]:
    """Assets with float32 embeddings written as photodesk wrote them before 0019."""
    now = datetime(2024, 1, 1)
    ids = []
    with engine.begin() as conn:
        owner = conn.execute(
            text(
                "INSERT INTO users (email, name, password_hash, is_admin, created_at) "
                "VALUES ('me@example.org', 'Me', '', true, :t) RETURNING id"
            ),
            {"t": now},
        ).scalar_one()
        for n, vec in enumerate(vecs):
            aid = conn.execute(
                text(
                    "INSERT INTO assets (owner_id, checksum, kind, file_type, mime, size, "
                    "taken_at, taken_month, rating, favorite, archived, offline, has_thumbnail, "
                    "created_at, updated_at) VALUES (:o, :c, 'photo', 'jpeg', 'image/jpeg', 1, "
                    ":t, 202401, 0, false, false, false, false, :t, :t) RETURNING id"
                ),
                {"o": owner, "c": f"{n:040x}", "t": now},
            ).scalar_one()
            conn.execute(
                text(
                    "INSERT INTO embeddings (asset_id, model, dim, vector) VALUES (:a, 'm', :d, :v)"
                ),
                {"a": aid, "d": len(vec), "v": np.asarray(vec, "<f4").tobytes()},
            )
            ids.append(int(aid))
    return ids


def test_existing_embeddings_are_copied_into_halfvec_and_indexed(
    postgres: Any, tmp_path: Path
) -> None:
    url = postgres.create_database()
    engine = make_server_engine(url, writer=True)
    rng = np.random.default_rng(2)
    vecs = rng.standard_normal((30, 12)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    try:
        _to(engine, "0018")
        ids = _embedded_before(engine, vecs)
        migrate.upgrade(engine, None)
        assert migrate.current_revision(engine) == migrate.HEAD
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT asset_id, embedding::text FROM embeddings ORDER BY asset_id")
            ).all()
            index = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_embeddings_hnsw_12'")
            ).scalar_one()
        assert [r[0] for r in rows] == ids
        copied = np.array([[float(x) for x in r[1].strip("[]").split(",")] for r in rows])
        assert np.allclose(copied, vecs, atol=1e-3)  # float16
        assert "hnsw" in index and "halfvec_cosine_ops" in index and "(dim = 12)" in index
    finally:
        engine.dispose()
    with Library.open(tmp_path / "lib", database=url) as lib, lib.read() as s:
        from photodesk.core.catalog.db import vector_search

        got = vector_search.nearest(s, "m", vecs[4], 3)
        assert got[0][0] == ids[4]
        assert np.array_equal(got[0][1], vecs[4])  # the float32 row comes back for ranking


def test_sqlite_catalogs_get_no_halfvec_column(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "catalog.db", writer=True)
    try:
        migrate.upgrade(engine, None)
        with engine.connect() as conn:
            cols = [r[1] for r in conn.execute(text("PRAGMA table_info(embeddings)"))]
        assert "embedding" not in cols and "vector" in cols
    finally:
        engine.dispose()
