"""groups.bot_*: whether the bot is still in the group, and with which rights

Telegram and Matrix say when the bot is removed from a group or its rights change
(``bot_rights_changed``), but nothing kept it: scheduled posts went on to a group the bot had
left, each a dead letter every day, and nobody told the operator. The group now remembers what
the platform last said: ``bot_in_chat`` (nothing is sent while it is false), ``bot_status``
(administrator, member, kicked, banned, left ...), ``bot_rights`` (the ``can_*`` rights while
in the chat) and ``bot_changed_at``. Existing groups start in the chat with nothing said
(status "", rights NULL): as before, until the platform says otherwise.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import groupops.storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN on every database (each has a default or allows NULL): batch mode
    # would copy the table on SQLite, which the tables that refer to groups forbid
    op.add_column(
        "groups", sa.Column("bot_in_chat", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "groups", sa.Column("bot_status", sa.String(length=32), nullable=False, server_default="")
    )
    op.add_column(
        "groups",
        sa.Column(
            "bot_rights",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
    )
    op.add_column(
        "groups",
        sa.Column(
            "bot_changed_at", groupops.storage.types.UTCDateTime(timezone=True), nullable=True
        ),
    )


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35 on) for the same reason as above
    for name in ("bot_changed_at", "bot_rights", "bot_status", "bot_in_chat"):
        op.drop_column("groups", name)
