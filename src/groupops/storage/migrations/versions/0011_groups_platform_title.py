"""groups.platform_title: the chat's title as the platform last gave it

A group's title is what every message of the bot names it by. It was taken from the platform
only when groupops first saw the group; a Telegram group first seen through a join or a
message got its chat id ("欢迎 Alice 加入「-1001」") for ever, and a renamed chat kept its
old name. The directory now follows the platform's title while the group's title is the one
the platform gave (or still the chat id); an operator's own title (``settings profile
--title``) differs from it and is kept. Existing groups start with no platform title: those
titled by their chat id follow the platform from their next event, the others keep theirs.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("platform_title", sa.String(length=255), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("platform_title")
