"""The sandbox platform's own state (it plays the platform's servers)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, String, Table, Text

from groupops.storage.tables import ID, metadata
from groupops.storage.types import JSONType, UTCDateTime

sandbox_chats = Table(
    "sandbox_chats",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("chat_id", String(255), primary_key=True),
    Column("title", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

sandbox_members = Table(
    "sandbox_members",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("chat_id", String(255), primary_key=True),
    Column("user_id", String(255), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("status", String(16), nullable=False),  # active left kicked banned
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("muted_until", UTCDateTime, nullable=True),
    Column("started_bot", Boolean, nullable=False, default=True),
)

sandbox_messages = Table(
    "sandbox_messages",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False),
    Column("chat_id", String(255), nullable=False),
    Column("user_id", String(255), nullable=False),  # "bot" for the bot
    Column("user_name", String(256), nullable=False),
    Column("kind", String(16), nullable=False),  # message system dm
    Column("to_user_id", String(255), nullable=False, default=""),  # for dm
    Column("text", Text, nullable=False),
    Column("reply_to", String(255), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("pinned", Boolean, nullable=False, default=False),
    # the bot's buttons under a message: rows of {"text", "data"}; a press is a button event
    Column("buttons", JSONType, nullable=True),
    Index("ix_sandbox_messages_chat", "source", "chat_id", "id"),
    # a line's id is its platform message id, in event ids (m{id}); forget deletes a person's
    # lines: never hand an id out twice
    sqlite_autoincrement=True,
)

# what the bot did, once per idempotency key: a re-sent action is answered from here
sandbox_deliveries = Table(
    "sandbox_deliveries",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("action", JSONType, nullable=False),
    Column("result", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
