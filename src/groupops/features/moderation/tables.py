"""Moderation's own state: the decision log, the workspace blacklist, recent message copies."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text

from groupops.storage.tables import ID, metadata
from groupops.storage.types import JSONType, UTCDateTime

# Every decision, automatic or by an operator, with its reason. The ladder counts a member's
# rows with counted=true, not undone, younger than warning_ttl_days.
moderation_decisions = Table(
    "moderation_decisions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("workspace_id", ID, nullable=False),
    Column("group_id", ID, nullable=True),
    Column("member_id", ID, nullable=True),
    Column("source", String(100), nullable=False),
    Column("chat_id", String(255), nullable=False),
    Column("user_id", String(255), nullable=False, default=""),
    Column("user_name", String(256), nullable=False, default=""),
    Column("message_id", String(255), nullable=False, default=""),
    Column("event_seq", ID, nullable=True),
    # link invite phone contact keyword flood cross_group newcomer_link blacklist undo
    Column("rule", String(32), nullable=False),
    Column("evidence", Text, nullable=False, default=""),
    # warn mute kick ban delete (a removal only) refuse (blacklisted join) undo
    Column("step", String(16), nullable=False),
    Column("step_index", Integer, nullable=True),  # position on the ladder, from 1
    Column("actions", JSONType, nullable=False, default=list),  # the actions emitted, as JSON
    Column("counted", Boolean, nullable=False, default=False),  # counts towards the ladder
    Column("by", String(100), nullable=False, default="auto"),  # "auto" or the operator
    Column("parent_id", ID, nullable=True),  # the decision this one followed from
    Column("undo_of", ID, nullable=True),  # for an undo: the decision it reverted
    Column("undone_at", UTCDateTime, nullable=True),
    Column("undone_by", String(100), nullable=True),
    Index("ix_moderation_decisions_strikes", "group_id", "member_id", "created_at"),
    Index("ix_moderation_decisions_member", "member_id"),
    # forget deletes a member's decisions; a decision id is in derived event ids
    # (moderation:{id}), other decisions (parent_id, undo_of) and `undo ID`: never reuse one
    sqlite_autoincrement=True,
)

# Kicked for advertising in one group = refused in all of the workspace's groups.
moderation_blacklist = Table(
    "moderation_blacklist",
    metadata,
    Column("workspace_id", ID, primary_key=True),
    Column("member_id", ID, primary_key=True),
    Column("rule", String(32), nullable=False),
    Column("decision_id", ID, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("by", String(100), nullable=False, default="auto"),
)

# Recent long messages by fingerprint, to see the same text posted across groups. Rows older
# than the longest window (one day) are removed on the clock's tick.
moderation_copies = Table(
    "moderation_copies",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("workspace_id", ID, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("group_id", ID, nullable=False),
    Column("member_id", ID, nullable=True),
    Column("source", String(100), nullable=False),
    Column("chat_id", String(255), nullable=False),
    Column("message_id", String(255), nullable=False, default=""),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("removed", Boolean, nullable=False, default=False),
    Index("ix_moderation_copies_fp", "workspace_id", "fingerprint", "seen_at"),
    Index("ix_moderation_copies_seen", "seen_at"),
)

# The library of known ads: the fingerprint (copies.py's, detectors.fingerprint) of each message
# whose author was blacklisted for it, per workspace, until expires_at (known_ads_days after).
# The same text posted again, by anyone, is the rule known_ad (known_ads.py). decision_id is the
# decision that blacklisted the author: undoing it drops the row, and forgetting that member
# too (sample is their words). Expired rows are removed on the clock's tick.
moderation_known_ads = Table(
    "moderation_known_ads",
    metadata,
    Column("workspace_id", ID, primary_key=True),
    Column("fingerprint", String(64), primary_key=True),
    Column("decision_id", ID, nullable=True),
    # the start of the text (detectors.snippet of its normalised form, 80 characters), for an
    # operator to recognise it; NULL on rows kept before revision 0019
    Column("sample", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_moderation_known_ads_expires_at", "expires_at"),
    Index("ix_moderation_known_ads_decision_id", "decision_id"),
)
