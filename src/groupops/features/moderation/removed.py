"""The ``message_deleted`` moderation derives for a message it removes after the fact.

Two kinds of message were posted (and counted) in earlier batches before moderation removes
them: a cross-group copy's first copies, which only a later copy shows to be spam, and a
message a member edits into an ad ("打卡 今天读了20页" edited into "打卡 加微信 abc123"): its
points, check-in day and introduction were earned by the text it had then. For each,
moderation derives a ``message_deleted`` naming the message, marked ``data["by"] ==
REMOVED_BY_MODERATION``: the features after it read it with :meth:`BatchContext.removed_message
<groupops.engine.context.BatchContext.removed_message>` (the shared protocol) and take back what
it earned; the bot's replies to it are withdrawn here (engine.withdraw). Once a message: the
event's id is the message's, and a message already taken back is not taken back again (an ad
edited again, an edited message that was a cross-group copy too)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import bindparam, select

from groupops.domain.events import Event, EventKind
from groupops.engine.context import REMOVED_BY_MODERATION, BatchContext, GroupInfo
from groupops.engine.withdraw import withdraw_replies
from groupops.features.moderation.decisions import Batch
from groupops.storage.bulk import One
from groupops.storage.tables import events

_e = events.c
#: whether an event is stored already (uq_events_source_event)
_STORED = One(
    select(_e.seq).where(_e.source == bindparam("src"), _e.event_id == bindparam("eid")).limit(1)
)


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
        data={"by": REMOVED_BY_MODERATION, "rule": rule},
    )


def take_back(
    ctx: BatchContext,
    state: Batch,
    group: GroupInfo,
    source: str,
    chat_id: str,
    message_id: str,
    rule: str,
) -> bool:
    """Moderation removes ``message_id`` of ``group`` for ``rule`` after it was let through
    (an earlier cross-group copy, a message edited into an ad): nothing it earned may stay.
    In this batch it is suppressed (the features after never count it); from an earlier
    batch, the bot's replies to it are withdrawn and its ``removal`` derived (the features
    after take back what it earned). Nothing for a message never stored with its group and
    member (never counted), nor for one taken back already. Whether it was."""
    key = (source, chat_id, message_id)
    earlier = state.messages.get(key)
    if earlier is not None:
        ctx.suppress(earlier)
        return True
    if key in state.taken_back:
        return False  # twice in one batch (an ad edited again)
    state.taken_back.add(key)
    message = ctx.stored_message(source, chat_id, message_id)
    if message is None or message.group_id != group.id:
        return False
    event = removal(source, chat_id, message_id, rule, ctx.now)
    if _STORED.first(ctx.conn, {"src": source, "eid": event.event_id}) is not None:
        return False  # taken back in an earlier batch
    # answered in its batch (a check-in's reply quotes it): the bot's messages because of it
    # go with it (engine.withdraw)
    withdraw_replies(ctx, group, message)
    ctx.derive(event)
    return True
