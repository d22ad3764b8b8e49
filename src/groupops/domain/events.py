"""Normalised events: the one model for live bots, imports and the simulator.

An event is immutable, carries a tz-aware UTC time, and is idempotent on
``(source, event_id)``: a platform that re-delivers it never gets it processed twice.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from groupops.domain.errors import InvalidEvent
from groupops.domain.time import utc

MAX_ID_LEN = 255
MAX_NAME_LEN = 256


class EventKind(enum.StrEnum):
    MEMBER_JOINED = "member_joined"
    MEMBER_LEFT = "member_left"
    JOIN_REQUEST = "join_request"
    MESSAGE = "message"
    MESSAGE_EDITED = "message_edited"
    MESSAGE_DELETED = "message_deleted"
    REACTION = "reaction"
    BUTTON = "button"
    BOT_RIGHTS_CHANGED = "bot_rights_changed"
    #: the chat itself changed on the platform (renamed: ``data.chat_title``). No feature
    #: handles it: the directory takes the title from it as from any event (engine/directory.py)
    GROUP_UPDATED = "group_updated"
    # produced inside groupops
    TICK = "tick"  # the clock: scheduled work reacts to it
    CHECKED_IN = "checked_in"  # derived by the check-in feature, consumed by points
    MEMBER_KICKED = "member_kicked"  # derived by moderation and the join gate
    MEMBER_ADMITTED = "member_admitted"  # derived by the join gate: a newcomer passed it


class ContentKind(enum.StrEnum):
    TEXT = "text"
    PICTURE = "picture"
    VIDEO = "video"
    VOICE = "voice"
    STICKER = "sticker"
    H5_LINK = "h5_link"
    ARTICLE_LINK = "article_link"
    FILE = "file"
    NETDISK_LINK = "netdisk_link"
    OTHER = "other"


def _frozen(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data or {}))


@dataclass(frozen=True, slots=True)
class Event:
    """One normalised fact.

    ``source`` names the connection (``sandbox``, ``telegram:mybot`` ...), ``chat_id`` the group
    on that platform, ``user_id`` the platform identity of the actor. ``data`` holds kind-specific
    extras (``inviter_id``, ``invite_link``, ``emoji``, ``target_user_id`` ...).
    """

    source: str
    event_id: str
    kind: EventKind
    occurred_at: datetime
    chat_id: str = ""
    user_id: str = ""
    user_name: str = ""
    message_id: str = ""
    text: str = ""
    content_kind: ContentKind = ContentKind.TEXT
    reply_to_message_id: str = ""
    reply_to_user_id: str = ""
    is_admin: bool = False
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        where = f"event {self.source!r}/{self.event_id!r}"
        for name in ("source", "event_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidEvent(f"{name} must be a non-empty string", where=where)
            if len(value) > MAX_ID_LEN:
                raise InvalidEvent(f"{name} longer than {MAX_ID_LEN} characters", where=where)
        for name in ("chat_id", "user_id", "message_id", "reply_to_message_id"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidEvent(f"{name} must be a string", where=where)
            if len(value) > MAX_ID_LEN:
                raise InvalidEvent(f"{name} longer than {MAX_ID_LEN} characters", where=where)
        try:
            kind = EventKind(self.kind)
            content_kind = ContentKind(self.content_kind)
        except ValueError as exc:
            raise InvalidEvent(str(exc), where=where) from None
        if not isinstance(self.occurred_at, datetime):
            raise InvalidEvent("occurred_at must be a datetime", where=where)
        try:
            when = utc(self.occurred_at)
        except ValueError as exc:
            raise InvalidEvent(str(exc), where=where) from None
        if not isinstance(self.text, str):
            raise InvalidEvent("text must be a string", where=where)
        if "\x00" in self.text:
            raise InvalidEvent("text contains a NUL character", where=where)
        if kind not in (EventKind.TICK,) and not self.chat_id:
            raise InvalidEvent(f"{kind} needs a chat_id", where=where)
        if kind in _NEEDS_USER and not self.user_id:
            raise InvalidEvent(f"{kind} needs a user_id", where=where)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "content_kind", content_kind)
        object.__setattr__(self, "occurred_at", when)
        object.__setattr__(self, "user_name", str(self.user_name)[:MAX_NAME_LEN])
        object.__setattr__(self, "data", _frozen(self.data))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "event_id": self.event_id,
            "kind": self.kind.value,
            "occurred_at": self.occurred_at.isoformat(),
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "message_id": self.message_id,
            "text": self.text,
            "content_kind": self.content_kind.value,
            "reply_to_message_id": self.reply_to_message_id,
            "reply_to_user_id": self.reply_to_user_id,
            "is_admin": self.is_admin,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Event:
        """Build an event from untrusted JSON; any problem is an :class:`InvalidEvent`."""
        if not isinstance(raw, Mapping):
            raise InvalidEvent(f"expected a JSON object, got {type(raw).__name__}")
        where = f"event {raw.get('source')!r}/{raw.get('event_id')!r}"
        unknown = set(raw) - _FIELDS
        if unknown:
            raise InvalidEvent(f"unknown fields {sorted(unknown)}", where=where)
        missing = {"source", "event_id", "kind", "occurred_at"} - set(raw)
        if missing:
            raise InvalidEvent(f"missing fields {sorted(missing)}", where=where)
        values = dict(raw)
        when = values["occurred_at"]
        if isinstance(when, str):
            try:
                values["occurred_at"] = datetime.fromisoformat(when)
            except ValueError:
                raise InvalidEvent(f"occurred_at {when!r} is not ISO 8601", where=where) from None
        data = values.get("data", {})
        if not isinstance(data, Mapping):
            raise InvalidEvent("data must be an object", where=where)
        if "is_admin" in values and not isinstance(values["is_admin"], bool):
            raise InvalidEvent("is_admin must be a boolean", where=where)
        return cls(**values)


_FIELDS = set(Event.__dataclass_fields__)
_NEEDS_USER = {
    EventKind.MEMBER_JOINED,
    EventKind.MEMBER_LEFT,
    EventKind.JOIN_REQUEST,
    EventKind.MESSAGE,
    EventKind.REACTION,
    EventKind.BUTTON,
    EventKind.CHECKED_IN,
    EventKind.MEMBER_ADMITTED,
}


#: ``Event.data`` key of an event in the bot's private chat with a person (a button pressed
#: under a private message of the bot): it belongs to no group, whatever its ``chat_id`` (the
#: private chat's) says. Stored like any event; the features see it with no group or member.
PRIVATE_CHAT = "private_chat"


def is_private(event: Event) -> bool:
    """Whether ``event`` happened in the bot's private chat with a person (no group)."""
    return bool(event.data.get(PRIVATE_CHAT))


#: the first part of every importer's ``source`` (``import:whatsapp``): the groups and events
#: of imported history, which no bot runs
IMPORT_SOURCE = "import"


def is_imported(source: str) -> bool:
    """Whether a group or event of ``source`` is imported history (``groupops import``), not
    a chat a bot runs (a live platform's or the sandbox's)."""
    return source.split(":", 1)[0] == IMPORT_SOURCE
