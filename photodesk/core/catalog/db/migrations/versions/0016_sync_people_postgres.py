"""sync people: the people log's PostgreSQL triggers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:45:00.000000
"""

from __future__ import annotations

from alembic import op

from photodesk.core.catalog.db import sync_log, sync_people_log

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite catalogs got their triggers in 0014
    # 0014 made the people log's triggers on SQLite only: a PostgreSQL catalog that passed it
    # gets them now (a fresh one got them in 0014 already; making them again changes nothing),
    # and every person and face goes in its log once more, since writes after 0014 were missed.
    sync_people_log.create_triggers(bind)
    now = sync_log.now_ms(bind)
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
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        sync_people_log.drop_triggers(bind)
