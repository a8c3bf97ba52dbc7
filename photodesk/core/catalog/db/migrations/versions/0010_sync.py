"""sync: the change journal (feed and outbox), field clocks, remote links, applied mutations

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 15:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from photodesk.core.catalog.db import sync_log

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_changes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("wall_ms", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_changes")),
    )
    with op.batch_alter_table("sync_changes", schema=None) as batch_op:
        batch_op.create_index("ix_sync_changes_owner_seq", ["owner_id", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_changes_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_changes_hlc"), ["hlc"], unique=False)
    op.create_table(
        "sync_clocks",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_sync_clocks_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("asset_id", "field", name=op.f("pk_sync_clocks")),
    )
    op.create_table(
        "sync_remote",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_sync_remote_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_sync_remote")),
        sa.UniqueConstraint("remote_id", name=op.f("uq_sync_remote_remote_id")),
    )
    op.create_table(
        "sync_mutations",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sync_mutations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_mutations")),
    )
    with op.batch_alter_table("sync_mutations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_mutations_user_id"), ["user_id"], unique=False)
    sync_log.create_triggers(op.get_bind())
    # Photos already in the catalog are in the feed from its start (a paired device pulls them).
    op.execute(
        "INSERT INTO sync_changes (owner_id, asset_id, field, wall_ms) "
        f"SELECT owner_id, id, 'asset', {sync_log.now_ms(op.get_bind())} FROM assets ORDER BY id"
    )


def downgrade() -> None:
    sync_log.drop_triggers(op.get_bind())
    op.drop_table("sync_mutations")
    op.drop_table("sync_remote")
    op.drop_table("sync_clocks")
    op.drop_table("sync_changes")
