"""Build small event sequences with known answers."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from groupops.domain.events import ContentKind, Event, EventKind

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
_ids = itertools.count()


def msg(
    user: str,
    at: datetime,
    text: str = "hi",
    *,
    mid: str | None = None,
    reply_to: str = "",
    content: ContentKind = ContentKind.TEXT,
    reactions: int = 0,
) -> Event:
    n = next(_ids)
    data: dict[str, Any] = {"reactions": reactions} if reactions else {}
    return Event(
        source="test",
        event_id=f"e{n}",
        kind=EventKind.MESSAGE,
        occurred_at=at,
        chat_id="g",
        user_id=user,
        user_name=user,
        message_id=mid or f"m{n}",
        text=text,
        content_kind=content,
        reply_to_message_id=reply_to,
        data=data,
    )


def joined(user: str, at: datetime, inviter: str = "") -> Event:
    n = next(_ids)
    data = {"inviter_user_id": inviter, "inviter_name": inviter} if inviter else {}
    return Event(
        source="test",
        event_id=f"e{n}",
        kind=EventKind.MEMBER_JOINED,
        occurred_at=at,
        chat_id="g",
        user_id=user,
        user_name=user,
        data=data,
    )


def left(user: str, at: datetime) -> Event:
    n = next(_ids)
    return Event(
        source="test",
        event_id=f"e{n}",
        kind=EventKind.MEMBER_LEFT,
        occurred_at=at,
        chat_id="g",
        user_id=user,
        user_name=user,
    )


def days(n: float) -> timedelta:
    return timedelta(days=n)
