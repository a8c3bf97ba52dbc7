"""sync people: a log of people and face writes, global ids, synced field state

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from photodesk.core.catalog.db import sync_log, sync_people_log

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_people_log",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=False),
        sa.Column("wall_ms", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hlc", sa.String(length=64), nullable=True),
        sa.Column("uid", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_people_log")),
    )
    with op.batch_alter_table("sync_people_log", schema=None) as batch_op:
        batch_op.create_index("ix_sync_people_log_owner_seq", ["owner_id", "seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_people_log_hlc"), ["hlc"], unique=False)
    op.create_table(
        "sync_people_ids",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("uid", sa.String(length=80), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=True),
        sa.Column("main", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "uid", name=op.f("pk_sync_people_ids")),
    )
    with op.batch_alter_table("sync_people_ids", schema=None) as batch_op:
        batch_op.create_index("ix_sync_people_ids_local", ["kind", "local_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sync_people_ids_owner_id"), ["owner_id"], unique=False)
    op.create_table(
        "sync_people_state",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("uid", sa.String(length=80), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("hlc", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("kind", "uid", "field", name=op.f("pk_sync_people_state")),
    )
    sync_people_log.create_triggers(op.get_bind())
    # People and faces already in the catalog are in the people feed from its start.
    now = sync_log.now_ms(op.get_bind())
    op.execute(
        "INSERT INTO sync_people_log (owner_id, kind, ref_id, wall_ms) "
        f"SELECT owner_id, 'person', id, {now} FROM people ORDER BY id"
    )
    op.execute(
        "INSERT INTO sync_people_log (owner_id, kind, ref_id, wall_ms) "
        f"SELECT a.owner_id, 'face', f.id, {now} FROM faces f JOIN assets a ON a.id = f.asset_id "
        "ORDER BY f.id"
    )


def downgrade() -> None:
    sync_people_log.drop_triggers(op.get_bind())
    op.drop_table("sync_people_state")
    op.drop_table("sync_people_ids")
    op.drop_table("sync_people_log")
