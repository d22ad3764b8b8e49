"""Points state: a ledger of every award, each member's month in the race (what the month's
leaderboard, the 积分 rank and the top 3 read), each member's balance, last paid message
(the cooldown) and level, and who has reacted to which message (a member's reactions to a
message pay its author once)."""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table

from groupops.storage.tables import ID, metadata
from groupops.storage.types import UTCDateTime

points_ledger = Table(
    "points_ledger",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("group_id", ID, ForeignKey("groups.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False, index=True),
    Column("points", Integer, nullable=False),
    # checkin makeup gift message reply reaction monthly_reward adjust removed (a message's
    # points taken back: moderation removed it as an ad)
    Column("reason", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("cause_seq", ID, nullable=True),  # the event that earned it
    Index("ix_points_ledger_group_at", "group_id", "at"),
)

points_balances = Table(
    "points_balances",
    metadata,
    Column("group_id", ID, ForeignKey("groups.id"), primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True),
    Column("points", Integer, nullable=False, default=0),  # all time, rewards included
    Column("level", Integer, nullable=False, default=0),  # index into the group's levels
    Column("last_paid_message_at", UTCDateTime, nullable=True),
    Column("reaction_day", Date, nullable=True),  # the day reaction_points_today counts
    Column("reaction_points_today", Integer, nullable=False, default=0),
)

points_months = Table(
    "points_months",
    metadata,
    Column("group_id", ID, ForeignKey("groups.id"), primary_key=True),
    Column("month", Date, primary_key=True),  # the month's first day in the group's zone
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True, index=True),
    # the month's raced points: the ledger's sum without the last race's prize
    Column("points", Integer, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),  # their latest award: ties go to the earlier
)
# the race in the leaderboard's order (more points, then sooner, then the lower id): a board
# walks it from the top and stops at its size; a member's place counts the entries before
# theirs without reading a row (boards.py; migration 0016)
Index(
    "ix_points_months_race",
    points_months.c.group_id,
    points_months.c.month,
    points_months.c.points.desc(),
    points_months.c.last_at,
    points_months.c.member_id,
)

points_reactions = Table(
    "points_reactions",
    metadata,
    Column("group_id", ID, ForeignKey("groups.id"), primary_key=True),
    Column("message_id", String(255), primary_key=True),  # the message reacted to
    # who reacted (not its author): their later reactions to it pay nothing
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True, index=True),
    # their first reaction to it; rows are dropped REACTIONS_KEPT_DAYS later (earning.py)
    Column("at", UTCDateTime, nullable=False, index=True),
)
