"""Messages moderation removes after the fact, and how the features after it learn of them.

Moderation suppresses an offending message in the batch it arrives in, so check-in, points and
welcome never count it. A cross-group copy is different: the first copies were posted (and
counted) in earlier batches, and only a later copy shows them to be spam. For each of those
earlier copies moderation derives a ``message_deleted`` event naming the message, with
``data["by"] == "moderation"``; the features that counted it take back what it earned (points:
its message or reply points; welcome: the self-introduction it was taken for). A copy still in
the batch is suppressed as well, so nothing counts it at all.

A ``message_deleted`` from a platform (a member deleting their own message) has no such mark
and takes nothing back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from groupops.domain.events import Event, EventKind
from groupops.engine.context import BatchContext, Incoming
from groupops.storage.tables import events

#: ``data["by"]`` of a removal of moderation's
BY = "moderation"

_e = events.c
#: the stored message a removal names (uses ix_events_message)
_MESSAGE = (
    select(_e.seq, _e.group_id, _e.member_id, _e.occurred_at)
    .where(
        _e.source == bindparam("src"),
        _e.chat_id == bindparam("chat"),
        _e.message_id == bindparam("msg"),
        _e.kind == EventKind.MESSAGE.value,
    )
    .order_by(_e.seq)
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class RemovedMessage:
    """A message moderation removed after other features had counted it."""

    seq: int
    group_id: int
    member_id: int
    occurred_at: datetime


def removal(source: str, chat_id: str, message_id: str, rule: str, now: datetime) -> Event:
    """The derived event telling the features after moderation that it removed a message
    posted in an earlier batch. Its id is the message's, so it is stored (and acted on) once."""
    key = hashlib.sha256(f"{chat_id}\0{message_id}".encode("utf-8", "surrogatepass"))
    return Event(
        source,
        f"moderation:removed:{key.hexdigest()[:40]}",
        EventKind.MESSAGE_DELETED,
        now,
        chat_id=chat_id,
        message_id=message_id,
        data={"by": BY, "rule": rule},
    )


def removed_message(ctx: BatchContext, item: Incoming) -> RemovedMessage | None:
    """The message a ``message_deleted`` of moderation's names, as stored; None for a
    platform's deletion or a message never stored with its group and member."""
    event = item.event
    if event.kind != EventKind.MESSAGE_DELETED or event.data.get("by") != BY:
        return None
    params = {"src": event.source, "chat": event.chat_id, "msg": event.message_id}
    row = ctx.conn.execute(_MESSAGE, params).first()
    if row is None or row.group_id is None or row.member_id is None:
        return None
    return RemovedMessage(int(row.seq), int(row.group_id), int(row.member_id), row.occurred_at)
