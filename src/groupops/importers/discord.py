"""DiscordChatExporter JSON (``{"guild", "channel", "messages": [...]}``).

``chat_id`` is the channel id, ``event_id`` ``{channel id}:{message id}``. ``Default`` and
``Reply`` messages are messages (replies carry ``reference.messageId``); ``GuildMemberJoin`` is
a join; ``RecipientAdd``/``RecipientRemove`` (group DMs) are a join with the inviter and a
departure (``removed_by`` when someone else removed them). Other system messages (calls,
channel renames, pins) are left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from groupops.domain.events import ContentKind, Event, EventKind
from groupops.i18n import N_
from groupops.importers.base import Options
from groupops.importers.events import clip_id, member_event, obj, reaction_count
from groupops.importers.jsonstream import message_error, stream_items
from groupops.importers.text import clean_text, file_kind, text_kind

FORMAT = "discord"
SOURCE = "import:discord"
_MESSAGES = {"Default", "Reply", "ThreadStarterMessage"}


def _name(author: dict[str, Any]) -> str:
    return str(author.get("nickname") or author.get("name") or author.get("id") or "")


def content_kind(msg: dict[str, Any], text: str) -> ContentKind:
    if msg.get("stickers"):
        return ContentKind.STICKER
    attachments = msg.get("attachments") or []
    if attachments and isinstance(attachments[0], dict):
        return file_kind(str(attachments[0].get("fileName") or attachments[0].get("url") or ""))
    return text_kind(text)


NO_AUTHOR = (
    N_("message {position} has no author"),
    N_("message {position} (id {message_id}) has no author"),
)
NO_TIMESTAMP = (
    N_("message {position} has no readable timestamp"),
    N_("message {position} (id {message_id}) has no readable timestamp"),
)


def events(path: Path, options: Options) -> Iterator[Event]:
    fname = path.name
    index = -1
    with path.open("rb") as raw:
        for _, meta, msg in stream_items(raw, path, ("",)):
            index += 1
            if not isinstance(msg, dict) or not isinstance(msg.get("author"), dict):
                raise message_error(path, NO_AUTHOR, index, msg, ("messages", index))
            channel = obj(meta.get("channel"))
            guild = obj(meta.get("guild"))
            chat = clip_id(channel.get("id") or channel.get("name") or path.stem)
            try:
                when = datetime.fromisoformat(str(msg.get("timestamp")))
                if when.tzinfo is None:
                    when = when.replace(tzinfo=options.tz)
            except ValueError:
                raise message_error(path, NO_TIMESTAMP, index, msg, ("messages", index)) from None
            author = msg["author"]
            uid = clip_id(author.get("id")) or _name(author)
            mid = clip_id(msg.get("id") or index)
            data: dict[str, Any] = {"file": fname, "index": index}
            title = " / ".join(str(x) for x in (guild.get("name"), channel.get("name")) if x)
            if title:
                data["chat_title"] = title
            mtype = msg.get("type")
            event_id = f"{chat}:{mid}"
            if mtype in _MESSAGES:
                text = str(msg.get("content") or "")
                ref = msg.get("reference") if isinstance(msg.get("reference"), dict) else {}
                reply = clip_id(ref.get("messageId")) if ref else ""
                data["reply_to"] = [reply] if reply else []
                data["reactions"] = reaction_count(msg.get("reactions"))
                if author.get("isBot"):
                    data["bot"] = True
                yield Event(
                    source=SOURCE,
                    event_id=event_id,
                    kind=EventKind.MESSAGE,
                    occurred_at=when,
                    chat_id=chat,
                    user_id=uid,
                    user_name=_name(author),
                    message_id=mid,
                    text=clean_text(text),
                    content_kind=content_kind(msg, text),
                    reply_to_message_id=reply,
                    data=data,
                )
            elif mtype == "GuildMemberJoin":
                yield member_event(
                    SOURCE,
                    event_id,
                    EventKind.MEMBER_JOINED,
                    when,
                    chat,
                    uid,
                    _name(author),
                    data,
                    message_id=mid,
                )
            elif mtype in ("RecipientAdd", "RecipientRemove"):
                mentions = [m for m in msg.get("mentions") or [] if isinstance(m, dict)]
                target = mentions[0] if mentions else author
                tid = clip_id(target.get("id")) or _name(target)
                same = tid == uid
                if mtype == "RecipientAdd":
                    kind = EventKind.MEMBER_JOINED
                    extra = {} if same else {"inviter_user_id": uid, "inviter_name": _name(author)}
                else:
                    kind = EventKind.MEMBER_LEFT
                    extra = {} if same else {"removed_by": uid, "removed_by_name": _name(author)}
                yield member_event(
                    SOURCE,
                    event_id,
                    kind,
                    when,
                    chat,
                    tid,
                    _name(target),
                    {**data, **extra},
                    message_id=mid,
                )
