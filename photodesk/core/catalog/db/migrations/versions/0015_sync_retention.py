"""sync: devices' read cursors and trimmed-journal floors; the journal's PostgreSQL triggers

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from photodesk.core.catalog.db import sync_log

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "sync_devices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("cursor", big, nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sync_devices_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "device", name=op.f("pk_sync_devices")),
    )  # fmt: skip
    op.create_table(
        "sync_floors",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("seq", big, nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_sync_floors_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", name=op.f("pk_sync_floors")),
    )  # fmt: skip
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # 0010 journalled writes on SQLite only; a PostgreSQL catalog's journal starts here
        # (devices take a snapshot of what was written before)
        sync_log.create_triggers(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        sync_log.drop_triggers(bind)
    op.drop_table("sync_floors")
    op.drop_table("sync_devices")
