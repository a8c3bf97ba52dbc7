"""perceptual hash: assets.phash (64-bit DCT hash of the thumbnail) and assets.sharpness

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


COLUMNS = (("phash", sa.BigInteger()), ("sharpness", sa.Float()))


def upgrade() -> None:
    # Plain ADD COLUMNs: no table rebuild (the text-index triggers of 0008 stay as they are);
    # a column already there (a catalog stamped back by hand) is left alone.
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("assets")}
    for name, kind in COLUMNS:
        if name not in have:
            op.add_column("assets", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    op.drop_column("assets", "sharpness")
    op.drop_column("assets", "phash")
