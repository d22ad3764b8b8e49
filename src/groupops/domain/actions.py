"""Actions: what a feature wants done on a platform. Plain data, written to the outbox."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from groupops.domain.errors import InvalidAction
from groupops.domain.time import utc


class ActionKind(enum.StrEnum):
    SEND = "send"
    REPLY = "reply"
    DIRECT_MESSAGE = "direct_message"
    DELETE = "delete"
    MUTE = "mute"
    UNMUTE = "unmute"
    KICK = "kick"
    BAN = "ban"
    UNBAN = "unban"
    PIN = "pin"
    CREATE_INVITE_LINK = "create_invite_link"
    APPROVE_JOIN = "approve_join"
    DECLINE_JOIN = "decline_join"
    OWNER_TASK = "owner_task"  # a human must do it: the platform cannot


#: ``Action.data`` key of a message that tells the group about another action of the same
#: cause, whose kind it names ("🔇 Bob is muted for 1 hour" announces the ``mute``): when that
#: action fails for good, the deliverer does not post the message either (it goes to the dead
#: letters with it, and ``outbox retry`` sends both again)
ANNOUNCES = "announces"
#: ``Action.data`` key of a message put to one member (the join gate's question names them):
#: an action that removes that member from the chat (kick, ban, a join request declined) is
#: not sent before it, though removals otherwise go before a group's queued messages
ADDRESSES = "addresses"

_NEEDS_TEXT = {ActionKind.SEND, ActionKind.REPLY, ActionKind.DIRECT_MESSAGE, ActionKind.OWNER_TASK}
_NEEDS_USER = {
    ActionKind.DIRECT_MESSAGE,
    ActionKind.MUTE,
    ActionKind.UNMUTE,
    ActionKind.KICK,
    ActionKind.BAN,
    ActionKind.UNBAN,
    ActionKind.APPROVE_JOIN,
    ActionKind.DECLINE_JOIN,
}
_NEEDS_MESSAGE = {ActionKind.REPLY, ActionKind.DELETE, ActionKind.PIN}


@dataclass(frozen=True, slots=True)
class Action:
    """One thing to do on a platform, in one chat.

    ``until`` is the end of a mute or ban; ``reason`` is what the operator reads in logs and
    owner tasks; ``data`` carries extras (``buttons``, ``invite_name`` ...).
    """

    kind: ActionKind
    source: str
    chat_id: str
    user_id: str = ""
    text: str = ""
    message_id: str = ""
    until: datetime | None = None
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        try:
            kind = ActionKind(self.kind)
        except ValueError:
            raise InvalidAction(f"unknown action kind {self.kind!r}") from None
        where = f"{kind} in {self.source}/{self.chat_id}"
        if not self.source or not self.chat_id:
            raise InvalidAction("source and chat_id are required", where=where)
        if kind in _NEEDS_TEXT and not self.text:
            raise InvalidAction("text is required", where=where)
        if kind in _NEEDS_USER and not self.user_id:
            raise InvalidAction("user_id is required", where=where)
        if kind in _NEEDS_MESSAGE and not self.message_id:
            raise InvalidAction("message_id is required", where=where)
        object.__setattr__(self, "kind", kind)
        if self.until is not None:
            object.__setattr__(self, "until", utc(self.until))
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "source": self.source,
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "text": self.text,
            "message_id": self.message_id,
            "until": self.until.isoformat() if self.until else None,
            "reason": self.reason,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Action:
        values = dict(raw)
        if values.get("until"):
            values["until"] = datetime.fromisoformat(values["until"])
        return cls(**values)
