"""ix_outbox_cause: the bot's messages an event caused, by the event's seq

When moderation removes a member's message after the fact (a cross-group spam found out
later), the bot takes back what it posted because of it (engine.withdraw): it looked for those
rows among every outbox row of the chat, about 1 ms a removed copy in the bench's groups of
3,000 rows, growing with the chat's history. This index finds them in a few steps. Nothing is
filled in: it is an index.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 21:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain CREATE INDEX (batch mode would copy the table on SQLite)
    op.create_index("ix_outbox_cause", "outbox", ["cause_seq", "source", "chat_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_cause", table_name="outbox")
