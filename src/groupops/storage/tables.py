"""Tables shared by all features. Each feature declares its own tables on the same metadata."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
    true,
)

from groupops.storage.types import JSONType, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite rowid aliases need INTEGER

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("settings", JSONType, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
)

connections = Table(
    "connections",
    metadata,
    Column("id", String(100), primary_key=True),  # the event source name, e.g. "sandbox"
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("config", JSONType, nullable=False, default=dict),  # secrets live here, never logged
    Column("state", JSONType, nullable=False, default=dict),  # sync positions and the like
    Column("created_at", UTCDateTime, nullable=False),
)

groups = Table(
    "groups",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("source", String(100), nullable=False),
    Column("chat_id", String(255), nullable=False),
    Column("title", String(255), nullable=False, default=""),
    Column("timezone", String(64), nullable=False, default="Asia/Shanghai"),
    Column("language", String(16), nullable=False, default="zh_CN"),
    Column("settings", JSONType, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    # the title the platform last gave the chat: ``title`` follows it while equal to it (or to
    # the chat id); an operator's own title differs and is kept (engine/directory.py)
    Column("platform_title", String(255), nullable=False, server_default=""),
    # the bot in the group, as the platform last said (``bot_rights_changed``; engine/bot.py):
    # whether it is in the chat (nothing is sent there while it is not), its status there
    # (administrator, member, kicked, left ...; "" never said), its rights as last said while
    # in the chat (Telegram's ``can_*`` names; NULL never said) and when that was
    Column("bot_in_chat", Boolean, nullable=False, server_default=true()),
    Column("bot_status", String(32), nullable=False, server_default=""),
    Column("bot_rights", JSONType, nullable=True),
    Column("bot_changed_at", UTCDateTime, nullable=True),
    UniqueConstraint("source", "chat_id", name="uq_groups_source_chat"),
)

members = Table(
    "members",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("workspace_id", ID, ForeignKey("workspaces.id"), nullable=False),
    Column("display_name", String(256), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    # forget deletes members, and a member id lives on in other tables, in derived event ids
    # (checkin:{group}:{member}:{day}) and in a running engine's memory: never hand one out
    # twice (SQLite's plain rowid gives the highest id again once its row is deleted)
    sqlite_autoincrement=True,
)

identities = Table(
    "identities",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False, index=True),
    Column("source", String(100), nullable=False),
    Column("user_id", String(255), nullable=False),
    UniqueConstraint("source", "user_id", name="uq_identities_source_user"),
)

#: a membership that is not the member being in the group now (ix_memberships_gone)
MEMBERSHIP_GONE = "status != 'active'"

memberships = Table(
    "memberships",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("group_id", ID, ForeignKey("groups.id"), nullable=False),
    Column("member_id", ID, ForeignKey("members.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False, default="active"),  # active left kicked banned
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("joined_at", UTCDateTime, nullable=True),
    Column("left_at", UTCDateTime, nullable=True),
    Column("via", String(255), nullable=False, default=""),  # invite link / channel
    Column("inviter_member_id", ID, ForeignKey("members.id"), nullable=True),
    Column("introduced_at", UTCDateTime, nullable=True),
    UniqueConstraint("group_id", "member_id", name="uq_memberships_group_member"),
    # the few members a group no longer has (left, kicked, banned): the points race leaves
    # them out without a look at every member (features/points/boards.py; migration 0016)
    Index(
        "ix_memberships_gone",
        "group_id",
        "member_id",
        sqlite_where=text(MEMBERSHIP_GONE),
        postgresql_where=text(MEMBERSHIP_GONE),
    ),
    # forget deletes memberships, and a running engine updates the ones it holds by id
    sqlite_autoincrement=True,
)

events = Table(
    "events",
    metadata,
    Column("seq", ID, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("group_id", ID, nullable=True),
    Column("member_id", ID, nullable=True),
    Column("chat_id", String(255), nullable=False, default=""),
    Column("user_id", String(255), nullable=False, default=""),
    Column("message_id", String(255), nullable=False, default=""),
    Column("content_kind", String(16), nullable=False, default="text"),
    Column("text", Text, nullable=False, default=""),
    Column("reply_to_message_id", String(255), nullable=False, default=""),
    Column("payload", JSONType, nullable=False, default=dict),  # user_name, is_admin, data
    UniqueConstraint("source", "event_id", name="uq_events_source_event"),
    # a reaction or an edit names a message by its platform id: find its author without a scan
    Index("ix_events_message", "source", "chat_id", "message_id"),
    # a group's events of some kinds in a time window: recent joins (welcome bursts, the join
    # gate), recent messages (flood windows), the analytics' read; every such query names the
    # kind, so no index by group and time alone (one page write less per event, 0008)
    Index("ix_events_group_kind_time", "group_id", "kind", "occurred_at"),
)

#: the conditions of the outbox's partial indexes, as written there: a database uses a partial
#: index only for a query that writes its condition with the values themselves (a bound value
#: is not known when the plan is made), so engine.delivery_order writes the same SQL. The kinds
#: are engine.delivery_order.OVERTAKES (tests/storage/test_outbox_read.py checks both)
OUTBOX_UNFINISHED = "status IN ('pending', 'sending')"
OUTBOX_OVERTAKING = (
    "kind IN ('approve_join', 'ban', 'decline_join', 'delete', 'kick', 'mute', 'unban', 'unmute')"
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("source", String(100), nullable=False),
    Column("chat_id", String(255), nullable=False),
    Column("group_id", ID, nullable=True),
    Column("kind", String(32), nullable=False),
    Column("payload", JSONType, nullable=False),
    Column("feature", String(64), nullable=False, default=""),
    Column("cause_seq", ID, nullable=True),
    # pending -> sending -> delivered | dead | rerouted (a refused private message, posted in
    # the group as a new row instead); dead can be retried by an operator
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("claimed_until", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("result", JSONType, nullable=True),
    Index("ix_outbox_status_next", "status", "next_attempt_at"),
    Index("ix_outbox_chat", "source", "chat_id", "id"),
    # the bot's messages an event caused, found when moderation removes that event's message
    # (engine.withdraw): a few index steps, not a read of the chat's every row (migration 0018)
    Index("ix_outbox_cause", "cause_seq", "source", "chat_id"),
    # the deliverer's fair read (engine.delivery_order) goes through each chat's unfinished
    # actions, and its protective ones, from the oldest: a few index steps per row read,
    # however long the queue (migration 0014)
    Index(
        "ix_outbox_unfinished",
        "source",
        "chat_id",
        "id",
        sqlite_where=text(OUTBOX_UNFINISHED),
        postgresql_where=text(OUTBOX_UNFINISHED),
    ),
    Index(
        "ix_outbox_unfinished_overtaking",
        "source",
        "chat_id",
        "id",
        sqlite_where=text(f"{OUTBOX_UNFINISHED} AND {OUTBOX_OVERTAKING}"),
        postgresql_where=text(f"{OUTBOX_UNFINISHED} AND {OUTBOX_OVERTAKING}"),
    ),
    # an outbox id is the action's idempotency key on the platform: never reuse one, even
    # after rows are deleted (SQLite's plain rowid would hand out max+1 again)
    sqlite_autoincrement=True,
)

owner_tasks = Table(
    "owner_tasks",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("workspace_id", ID, nullable=False),
    Column("group_id", ID, nullable=True),
    Column("source", String(100), nullable=False),
    Column("chat_id", String(255), nullable=False),
    Column("action", JSONType, nullable=False),  # the action the platform could not perform
    Column("text", Text, nullable=False),
    Column("feature", String(64), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="open"),  # open done dismissed
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime, nullable=True),
    Column("reason", Text, nullable=True),  # why it was dismissed (tasks dismiss --reason)
    # forget deletes the tasks aimed at the member, and operators close tasks by id
    sqlite_autoincrement=True,
)

feature_errors = Table(
    "feature_errors",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("feature", String(64), nullable=False),
    Column("event_seq", ID, nullable=True),
    Column("error", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

rejected_events = Table(
    "rejected_events",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("raw", Text, nullable=False),
    Column("error", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Members forgotten (admin.forget_member), in order: a running engine that cached them (their
# identities, the features' state in memory) drops them at its next batch. No foreign key:
# the member row is gone.
forgotten_members = Table(
    "forgotten_members",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("member_id", ID, nullable=False),
    Column("forgotten_at", UTCDateTime, nullable=False),
)

# Per-feature markers for scheduled work done once per period ("2026-11" announced).
feature_marks = Table(
    "feature_marks",
    metadata,
    Column("feature", String(64), primary_key=True),
    Column("group_id", ID, primary_key=True),
    Column("mark", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)
