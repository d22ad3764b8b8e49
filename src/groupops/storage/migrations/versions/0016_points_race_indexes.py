"""The points race read from indexes: ix_points_months_race in the leaderboard's order, and
ix_memberships_gone

A member's place in the month (积分) counted every member ahead of them, reading each one's
membership to leave out those no longer in the group: ~3 ms in a group of 4,000 racing members,
more in a larger one, on every 积分; a month's board (积分榜) sorted all of them. The race's index
now holds the whole order (points descending, then the earlier last award, then the lower
member id), so a board walks it from the top and a place is counted from index entries alone;
those who left are counted apart, from a small partial index of the memberships that are not
active. Nothing is filled in: both are indexes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

GONE = "status != 'active'"


def upgrade() -> None:
    # plain DROP/CREATE INDEX (batch mode would copy the table on SQLite)
    op.drop_index("ix_points_months_race", table_name="points_months")
    op.create_index(
        "ix_points_months_race",
        "points_months",
        ["group_id", "month", sa.text("points DESC"), "last_at", "member_id"],
    )
    op.create_index(
        "ix_memberships_gone",
        "memberships",
        ["group_id", "member_id"],
        sqlite_where=sa.text(GONE),
        postgresql_where=sa.text(GONE),
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_gone", table_name="memberships")
    op.drop_index("ix_points_months_race", table_name="points_months")
    op.create_index("ix_points_months_race", "points_months", ["group_id", "month", "points"])
