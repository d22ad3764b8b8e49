"""events found by their platform message id, and by group, kind and time

A reaction names the message it applauds by the platform's id, not by its author: points looks
the author up, and without an index that lookup scanned every event of the platform. Welcome
counts a group's recent joins, and moderation reads its recent messages: by group and time alone
that read every event of the group in the window.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 11:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_message", "events", ["source", "chat_id", "message_id"])
    op.create_index("ix_events_group_kind_time", "events", ["group_id", "kind", "occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_events_group_kind_time", table_name="events")
    op.drop_index("ix_events_message", table_name="events")
