"""outbox: partial indexes on each chat's unfinished actions, and on its protective ones

The deliverer's fair read (engine.delivery_order) takes each chat's oldest actions and its
oldest protective ones. Done by ranking every unfinished row, it sorted the whole queue at
every read: with 100,000 actions queued in one group, over half a second on the serving
process's event loop. It now steps through each chat in these two indexes, (source, chat_id,
id) over the unfinished rows and over the unfinished protective ones, a few index steps per
row it reads. ix_outbox_chat stays: it also serves finished rows (the dead letters' chain).

The conditions are written out (tables.OUTBOX_UNFINISHED, OUTBOX_OVERTAKING as they were in
this revision): a query uses a partial index only when it writes the same values.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UNFINISHED = "status IN ('pending', 'sending')"
OVERTAKING = (
    "kind IN ('approve_join', 'ban', 'decline_join', 'delete', 'kick', 'mute', 'unban', 'unmute')"
)
INDEXES = {
    "ix_outbox_unfinished": UNFINISHED,
    "ix_outbox_unfinished_overtaking": f"{UNFINISHED} AND {OVERTAKING}",
}


def upgrade() -> None:
    # plain CREATE INDEX (batch mode would copy the table on SQLite)
    for name, where in INDEXES.items():
        op.create_index(
            name,
            "outbox",
            ["source", "chat_id", "id"],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="outbox")
