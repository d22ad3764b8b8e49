"""Matrix events (the client-server API's JSON) -> groupops events. Translation only.

One Matrix event becomes at most one :class:`Event`, whose ``event_id`` is the Matrix event id,
so a timeline delivered twice (a restart, a gap filled from ``/messages``) is stored once.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from groupops.domain.events import ContentKind, Event, EventKind
from groupops.importers.text import text_kind

#: power level from which a member counts as an admin (Matrix's "moderator")
ADMIN_LEVEL = 50

MSGTYPE_KIND = {
    "m.image": ContentKind.PICTURE,
    "m.video": ContentKind.VIDEO,
    "m.audio": ContentKind.VOICE,
    "m.file": ContentKind.FILE,
    "m.location": ContentKind.OTHER,
}
TEXT_TYPES = {"m.text", "m.notice", "m.emote"}

#: the sender named in a rich reply's quoted fallback: "> <@user:server> ..."
_FALLBACK_SENDER = re.compile(r"^> <(@[^>\s]+)>")


class RoomView(Protocol):
    """What translation needs to know of a room beyond the event itself."""

    def title(self) -> str: ...

    def display_name(self, user_id: str) -> str: ...

    def power_level(self, user_id: str) -> int: ...

    def is_creator(self, user_id: str) -> bool: ...


@dataclass
class SenderCache:
    """Who sent recent events (bounded): a reaction's or reply's target author, when known."""

    size: int = 20_000
    _senders: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def remember(self, event_id: str, sender: str) -> None:
        self._senders[event_id] = sender
        self._senders.move_to_end(event_id)
        while len(self._senders) > self.size:
            self._senders.popitem(last=False)

    def get(self, event_id: str) -> str:
        return self._senders.get(event_id, "")

    def knows(self, event_id: str) -> bool:
        return event_id in self._senders


#: the bot's rights in a room, by Telegram's names (what ``bot_rights_changed`` carries there),
#: and the power-levels key that gives each: (key, where, default level)
BOT_RIGHTS: dict[str, tuple[str, str, int]] = {
    "can_delete_messages": ("redact", "", 50),
    "can_restrict_members": ("kick", "", 50),  # and ban (below), and power levels for mutes
    "can_promote_members": ("m.room.power_levels", "events", 50),
    "can_pin_messages": ("m.room.pinned_events", "events", 50),
    "can_invite_users": ("invite", "", 0),
}


def _level(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def bot_rights(levels: Mapping[str, Any], user_id: str) -> tuple[int, dict[str, bool]]:
    """The power level of ``user_id`` under ``levels`` (a ``m.room.power_levels`` content) and
    what it lets them do, by Telegram's names of the rights."""
    users = levels.get("users")
    users = users if isinstance(users, Mapping) else {}
    events = levels.get("events")
    events = events if isinstance(events, Mapping) else {}
    mine = _level(users.get(user_id, levels.get("users_default", 0)), 0)
    state_default = _level(levels.get("state_default", 50), 50)

    def needed(key: str, where: str, default: int) -> int:
        if where == "events":
            return _level(events.get(key, state_default), state_default)
        return _level(levels.get(key, default), default)

    rights = {name: mine >= needed(*how) for name, how in BOT_RIGHTS.items()}
    # a ban needs its own level; a mute needs the right to change power levels
    rights["can_restrict_members"] = (
        rights["can_restrict_members"]
        and mine >= _level(levels.get("ban", 50), 50)
        and rights["can_promote_members"]
    )
    return mine, rights


def _when(raw: Mapping[str, Any]) -> datetime:
    ts = raw.get("origin_server_ts")
    if isinstance(ts, int | float) and ts > 0:
        return datetime.fromtimestamp(ts / 1000, tz=UTC)
    return datetime.now(UTC)


def _localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id


def strip_reply_fallback(body: str) -> str:
    """A rich reply's body starts with the quoted original ("> " lines, then a blank line)."""
    if not body.startswith("> "):
        return body
    lines = body.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith(">"):
        i += 1
    if i < len(lines) and lines[i] == "":
        i += 1
    return "\n".join(lines[i:])


def prev_content(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """A state event's content before it (``unsigned.prev_content``), {} when there was none
    or the homeserver sent something else."""
    unsigned = raw.get("unsigned")
    prev = unsigned.get("prev_content") if isinstance(unsigned, Mapping) else None
    return prev if isinstance(prev, Mapping) else {}


def _text(value: Any) -> str:
    return value.replace("\x00", "") if isinstance(value, str) else ""


@dataclass
class Translator:
    """Turns the raw events of one connection into :class:`Event` objects."""

    source: str
    bot_user_id: str
    senders: SenderCache = field(default_factory=SenderCache)
    #: (room, invitee) -> who invited them, from invites seen in the sync stream (bounded:
    #: an invitation never taken up is not kept for ever)
    inviters: OrderedDict[tuple[str, str], str] = field(default_factory=OrderedDict)
    #: reaction event id -> (the reacted-to event, the emoji, who reacted): a reaction is taken
    #: back by redacting it
    reactions: OrderedDict[str, tuple[str, str, str]] = field(default_factory=OrderedDict)

    def _remember_reaction(self, event_id: str, target: str, emoji: str, sender: str) -> None:
        self.reactions[event_id] = (target, emoji, sender)
        while len(self.reactions) > self.senders.size:
            self.reactions.popitem(last=False)

    def remember_inviter(self, room_id: str, invitee: str, inviter: str) -> None:
        """Who invited ``invitee`` into ``room_id``, until they join (the oldest go past the
        senders' size: invitations nobody takes up come without end)."""
        key = (room_id, invitee)
        self.inviters[key] = inviter
        self.inviters.move_to_end(key)
        while len(self.inviters) > self.senders.size:
            self.inviters.popitem(last=False)

    def unknown_reply_target(self, raw: Mapping[str, Any]) -> str:
        """The event a message replies to, when its author is neither remembered nor named in
        a quoted fallback (clients stopped sending one with Matrix 1.13): "" otherwise."""
        if raw.get("type") not in ("m.room.message", "m.sticker"):
            return ""
        content = raw.get("content")
        content = content if isinstance(content, Mapping) else {}
        relates = content.get("m.relates_to")
        in_reply = relates.get("m.in_reply_to") if isinstance(relates, Mapping) else None
        target = in_reply.get("event_id") if isinstance(in_reply, Mapping) else None
        if not isinstance(target, str) or not target or self.senders.knows(target):
            return ""
        if _FALLBACK_SENDER.match(_text(content.get("body"))):
            return ""
        return target

    def translate(self, room_id: str, raw: Mapping[str, Any], room: RoomView) -> Event | None:
        event_id = raw.get("event_id")
        sender = raw.get("sender")
        etype = raw.get("type")
        if not isinstance(event_id, str) or not isinstance(sender, str) or not event_id:
            return None
        content = raw.get("content")
        if not isinstance(content, Mapping):
            content = {}
        if etype in ("m.room.message", "m.sticker"):
            self.senders.remember(event_id, sender)
        if sender == self.bot_user_id and etype != "m.room.member":
            return None  # what the bot itself did: groupops already knows
        common: dict[str, Any] = {
            "source": self.source,
            "event_id": event_id,
            "occurred_at": _when(raw),
            "chat_id": room_id,
        }
        title = room.title()
        if etype == "m.room.member":
            return self._member(raw, content, common, room, title)
        if etype == "m.room.power_levels" and raw.get("state_key") == "":
            return self._power_levels(raw, content, common, room, title)
        base = {
            **common,
            "user_id": sender,
            "user_name": room.display_name(sender) or _localpart(sender),
            "is_admin": room.power_level(sender) >= ADMIN_LEVEL,
        }
        if etype == "m.room.name" and raw.get("state_key") == "":
            # renamed: the group's title follows at once, not with the room's next message.
            # A name taken away leaves the room's title (its alias, or nothing: kept as it is)
            name = _text(content.get("name")) or title
            named = {"chat_title": name} if name else {}
            return Event(kind=EventKind.GROUP_UPDATED, data=named, **base)
        data: dict[str, Any] = {"chat_title": title} if title else {}
        relates = content.get("m.relates_to")
        relates = relates if isinstance(relates, Mapping) else {}
        if etype == "m.room.message" or etype == "m.sticker":
            return self._message(etype, content, relates, base, data)
        if etype == "m.reaction":
            target = relates.get("event_id")
            if relates.get("rel_type") != "m.annotation" or not isinstance(target, str):
                return None
            data["emoji"] = _text(relates.get("key"))
            self._remember_reaction(event_id, target, data["emoji"], sender)
            return Event(
                kind=EventKind.REACTION,
                message_id=target,
                reply_to_user_id=self.senders.get(target),
                data=data,
                **base,
            )
        if etype == "m.room.redaction":
            target = raw.get("redacts") or content.get("redacts")
            if not isinstance(target, str):
                return None
            if target in self.reactions:  # a reaction taken back, as Telegram says it
                reacted_to, emoji, reactor = self.reactions.pop(target)
                data.update(emoji=emoji, removed=True, removed_emojis=[emoji])
                if reactor != sender:
                    data["removed_by"] = sender
                return Event(
                    kind=EventKind.REACTION,
                    message_id=reacted_to,
                    reply_to_message_id=reacted_to,
                    reply_to_user_id=self.senders.get(reacted_to),
                    data=data,
                    **{
                        **base,
                        "user_id": reactor,
                        "user_name": room.display_name(reactor) or _localpart(reactor),
                        "is_admin": room.power_level(reactor) >= ADMIN_LEVEL,
                    },
                )
            data["deleted_by"] = sender
            if content.get("reason"):
                data["reason"] = _text(content.get("reason"))
            return Event(kind=EventKind.MESSAGE_DELETED, message_id=target, data=data, **base)
        return None

    def _message(
        self,
        etype: str,
        content: Mapping[str, Any],
        relates: Mapping[str, Any],
        base: dict[str, Any],
        data: dict[str, Any],
    ) -> Event | None:
        if relates.get("rel_type") == "m.replace":
            target = relates.get("event_id")
            new = content.get("m.new_content")
            if not isinstance(target, str) or not isinstance(new, Mapping):
                return None
            body = _text(new.get("body"))
            return Event(
                kind=EventKind.MESSAGE_EDITED,
                message_id=target,
                text=body,
                content_kind=text_kind(body),
                data={**data, "edit_event_id": base["event_id"]},
                **base,
            )
        if not content:  # redacted before we saw it: the message was there, its content is gone
            data["redacted"] = True
            return Event(
                kind=EventKind.MESSAGE,
                message_id=base["event_id"],
                content_kind=ContentKind.OTHER,
                data=data,
                **base,
            )
        body = _text(content.get("body"))
        reply_to = ""
        in_reply = relates.get("m.in_reply_to")
        if isinstance(in_reply, Mapping) and isinstance(in_reply.get("event_id"), str):
            reply_to = str(in_reply["event_id"])
        reply_user = self.senders.get(reply_to) if reply_to else ""
        if reply_to and body.startswith("> "):
            m = _FALLBACK_SENDER.match(body)
            reply_user = reply_user or (m.group(1) if m else "")
            body = strip_reply_fallback(body)
        if etype == "m.sticker":
            kind = ContentKind.STICKER
            text = ""
        else:
            msgtype = content.get("msgtype")
            if msgtype in TEXT_TYPES:
                kind, text = text_kind(body), body
            else:
                kind = MSGTYPE_KIND.get(str(msgtype), ContentKind.OTHER)
                filename = _text(content.get("filename"))
                # since Matrix 1.10 a body beside a filename is the caption
                text = body if filename and body != filename else ""
                if filename or body:
                    data["file_name"] = filename or body
        return Event(
            kind=EventKind.MESSAGE,
            message_id=base["event_id"],
            text=text,
            content_kind=kind,
            reply_to_message_id=reply_to,
            reply_to_user_id=reply_user,
            data=data,
            **base,
        )

    def _member(
        self,
        raw: Mapping[str, Any],
        content: Mapping[str, Any],
        common: dict[str, Any],
        room: RoomView,
        title: str,
    ) -> Event | None:
        target = raw.get("state_key")
        sender = str(raw.get("sender"))
        if not isinstance(target, str) or not target.startswith("@"):
            return None
        room_id = common["chat_id"]
        prev_membership = prev_content(raw).get("membership")
        membership = content.get("membership")
        if membership == "invite":
            self.remember_inviter(room_id, target, sender)
            return None  # an invitation is not a member yet: it attributes the join
        if target == self.bot_user_id:
            return self._bot_membership(raw, content, common, room, title, prev_membership)
        name = _text(content.get("displayname")) or room.display_name(target) or _localpart(target)
        data: dict[str, Any] = {"chat_title": title} if title else {}
        base = {
            **common,
            "user_id": target,
            "user_name": name,
            "is_admin": room.power_level(target) >= ADMIN_LEVEL,
        }
        if membership == "join" and prev_membership != "join":
            inviter = self.inviters.pop((room_id, target), "")
            if inviter and inviter != target:
                data["inviter_user_id"] = inviter
            if prev_membership == "invite":
                data["via"] = "invite"
            return Event(kind=EventKind.MEMBER_JOINED, data=data, **base)
        if membership in ("leave", "ban") and prev_membership == "join":
            if sender != target:
                data["removed_by"] = sender
            if membership == "ban":
                data["banned"] = True
            if content.get("reason"):
                data["reason"] = _text(content.get("reason"))
            return Event(kind=EventKind.MEMBER_LEFT, data=data, **base)
        if membership == "knock" and prev_membership != "knock":
            if content.get("reason"):
                data["reason"] = _text(content.get("reason"))
            return Event(kind=EventKind.JOIN_REQUEST, data=data, **base)
        return None

    def _power_levels(
        self,
        raw: Mapping[str, Any],
        content: Mapping[str, Any],
        common: dict[str, Any],
        room: RoomView,
        title: str,
    ) -> Event | None:
        """The room's power levels changed so that the bot may do more or less (redact, kick
        and ban, change power levels, pin, invite): ``bot_rights_changed`` as on Telegram, so
        that an operator learns why the room's actions start failing."""
        if room.is_creator(self.bot_user_id):
            return None  # a creator (room version 12 on) is above every power level
        prev = prev_content(raw)
        if not prev:
            return None  # the room's first power levels: nothing the bot had is taken
        level, rights = bot_rights(content, self.bot_user_id)
        old_level, old_rights = bot_rights(prev, self.bot_user_id)
        if rights == old_rights and (level >= ADMIN_LEVEL) == (old_level >= ADMIN_LEVEL):
            return None
        sender = str(raw.get("sender"))
        return Event(
            kind=EventKind.BOT_RIGHTS_CHANGED,
            user_id=sender,
            user_name=room.display_name(sender) or _localpart(sender),
            data={
                "status": "administrator" if level >= ADMIN_LEVEL else "member",
                "old_status": "administrator" if old_level >= ADMIN_LEVEL else "member",
                "is_admin": level >= ADMIN_LEVEL,
                "in_chat": True,
                "rights": rights,
                "chat_title": title,
                "power_level": level,
                "old_power_level": old_level,
                "lost_rights": sorted(k for k, v in rights.items() if old_rights[k] and not v),
            },
            **common,
        )

    def _bot_membership(
        self,
        raw: Mapping[str, Any],
        content: Mapping[str, Any],
        common: dict[str, Any],
        room: RoomView,
        title: str,
        prev_membership: Any,
    ) -> Event | None:
        """The bot kicked, banned or leaving: ``bot_rights_changed`` as on Telegram (the room's
        actions will fail from now on). Its own join is not news (the history before it is
        skipped)."""
        membership = content.get("membership")
        if membership not in ("leave", "ban") or prev_membership != "join":
            return None
        sender = str(raw.get("sender"))
        removed = sender != self.bot_user_id
        status = "banned" if membership == "ban" else ("kicked" if removed else "left")
        data: dict[str, Any] = {
            "status": status,
            "old_status": "member",
            "is_admin": False,
            "in_chat": False,
            "rights": {},
            "chat_title": title,
        }
        if removed:
            data["removed_by"] = sender
        if content.get("reason"):
            data["reason"] = _text(content.get("reason"))
        return Event(
            kind=EventKind.BOT_RIGHTS_CHANGED,
            user_id=sender,
            user_name=room.display_name(sender) or _localpart(sender),
            data=data,
            **common,
        )
