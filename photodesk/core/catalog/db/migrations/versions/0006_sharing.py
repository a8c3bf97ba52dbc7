"""sharing: albums shared between users, public links to albums or selections

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 14:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "album_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("album_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"],
            ["albums.id"],
            name=op.f("fk_album_shares_album_id_albums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_album_shares_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_album_shares")),
        sa.UniqueConstraint("album_id", "user_id", name=op.f("uq_album_shares_album_id")),
    )
    with op.batch_alter_table("album_shares", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_album_shares_user_id"), ["user_id"], unique=False)

    op.create_table(
        "share_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("album_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.Column("allow_upload", sa.Boolean(), nullable=False),
        sa.Column("show_metadata", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["album_id"],
            ["albums.id"],
            name=op.f("fk_share_links_album_id_albums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_share_links_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_links")),
        sa.UniqueConstraint("key", name=op.f("uq_share_links_key")),
        sa.UniqueConstraint("slug", name=op.f("uq_share_links_slug")),
    )
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_links_album_id"), ["album_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_share_links_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "share_link_assets",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_share_link_assets_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["share_links.id"],
            name=op.f("fk_share_link_assets_link_id_share_links"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("link_id", "asset_id", name=op.f("pk_share_link_assets")),
    )
    with op.batch_alter_table("share_link_assets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_share_link_assets_asset_id"), ["asset_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("share_link_assets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_link_assets_asset_id"))
    op.drop_table("share_link_assets")
    with op.batch_alter_table("share_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_links_owner_id"))
        batch_op.drop_index(batch_op.f("ix_share_links_album_id"))
    op.drop_table("share_links")
    with op.batch_alter_table("album_shares", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_album_shares_user_id"))
    op.drop_table("album_shares")
