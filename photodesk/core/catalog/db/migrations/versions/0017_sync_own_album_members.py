"""sync: journal album (and tag) membership only for the photo owner's own albums (and tags)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 22:10:00.000000
"""

from __future__ import annotations

from alembic import op

from photodesk.core.catalog.db import sync_log

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An editor's photo in someone else's album is no element of either account's album set
    # (docs/sync.md, "Shared albums"): the triggers are made again with that condition.
    bind = op.get_bind()
    sync_log.drop_triggers(bind)
    sync_log.create_triggers(bind)


def downgrade() -> None:
    pass  # the older triggers only logged more rows
