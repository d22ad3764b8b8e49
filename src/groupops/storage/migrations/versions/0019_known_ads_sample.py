"""moderation_known_ads.sample: the start of a known ad's text, for an operator

The library of known ads kept only a fingerprint (a SHA-256) of each text, so
``groupops moderation known-ads`` could show no more than the evidence of the decision that
added it: for a contact or link ad the phrase or link found, and an operator could not tell
which ad a row was. The start of the text (its first 80 characters on one line, as the
moderation log quotes a cross-group copy) is now kept with it when a text is added. Nothing is
filled in: the texts of rows kept before are not stored anywhere (NULL; the listing shows the
evidence for them as before).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a nullable column: ALTER TABLE ADD COLUMN on SQLite too (no copy of the table)
    with op.batch_alter_table("moderation_known_ads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("moderation_known_ads", schema=None) as batch_op:
        batch_op.drop_column("sample")
