"""points_reactions: who has reacted to which message, so a member's reactions pay once

A reaction paid its message's author every time one came that was not a removal: a friend
toggling 👍 on and off (Telegram sends an update each time, Matrix a new m.reaction after each
redaction), or adding five emojis, paid again each time. Each member's first reaction to a
message is now kept here (group, message, member, when); their later ones pay nothing. Rows
are dropped some days after that first reaction (the points feature does it at its ticks),
hence the index on ``at``; the one on ``member_id`` serves forgetting a member. Nothing is
filled in: reactions stored before this revision were paid already.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import groupops.storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "points_reactions",
        sa.Column("group_id", ID, nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("at", groupops.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_points_reactions_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_points_reactions_member_id_members")
        ),
        sa.PrimaryKeyConstraint(
            "group_id", "message_id", "member_id", name=op.f("pk_points_reactions")
        ),
    )
    # plain CREATE INDEX (batch mode would copy the table on SQLite)
    op.create_index(op.f("ix_points_reactions_member_id"), "points_reactions", ["member_id"])
    op.create_index(op.f("ix_points_reactions_at"), "points_reactions", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_points_reactions_at"), table_name="points_reactions")
    op.drop_index(op.f("ix_points_reactions_member_id"), table_name="points_reactions")
    op.drop_table("points_reactions")
