"""xmp sync: when photodesk last wrote an asset's XMP sidecar, and what both sides agreed on

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("xmp_written_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("xmp_state", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("xmp_state")
        batch_op.drop_column("xmp_written_at")
