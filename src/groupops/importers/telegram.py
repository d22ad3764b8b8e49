"""Telegram Desktop JSON exports: one chat (``{"name", "id", "messages": [...]}``) or the
full-account ``result.json`` (``{"chats": {"list": [...]}, "left_chats": {...}}``).

``chat_id`` is the chat's Telegram id (else its name, else the file stem); ``event_id`` is
``{chat_id}:{message id}`` so a later export of the same chat adds only what is new.
Service messages: ``invite_members`` -> a join per member with the inviter,
``join_group_by_link`` -> a join via invite link (invited by the link's owner only when that
is a person of the file: Telegram Desktop's ``"inviter": "Group"`` is the group's own link),
``join_group_by_request`` -> a join,
``remove_members`` -> a departure (``removed_by`` when someone else removed them).
Telegram names members in service messages by name only: a first pass over the file learns
each name's ``from_id`` so joins and messages of one person share one ``user_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from groupops.domain.events import ContentKind, Event, EventKind
from groupops.i18n import N_
from groupops.importers.base import Options, file_key, read_head, utc_from_epoch
from groupops.importers.events import clip_id, member_event, reaction_count
from groupops.importers.jsonstream import POSITION, message_error, stream_items
from groupops.importers.text import (
    clean_name,
    clean_text,
    file_kind,
    link_kind,
    text_kind,
    user_key,
)

FORMAT = "telegram"
SOURCE = "import:telegram"
CONTAINERS = ("", "chats.list.item", "left_chats.list.item")
# (without an id, with one): a message's 1-based position in the file, its id
NOT_AN_OBJECT = (N_("message {position} is not an object"),) * 2
NO_DATE = (
    N_("message {position} has no readable date"),
    N_("message {position} (id {message_id}) has no readable date"),
)

_MEDIA = {
    "sticker": ContentKind.STICKER,
    "video_file": ContentKind.VIDEO,
    "video_message": ContentKind.VIDEO,
    "voice_message": ContentKind.VOICE,
    "audio_file": ContentKind.VOICE,
    "animation": ContentKind.PICTURE,
}


def flatten_text(text: Any) -> str:
    """Telegram's ``text``: a string, or a list of strings and ``{"type", "text"}`` parts."""
    if isinstance(text, str):
        return text
    if isinstance(text, list):
        return "".join(
            p if isinstance(p, str) else str(p.get("text", ""))
            for p in text
            if isinstance(p, str | dict)
        )
    return ""


def _links(msg: dict[str, Any]) -> list[str]:
    out = []
    parts = msg.get("text_entities") or (
        msg.get("text") if isinstance(msg.get("text"), list) else []
    )
    for p in parts or []:
        if isinstance(p, dict) and p.get("type") in ("link", "text_link"):
            out.append(str(p.get("href") or p.get("text") or ""))
    return out


def content_kind(msg: dict[str, Any], text: str) -> ContentKind:
    if "photo" in msg:
        return ContentKind.PICTURE
    media = msg.get("media_type")
    if isinstance(media, str) and media in _MEDIA:
        return _MEDIA[media]
    if "file" in msg:
        return file_kind(
            str(msg.get("file_name") or msg.get("file") or ""), str(msg.get("mime_type") or "")
        )
    if any(
        k in msg
        for k in (
            "poll",
            "contact_information",
            "location_information",
            "game_title",
            "invoice_information",
        )
    ):
        return ContentKind.OTHER
    links = _links(msg)
    if links:
        kinds = [link_kind(u) for u in links]
        for k in (ContentKind.NETDISK_LINK, ContentKind.ARTICLE_LINK, ContentKind.H5_LINK):
            if k in kinds:
                return k
    return text_kind(text)


class TelegramReader:
    def __init__(self, path: Path, options: Options) -> None:
        self.path = path
        self.options = options
        self.key = file_key(read_head(path), FORMAT)

    def _when(self, msg: dict[str, Any]) -> datetime | None:
        unix = msg.get("date_unixtime")
        try:
            if unix not in (None, ""):
                return utc_from_epoch(float(unix))
            raw = msg.get("date")
            if isinstance(raw, str) and raw:
                dt = datetime.fromisoformat(raw)
                if dt.tzinfo is None:
                    dt = dt.replace(tzinfo=self.options.tz)
                return dt
        except (TypeError, ValueError, OverflowError):
            pass
        return None

    def _items(self) -> Iterator[tuple[str, dict[str, Any], Any]]:
        with self.path.open("rb") as raw:
            yield from stream_items(raw, self.path, CONTAINERS)

    def learn_ids(self) -> dict[str, str]:
        """Name -> from_id, from every message and service message of the file."""
        ids: dict[str, str] = {}
        for _, _, msg in self._items():
            if not isinstance(msg, dict):
                continue
            for name_key, id_key in (("from", "from_id"), ("actor", "actor_id")):
                name, uid = msg.get(name_key), msg.get(id_key)
                if isinstance(name, str) and uid not in (None, ""):
                    ids.setdefault(clean_name(name), clip_id(uid))
        return ids

    def events(self) -> Iterator[Event]:
        ids = self.learn_ids()
        fname = self.path.name
        index = -1
        counts: dict[str, int] = {}
        here: tuple[str, Any] = ("", None)  # the container being read
        k = -1  # the message's position in its container's array
        for container, meta, msg in self._items():
            index += 1
            if (container, meta.get(POSITION)) != here:
                here, k = (container, meta.get(POSITION)), -1
            k += 1
            steps = (*_steps(container, meta.get(POSITION)), "messages", k)
            if not isinstance(msg, dict):
                raise message_error(self.path, NOT_AN_OBJECT, index, msg, steps)
            chat = clip_id(meta.get("id") or meta.get("name") or self.path.stem or "telegram")
            title = str(meta.get("name") or "")
            n = counts[chat] = counts.get(chat, 0) + 1
            mid = msg.get("id")
            base_id = (
                f"{chat}:{mid}"
                if mid is not None and meta.get("id") is not None
                else f"{self.key}:{container or 'chat'}:{n - 1}"
            )
            when = self._when(msg)
            if when is None:
                raise message_error(self.path, NO_DATE, index, msg, steps)
            data: dict[str, Any] = {"file": fname, "index": index}
            if title:
                data["chat_title"] = title
            mtype = msg.get("type")
            if mtype == "message":
                author = str(msg.get("from") or msg.get("author") or "")
                uid = (
                    clip_id(msg.get("from_id"))
                    or ids.get(clean_name(author))
                    or user_key(author)
                    or "unknown"
                )
                text = flatten_text(msg.get("text"))
                reply = msg.get("reply_to_message_id")
                data["reply_to"] = [str(reply)] if reply is not None else []
                reactions = msg.get("reactions")
                if isinstance(reactions, list):
                    data["reactions"] = reaction_count(reactions)
                if msg.get("forwarded_from"):
                    data["forwarded"] = True
                yield Event(
                    source=SOURCE,
                    event_id=base_id,
                    kind=EventKind.MESSAGE,
                    occurred_at=when,
                    chat_id=chat,
                    user_id=uid,
                    user_name=author,
                    message_id=clip_id(mid) if mid is not None else str(n - 1),
                    text=clean_text(text),
                    content_kind=content_kind(msg, text),
                    reply_to_message_id=str(reply) if reply is not None else "",
                    data=data,
                )
            elif mtype == "service":
                if mid is not None:  # --events-out names its events by it, as messages
                    data["message_id"] = clip_id(mid)
                yield from self._service(msg, base_id, when, chat, data, ids, title)

    def _service(
        self,
        msg: dict[str, Any],
        base_id: str,
        when: datetime,
        chat: str,
        data: dict[str, Any],
        ids: dict[str, str],
        title: str = "",
    ) -> Iterator[Event]:
        action = msg.get("action")
        actor = str(msg.get("actor") or "")
        actor_id = clip_id(msg.get("actor_id")) or ids.get(clean_name(actor)) or user_key(actor)
        members = [str(m) for m in msg.get("members") or [] if m]

        def uid(name: str) -> str:
            return ids.get(clean_name(name)) or user_key(name) or "unknown"

        out: list[tuple[EventKind, str, str, dict[str, Any]]] = []
        extra: dict[str, Any]
        if action in ("invite_members", "create_group") and members:
            for m in members:
                extra = {"inviter_user_id": actor_id, "inviter_name": actor}
                if uid(m) == actor_id:
                    extra = {}
                out.append((EventKind.MEMBER_JOINED, uid(m), m, extra))
        elif action == "join_group_by_link":
            # ``inviter`` names the link's owner: a member's own link (referrals) is their
            # invitation; the group's link (Telegram Desktop writes ``"inviter": "Group"``, or
            # the group's name) is nobody's. Only a person the file knows is an inviter
            extra = {"via": "invite_link"}
            inviter = clean_name(str(msg.get("inviter") or ""))
            if inviter and inviter in ids and inviter not in (title, "Group"):
                extra.update(inviter_user_id=ids[inviter], inviter_name=inviter)
            out.append((EventKind.MEMBER_JOINED, actor_id, actor, extra))
        elif action == "join_group_by_request":
            out.append((EventKind.MEMBER_JOINED, actor_id, actor, {"via": "request"}))
        elif action == "remove_members":
            for m in members or [actor]:
                extra = (
                    {} if uid(m) == actor_id else {"removed_by": actor_id, "removed_by_name": actor}
                )
                out.append((EventKind.MEMBER_LEFT, uid(m), m, extra))
        for i, (kind, who, name, extra) in enumerate(out):
            if not who:
                continue
            yield member_event(
                SOURCE,
                base_id if i == 0 else f"{base_id}.{i}",
                kind,
                when,
                chat,
                who,
                name,
                {**data, **extra, "action": str(action)},
            )


def _steps(container: str, position: int | None) -> tuple[str | int, ...]:
    """The JSON path of a container: ``chats.list.item`` at position 2 -> chats, list, 2."""
    if not container:
        return ()
    head = tuple(container.split("."))[:-1]  # without the trailing "item"
    return (*head, position if position is not None else -1)


def events(path: Path, options: Options) -> Iterator[Event]:
    return TelegramReader(path, options).events()
