"""forgotten_members: the members forget_member removed, for running engines to drop

A member forgotten from the CLI or the web is deleted in that process; the serving process
still held them in memory (their identity's member id, their points and check-in summaries),
and its next event from them failed on the deleted member. Each forget now leaves a row here,
which every engine reads at its next batch.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import groupops.storage.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "forgotten_members",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column(
            "forgotten_at", groupops.storage.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forgotten_members")),
    )


def downgrade() -> None:
    op.drop_table("forgotten_members")
