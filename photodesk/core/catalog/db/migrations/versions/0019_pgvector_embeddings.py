"""pgvector embeddings: a halfvec column with HNSW indexes on PostgreSQL (nothing on SQLite)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 22:00:00.000000
"""

from __future__ import annotations

import logging

from alembic import op

from photodesk.core.catalog.db import vector_search

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite keeps smart search in the in-memory index
    if not vector_search.available(bind):
        # A server without pgvector: smart search stays in the in-memory index fed from here.
        log.warning("PostgreSQL has no pgvector: smart search uses the in-memory index")
        return
    vector_search.add_column(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        vector_search.drop_column(bind)
