"""owner_tasks.reason: why an operator dismissed a task

``groupops tasks dismiss ID`` closed a task without saying why, so a dismissed task's list
could not tell "done by hand elsewhere" from "not worth doing". ``--reason TEXT`` is kept
here; tasks dismissed before, and those done or open, have none (NULL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("owner_tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("owner_tasks", schema=None) as batch_op:
        batch_op.drop_column("reason")
