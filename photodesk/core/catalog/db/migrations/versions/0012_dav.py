"""dav: the accounts' WebDAV spaces, and inbox watched folders for any account

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 15:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dav_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("is_dir", sa.Boolean(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("blob", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha1", sa.String(length=40), nullable=True),
        sa.Column("content_type", sa.String(length=200), nullable=True),
        sa.Column("modified_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("props", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_dav_entries_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_dav_entries_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dav_entries")),
        sa.UniqueConstraint("owner_id", "path", name=op.f("uq_dav_entries_owner_id")),
    )
    with op.batch_alter_table("dav_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dav_entries_asset_id"), ["asset_id"], unique=False)
    with op.batch_alter_table("watched_folders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbox", sa.Boolean(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("delete_after_import", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("watched_folders", schema=None) as batch_op:
        batch_op.drop_column("delete_after_import")
        batch_op.drop_column("inbox")
    with op.batch_alter_table("dav_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dav_entries_asset_id"))
    op.drop_table("dav_entries")
