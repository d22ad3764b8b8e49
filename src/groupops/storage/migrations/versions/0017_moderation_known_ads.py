"""moderation_known_ads: the library of known ads (已知广告库), per workspace

An advertiser kicked or banned and blacklisted came back with a second account and posted the
very same ad: nothing recognised the text (the new account started at a warning, and the
cross-group count only sees copies within its window). The fingerprint of each message whose
author was blacklisted for it is now kept here per workspace until ``expires_at``
(``known_ads_days`` later); the same text again is the rule ``known_ad``. Rows are dropped at
the feature's ticks once expired, hence the index on ``expires_at``; undoing the decision that
added a row drops it, hence the one on ``decision_id``. Nothing is filled in: ads removed
before this revision are not known.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import groupops.storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "moderation_known_ads",
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("decision_id", ID, nullable=True),
        sa.Column("created_at", groupops.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", groupops.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id", "fingerprint", name=op.f("pk_moderation_known_ads")
        ),
    )
    # plain CREATE INDEX (batch mode would copy the table on SQLite)
    op.create_index("ix_moderation_known_ads_expires_at", "moderation_known_ads", ["expires_at"])
    op.create_index("ix_moderation_known_ads_decision_id", "moderation_known_ads", ["decision_id"])


def downgrade() -> None:
    op.drop_index("ix_moderation_known_ads_decision_id", table_name="moderation_known_ads")
    op.drop_index("ix_moderation_known_ads_expires_at", table_name="moderation_known_ads")
    op.drop_table("moderation_known_ads")
