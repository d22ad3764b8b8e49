"""Check-in state: one row per member and day checked, and a running summary per member."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, Table, Text

from groupops.storage.tables import ID, metadata
from groupops.storage.types import UTCDateTime

checkin_days = Table(
    "checkin_days",
    metadata,
    Column("group_id", ID, ForeignKey("groups.id"), primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True),
    Column("day", Date, primary_key=True),  # the calendar day in the group's time zone
    Column("checked_at", UTCDateTime, nullable=False),
    Column("streak", Integer, nullable=False),  # the streak this day made (at the time)
    Column("goal", Text, nullable=False, default=""),
    Column("made_up", Boolean, nullable=False, default=False),  # filled with a make-up card
    Index("ix_checkin_days_group_day", "group_id", "day", "checked_at"),
)

checkin_stats = Table(
    "checkin_stats",
    metadata,
    Column("group_id", ID, ForeignKey("groups.id"), primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True),
    Column("streak", Integer, nullable=False, default=0),
    Column("best_streak", Integer, nullable=False, default=0),
    Column("total", Integer, nullable=False, default=0),
    Column("last_day", Date, nullable=True),
    Column("cards", Integer, nullable=False, default=0),  # make-up cards (补签卡) in hand
)
