"""perceptual hash: assets.phash, a 64-bit DCT hash of the thumbnail for near-duplicate finding

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no table rebuild (the text-index triggers of 0008 stay as they are).
    op.add_column("assets", sa.Column("phash", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("assets", "phash")
