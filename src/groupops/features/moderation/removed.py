"""The ``message_deleted`` moderation derives for a message it removes after the fact.

A cross-group copy's first copies were posted (and counted) in earlier batches; only a later
copy shows them to be spam. For each, moderation derives a ``message_deleted`` naming the
message, marked ``data["by"] == REMOVED_BY_MODERATION``: the features after it read it with
:meth:`BatchContext.removed_message <groupops.engine.context.BatchContext.removed_message>`
(the shared protocol) and take back what it earned."""

from __future__ import annotations

import hashlib
from datetime import datetime

from groupops.domain.events import Event, EventKind
from groupops.engine.context import REMOVED_BY_MODERATION


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
