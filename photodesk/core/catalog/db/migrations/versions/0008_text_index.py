"""text index: FTS5 trigram indexes for substring search over paths, titles and descriptions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 15:20:00.000000
"""

from __future__ import annotations

from alembic import op

from photodesk.core.catalog.db import text_index

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    text_index.create(op.get_bind())


def downgrade() -> None:
    text_index.drop(op.get_bind())
