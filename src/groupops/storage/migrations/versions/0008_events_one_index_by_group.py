"""events: one index by group and time, the one that also has the kind

Every query of a group's events by time also names their kind (welcome's and the join gate's
recent joins, moderation's flood windows, the analytics' messages, joins and departures), and
(group, kind, time) serves them all. The (group, time) index served none of them on its own
and cost every stored event a page write more: in a live batch of five events, about four of
the sixty pages its commit wrote.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_group_time", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_group_time", "events", ["group_id", "occurred_at"])
