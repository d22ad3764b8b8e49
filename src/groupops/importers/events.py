"""Building events: a platform record's values as an :class:`Event` keeps them (ids, JSON
objects, reaction counts), membership events, and the line formats' events built without
re-validation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from groupops.domain.events import MAX_NAME_LEN, ContentKind, Event, EventKind


def obj(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def clip_id(value: object) -> str:
    """A platform id as the string an Event accepts (at most 255 characters)."""
    return str(value)[:255] if value is not None else ""


def reaction_count(reactions: object) -> int:
    """The number of reactions in a platform's list of ``{"count": n, ...}`` objects (an object
    without a count is one reaction; anything that is no list counts none)."""
    if not isinstance(reactions, list):
        return 0
    total = 0
    for r in reactions:
        if isinstance(r, dict):
            try:
                total += int(r.get("count", 1))
            except (TypeError, ValueError):
                total += 1
    return total


def member_event(
    source: str,
    event_id: str,
    kind: EventKind,
    occurred_at: datetime,
    chat_id: str,
    user_id: str,
    user_name: str,
    data: dict[str, Any],
    message_id: str = "",
) -> Event:
    """A join or departure from a platform's message about it (a Slack ``channel_join``, a
    Discord ``GuildMemberJoin``, a Telegram service message): validated, with no message id of
    its own; ``message_id``, the id of the platform's message that told it, goes into
    ``data["message_id"]`` (``--events-out`` names the event by it, as the messages are)."""
    if kind not in (EventKind.MEMBER_JOINED, EventKind.MEMBER_LEFT):
        raise ValueError(f"member_event: {kind} is no membership change")
    if message_id:
        data = {**data, "message_id": message_id}
    return Event(
        source=source,
        event_id=event_id,
        kind=kind,
        occurred_at=occurred_at,
        chat_id=chat_id,
        user_id=user_id,
        user_name=user_name,
        data=data,
    )


# -- events without re-validation --------------------------------------------------------------

_set = object.__setattr__
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def trusted_event(
    source: str,
    event_id: str,
    kind: EventKind,
    occurred_at: datetime,
    chat_id: str,
    user_id: str,
    user_name: str,
    message_id: str,
    text: str,
    content_kind: ContentKind,
    data: dict[str, Any],
) -> Event:
    """An :class:`Event` built without running its validation again: for the line-format
    importers' hot path only (building a validated Event costs ~5x parsing its line), whose
    values already keep every rule ``Event.__post_init__`` checks: non-empty ids of at most 255
    characters, a tz-aware UTC time, no NUL in the text, a user for member events, enums for
    kinds. ``tests/importers`` checks that every such event equals the validated one."""
    e = object.__new__(Event)
    _set(e, "source", source)
    _set(e, "event_id", event_id)
    _set(e, "kind", kind)
    _set(e, "occurred_at", occurred_at)
    _set(e, "chat_id", chat_id)
    _set(e, "user_id", user_id)
    _set(e, "user_name", user_name[:MAX_NAME_LEN])
    _set(e, "message_id", message_id)
    _set(e, "text", text)
    _set(e, "content_kind", content_kind)
    _set(e, "reply_to_message_id", "")
    _set(e, "reply_to_user_id", "")
    _set(e, "is_admin", False)
    _set(e, "data", MappingProxyType(data) if data else _EMPTY)
    return e
