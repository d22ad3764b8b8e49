"""Bot API updates (their JSON, as https://core.telegram.org/bots/api#update describes it) into
groupops events. Translation only: nothing here decides anything.

One update gives at most one event, whose id is the update's ``update_id`` (unique per bot):
an update delivered twice (a restart, a webhook retry) is stored once by the engine.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from groupops.domain.events import PRIVATE_CHAT, ContentKind, Event, EventKind

GROUP_TYPES = frozenset({"group", "supergroup"})
IN_CHAT = frozenset({"creator", "administrator", "member"})
ADMIN = frozenset({"creator", "administrator"})

#: messages remembered per connection (author and date: a reaction's target author, the
#: 48-hour delete limit)
REMEMBER = 50_000

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
NETDISK_HOSTS = (
    "pan.baidu.com",
    "yun.baidu.com",
    "aliyundrive.com",
    "alipan.com",
    "pan.quark.cn",
    "115.com",
    "lanzou",
    "weiyun.com",
    "cloud.189.cn",
    "drive.google.com",
    "dropbox.com",
    "mega.nz",
    "onedrive.live.com",
    "1drv.ms",
)
ARTICLE_HOSTS = ("mp.weixin.qq.com", "zhihu.com", "medium.com", "substack.com", "telegra.ph")

# content kinds of a Message, in the order Telegram's fields are checked
_MEDIA: tuple[tuple[str, ContentKind], ...] = (
    ("photo", ContentKind.PICTURE),
    ("video", ContentKind.VIDEO),
    ("animation", ContentKind.VIDEO),
    ("video_note", ContentKind.VIDEO),
    ("voice", ContentKind.VOICE),
    ("audio", ContentKind.VOICE),
    ("sticker", ContentKind.STICKER),
    ("document", ContentKind.FILE),
)
#: service messages (someone joined, the title changed ...): chat_member updates carry joins
#: and leaves, the rest is not a member's message
_SERVICE = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "message_auto_delete_timer_changed",
        "video_chat_started",
        "video_chat_ended",
        "video_chat_scheduled",
        "video_chat_participants_invited",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "boost_added",
        "chat_background_set",
        "general_forum_topic_hidden",
        "general_forum_topic_unhidden",
        "giveaway_created",
        "giveaway_completed",
        "giveaway_winners",
        "proximity_alert_triggered",
        "chat_shared",
        "users_shared",
        "write_access_allowed",
        "successful_payment",
        "refunded_payment",
        "gift",
        "unique_gift",
        "paid_message_price_changed",
        "checklist_tasks_done",
        "checklist_tasks_added",
    }
)


def link_kind(url: str) -> ContentKind:
    host = url.split("//", 1)[-1].split("/", 1)[0].lower()
    if any(h in host for h in NETDISK_HOSTS):
        return ContentKind.NETDISK_LINK
    if any(h in host for h in ARTICLE_HOSTS):
        return ContentKind.ARTICLE_LINK
    return ContentKind.H5_LINK


def content_kind(message: Mapping[str, Any]) -> ContentKind:
    for key, kind in _MEDIA:
        if key in message:
            return kind
    text = str(message.get("text") or "")
    if text:
        urls = [
            str(e.get("url") or "")
            for e in message.get("entities") or ()
            if e.get("type") == "text_link"
        ]
        urls += _URL.findall(text)
        if urls:
            return link_kind(urls[0])
        return ContentKind.TEXT
    return ContentKind.OTHER  # polls, locations, contacts, dice, games, stories ...


def name_of(user: Mapping[str, Any]) -> str:
    if "title" in user:  # a chat speaking (anonymous admin, a linked channel)
        return str(user.get("title") or "")
    full = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))
    return full or str(user.get("username") or "")


def _titled(chat: Mapping[str, Any]) -> dict[str, Any]:
    """The chat's title as the update gives it (Message.chat, ChatMemberUpdated.chat ... carry
    it): the group's title follows it (engine/directory.py), renames included."""
    title = chat.get("title")
    return {"chat_title": str(title)} if title else {}


def _when(unix: Any) -> datetime:
    return datetime.fromtimestamp(int(unix), UTC)


def is_member(status: Mapping[str, Any]) -> bool:
    s = status.get("status")
    return s in IN_CHAT or (s == "restricted" and bool(status.get("is_member")))


AdminLookup = Callable[[str, str], bool]


class Translator:
    def __init__(
        self, source: str, bot_id: str = "", now: Callable[[], datetime] | None = None
    ) -> None:
        self.source = source
        self.bot_id = bot_id
        self.now = now or (lambda: datetime.now(UTC))
        #: (chat, message) -> (author id, date): what later updates refer to
        self.messages: OrderedDict[tuple[str, str], tuple[str, datetime]] = OrderedDict()

    def remember(self, chat_id: str, message_id: str, author: str, when: datetime) -> None:
        self.messages[(chat_id, message_id)] = (author, when)
        self.messages.move_to_end((chat_id, message_id))
        while len(self.messages) > REMEMBER:
            self.messages.popitem(last=False)

    def sent_at(self, chat_id: str, message_id: str) -> datetime | None:
        found = self.messages.get((chat_id, message_id))
        return found[1] if found else None

    def translate(
        self, update: Mapping[str, Any], is_admin: AdminLookup = lambda c, u: False
    ) -> Event | None:
        uid = update.get("update_id")
        if not isinstance(uid, int):
            return None
        eid = str(uid)
        if "message" in update:
            return self._message(eid, update["message"], EventKind.MESSAGE, is_admin)
        if "edited_message" in update:
            return self._message(eid, update["edited_message"], EventKind.MESSAGE_EDITED, is_admin)
        if "chat_member" in update:
            return self._chat_member(eid, update["chat_member"])
        if "my_chat_member" in update:
            return self._my_chat_member(eid, update["my_chat_member"])
        if "chat_join_request" in update:
            return self._join_request(eid, update["chat_join_request"])
        if "message_reaction" in update:
            return self._reaction(eid, update["message_reaction"], is_admin)
        if "callback_query" in update:
            return self._button(eid, update["callback_query"], is_admin)
        return None

    def _message(
        self, eid: str, m: Mapping[str, Any], kind: EventKind, is_admin: AdminLookup
    ) -> Event | None:
        chat = m.get("chat") or {}
        if chat.get("type") not in GROUP_TYPES:
            return None
        if kind == EventKind.MESSAGE and m.get("new_chat_title"):
            return self._renamed(eid, m, is_admin)
        if _SERVICE & set(m):
            return None
        chat_id = str(chat["id"])
        sender_chat = m.get("sender_chat")
        author: Mapping[str, Any] = sender_chat or m.get("from") or {}
        if not author.get("id"):
            return None
        user_id = str(author["id"])
        mid = str(m.get("message_id", ""))
        when = _when(m.get("edit_date") if kind == EventKind.MESSAGE_EDITED else m["date"])
        if kind == EventKind.MESSAGE:
            self.remember(chat_id, mid, user_id, when)
        reply = m.get("reply_to_message") or {}
        if "forum_topic_created" in reply:
            # in a forum, a message in a topic "replies" to the topic's creation when it
            # replies to nothing: that is where it was posted, not whom it answers
            reply = {}
        reply_author = reply.get("sender_chat") or reply.get("from") or {}
        data: dict[str, Any] = _titled(chat)
        if author.get("username"):
            data["username"] = str(author["username"])
        if author.get("is_bot"):
            data["is_bot"] = True
        if m.get("media_group_id"):
            data["media_group_id"] = str(m["media_group_id"])
        if m.get("forward_origin") or m.get("forward_date"):
            data["forwarded"] = True
        if m.get("message_thread_id") and m.get("is_topic_message"):
            data["topic_id"] = str(m["message_thread_id"])
        if m.get("via_bot"):
            data["via_bot"] = str((m["via_bot"] or {}).get("username") or "")
        # an anonymous admin speaks as the group itself; the group's linked channel posts
        # through its admins (Telegram forwards each post into the group by itself); any other
        # chat speaking (a member's own channel) is not an admin
        anonymous_admin = sender_chat is not None and str(sender_chat.get("id")) == chat_id
        if m.get("is_automatic_forward"):
            data["automatic_forward"] = True
            anonymous_admin = True
        return Event(
            source=self.source,
            event_id=eid,
            kind=kind,
            occurred_at=when,
            chat_id=chat_id,
            user_id=user_id,
            user_name=name_of(author),
            message_id=mid,
            text=str(m.get("text") or m.get("caption") or "").replace("\x00", ""),
            content_kind=content_kind(m),
            reply_to_message_id=str(reply.get("message_id", "")) if reply else "",
            reply_to_user_id=str(reply_author.get("id", "")) if reply_author else "",
            is_admin=anonymous_admin or is_admin(chat_id, user_id),
            data=data,
        )

    def _renamed(self, eid: str, m: Mapping[str, Any], is_admin: AdminLookup) -> Event:
        """The ``new_chat_title`` service message: ``group_updated`` with the new title (the
        group's title follows it at once, not with the group's next message)."""
        chat_id = str(m["chat"]["id"])
        sender_chat = m.get("sender_chat")
        author: Mapping[str, Any] = sender_chat or m.get("from") or {}
        user_id = str(author.get("id") or "")
        return Event(
            source=self.source,
            event_id=eid,
            kind=EventKind.GROUP_UPDATED,
            occurred_at=_when(m["date"]),
            chat_id=chat_id,
            user_id=user_id,
            user_name=name_of(author),
            message_id=str(m.get("message_id", "")),
            is_admin=(sender_chat is not None and str(sender_chat.get("id")) == chat_id)
            or (bool(user_id) and is_admin(chat_id, user_id)),
            data={"chat_title": str(m["new_chat_title"])},
        )

    def _chat_member(self, eid: str, u: Mapping[str, Any]) -> Event | None:
        chat = u.get("chat") or {}
        if chat.get("type") not in GROUP_TYPES:
            return None
        old, new = u.get("old_chat_member") or {}, u.get("new_chat_member") or {}
        was, now = is_member(old), is_member(new)
        user = new.get("user") or {}
        actor = u.get("from") or {}
        if not user.get("id"):
            return None
        user_id = str(user["id"])
        data: dict[str, Any] = {"status": str(new.get("status", "")), **_titled(chat)}
        if user.get("username"):
            data["username"] = str(user["username"])
        if user.get("is_bot"):
            data["is_bot"] = True
        if not was and now:
            kind = EventKind.MEMBER_JOINED
            link = u.get("invite_link") or {}
            if link:
                data["invite_link"] = str(link.get("invite_link", ""))
                if link.get("name"):
                    data["invite_link_name"] = str(link["name"])
                creator = str((link.get("creator") or {}).get("id", ""))
                if creator:
                    data["invite_link_creator_id"] = creator
                    if creator not in (user_id, self.bot_id):
                        data["inviter_user_id"] = creator
            if u.get("via_join_request"):
                data["via_join_request"] = True
            if u.get("via_chat_folder_invite_link"):
                data["via_chat_folder_invite_link"] = True
            actor_id = str(actor.get("id", ""))
            if actor_id and actor_id != user_id and actor_id != self.bot_id and not link:
                data["inviter_user_id"] = actor_id  # added by someone
                data["inviter_name"] = name_of(actor)
        elif was and not now:
            kind = EventKind.MEMBER_LEFT
            actor_id = str(actor.get("id", ""))
            if actor_id and actor_id != user_id:
                data["removed_by"] = actor_id
        else:
            return None  # a change of rights, not of membership
        return Event(
            source=self.source,
            event_id=eid,
            kind=kind,
            occurred_at=_when(u["date"]),
            chat_id=str(chat["id"]),
            user_id=user_id,
            user_name=name_of(user),
            is_admin=new.get("status") in ADMIN,
            data=data,
        )

    def _my_chat_member(self, eid: str, u: Mapping[str, Any]) -> Event | None:
        chat = u.get("chat") or {}
        if chat.get("type") not in GROUP_TYPES:
            return None
        new = u.get("new_chat_member") or {}
        old = u.get("old_chat_member") or {}
        rights = {
            k: bool(v) for k, v in new.items() if k.startswith("can_") and isinstance(v, bool)
        }
        actor = u.get("from") or {}
        return Event(
            source=self.source,
            event_id=eid,
            kind=EventKind.BOT_RIGHTS_CHANGED,
            occurred_at=_when(u["date"]),
            chat_id=str(chat["id"]),
            user_id=str(actor.get("id", "")),
            user_name=name_of(actor),
            data={
                "status": str(new.get("status", "")),
                "old_status": str(old.get("status", "")),
                "is_admin": new.get("status") in ADMIN,
                "in_chat": is_member(new),
                "rights": rights,
                "chat_title": str(chat.get("title") or ""),
            },
        )

    def _join_request(self, eid: str, r: Mapping[str, Any]) -> Event | None:
        chat = r.get("chat") or {}
        user = r.get("from") or {}
        if chat.get("type") not in GROUP_TYPES or not user.get("id"):
            return None
        data: dict[str, Any] = {"user_chat_id": str(r.get("user_chat_id", "")), **_titled(chat)}
        if r.get("bio"):
            data["bio"] = str(r["bio"])
        link = r.get("invite_link") or {}
        if link:
            data["invite_link"] = str(link.get("invite_link", ""))
            if link.get("name"):
                data["invite_link_name"] = str(link["name"])
        if user.get("username"):
            data["username"] = str(user["username"])
        return Event(
            source=self.source,
            event_id=eid,
            kind=EventKind.JOIN_REQUEST,
            occurred_at=_when(r["date"]),
            chat_id=str(chat["id"]),
            user_id=str(user["id"]),
            user_name=name_of(user),
            data=data,
        )

    def _reaction(self, eid: str, r: Mapping[str, Any], is_admin: AdminLookup) -> Event | None:
        chat = r.get("chat") or {}
        actor: Mapping[str, Any] = r.get("user") or r.get("actor_chat") or {}
        if chat.get("type") not in GROUP_TYPES or not actor.get("id"):
            return None
        chat_id, user_id = str(chat["id"]), str(actor["id"])
        mid = str(r.get("message_id", ""))

        def emojis(items: Any) -> list[str]:
            out = []
            for item in items or ():
                if item.get("type") == "emoji":
                    out.append(str(item.get("emoji", "")))
                elif item.get("type") == "custom_emoji":
                    out.append(f"custom:{item.get('custom_emoji_id', '')}")
                else:
                    out.append(str(item.get("type", "")))
            return out

        new, old = emojis(r.get("new_reaction")), emojis(r.get("old_reaction"))
        added = [e for e in new if e not in old]
        removed = [e for e in old if e not in new]
        data: dict[str, Any] = {
            "emoji": (added or new or removed or [""])[0],
            "emojis": new,
            "removed": not new,
            **_titled(chat),
        }
        if removed:
            data["removed_emojis"] = removed
        target = self.messages.get((chat_id, mid))
        if target is not None:
            data["target_user_id"] = target[0]
        return Event(
            source=self.source,
            event_id=eid,
            kind=EventKind.REACTION,
            occurred_at=_when(r["date"]),
            chat_id=chat_id,
            user_id=user_id,
            user_name=name_of(actor),
            message_id=mid,
            reply_to_message_id=mid,
            reply_to_user_id=target[0] if target else "",
            is_admin=is_admin(chat_id, user_id),
            data=data,
        )

    def _button(self, eid: str, q: Mapping[str, Any], is_admin: AdminLookup) -> Event | None:
        """A button pressed: under a message in a group, or under one of the bot's private
        messages (an owner task's "Done": no group, ``PRIVATE_CHAT``)."""
        message = q.get("message") or {}
        chat = message.get("chat") or {}
        user = q.get("from") or {}
        private = chat.get("type") == "private"
        if not (private or chat.get("type") in GROUP_TYPES) or not user.get("id"):
            return None
        if "data" not in q:
            return None
        chat_id, user_id = str(chat["id"]), str(user["id"])
        date = message.get("date") or 0
        where: dict[str, Any] = {PRIVATE_CHAT: True} if private else _titled(chat)
        return Event(
            source=self.source,
            event_id=eid,
            kind=EventKind.BUTTON,
            # a callback query carries no time of its own: the update arrives as it happens
            occurred_at=max(_when(date), self.now()) if date else self.now(),
            chat_id=chat_id,
            user_id=user_id,
            user_name=name_of(user),
            message_id=str(message.get("message_id", "")),
            is_admin=not private and is_admin(chat_id, user_id),
            data={
                "button_data": str(q.get("data", "")),
                "callback_query_id": str(q.get("id")),
                **where,
            },
        )
