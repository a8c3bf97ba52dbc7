"""face rejections: "this is not <person>" decisions that clustering must respect

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_rejections",
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["face_id"],
            ["faces.id"],
            name=op.f("fk_face_rejections_face_id_faces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_face_rejections_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("face_id", "person_id", name=op.f("pk_face_rejections")),
    )
    with op.batch_alter_table("face_rejections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_face_rejections_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("face_rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_face_rejections_person_id"))
    op.drop_table("face_rejections")
