"""points_months: each member's month in the race, kept as awards are written

The month's leaderboard, a member's rank (积分) and the top 3 summed the month's ledger at every
request: O(awards) each time, ~10-30 ms per command in a busy group. The table keeps the sums
(and the latest award, for ties) per group, month (in the group's zone) and member; it is filled
here from the ledger already stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import groupops.storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
NOT_RACED = ("monthly_reward",)


def upgrade() -> None:
    op.create_table(
        "points_months",
        sa.Column("group_id", ID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("last_at", groupops.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_points_months_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_points_months_member_id_members")
        ),
        sa.PrimaryKeyConstraint("group_id", "month", "member_id", name=op.f("pk_points_months")),
    )
    with op.batch_alter_table("points_months", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_months_race", ["group_id", "month", "points"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_points_months_member_id"), ["member_id"], unique=False)
    _fill_from_the_ledger()


def _fill_from_the_ledger() -> None:
    utc = groupops.storage.types.UTCDateTime()
    groups = sa.table("groups", sa.column("id"), sa.column("timezone"))
    ledger = sa.table(
        "points_ledger",
        sa.column("group_id"),
        sa.column("member_id"),
        sa.column("points"),
        sa.column("reason"),
        sa.column("at", utc),
    )
    months = sa.table(
        "points_months",
        sa.column("group_id"),
        sa.column("month", sa.Date()),
        sa.column("member_id"),
        sa.column("points"),
        sa.column("last_at", utc),
    )
    conn = op.get_bind()
    for gid, tz in conn.execute(sa.select(groups.c.id, groups.c.timezone)).all():
        try:
            zone = ZoneInfo(tz)
        except (KeyError, ValueError):
            zone = ZoneInfo("UTC")
        sums: dict[tuple[Any, int], list[Any]] = {}
        rows = conn.execute(
            sa.select(ledger.c.member_id, ledger.c.points, ledger.c.at).where(
                ledger.c.group_id == gid, ledger.c.reason.not_in(NOT_RACED)
            )
        )
        for member_id, points, at in rows:
            month = at.astimezone(zone).date().replace(day=1)
            entry = sums.setdefault((month, int(member_id)), [0, at])
            entry[0] += int(points)
            entry[1] = max(entry[1], at)
        if sums:
            conn.execute(
                sa.insert(months),
                [
                    {
                        "group_id": gid,
                        "month": month,
                        "member_id": mid,
                        "points": points,
                        "last_at": last_at,
                    }
                    for (month, mid), (points, last_at) in sums.items()
                ],
            )


def downgrade() -> None:
    with op.batch_alter_table("points_months", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_months_member_id"))
        batch_op.drop_index("ix_points_months_race")
    op.drop_table("points_months")
