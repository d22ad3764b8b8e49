"""The join gate's state: one challenge per gated join, failures per person, raids per group."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from groupops.storage.tables import ID, metadata
from groupops.storage.types import JSONType, UTCDateTime

gate_challenges = Table(
    "gate_challenges",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("group_id", ID, ForeignKey("groups.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False),
    Column("user_id", String(255), nullable=False),  # the platform identity in that group
    Column("user_name", String(256), nullable=False, default=""),
    Column("question", Text, nullable=False),
    Column("options", JSONType, nullable=False),
    Column("answer", Integer, nullable=False),  # 1-based index into options
    Column("attempts", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),  # pending passed failed left cancelled (gate off)
    Column("started_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("ix_gate_challenges_pending", "group_id", "member_id", "status"),
    Index("ix_gate_challenges_deadline", "status", "deadline"),
    # forget deletes a member's challenges; a challenge id is in derived event ids
    # (gate:{id}:admitted): never reuse one
    sqlite_autoincrement=True,
)

gate_failures = Table(
    "gate_failures",
    metadata,
    Column("workspace_id", ID, ForeignKey("workspaces.id"), primary_key=True),
    Column("member_id", ID, ForeignKey("members.id"), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
)

gate_raids = Table(
    "gate_raids",
    metadata,
    Column("group_id", ID, ForeignKey("groups.id"), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("refused", Integer, nullable=False, default=0),  # joins turned away meanwhile
)
