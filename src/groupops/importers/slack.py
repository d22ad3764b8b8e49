"""Slack workspace exports: the zip (or its unpacked folder) with ``channels.json`` (also
``groups.json``, ``mpims.json``, ``dms.json``), ``users.json`` and one ``<channel>/<day>.json``
per channel and day. Members are read one by one; one day file is in memory at a time.

``chat_id`` is the channel id, ``event_id`` ``{channel id}:{ts}``; thread replies carry the
parent's ``thread_ts`` as ``reply_to_message_id``. ``channel_join``/``group_join`` are joins
(``inviter`` kept), ``channel_leave``/``group_leave`` departures; other subtypes (topic, purpose,
bot_add, pins) are left out.

Bot posts (``bot_message``, or any message with a ``bot_id``: integrations such as GitHub or CI
notices) stay messages, they are part of the channel's history and people answer them, but
carry ``data["bot"] = True`` (and ``data["bot_id"]``) so the analytics do not count the bot as a
member. Their author is the bot's id; its name is the one the export gives: ``username``,
``bot_profile.name``, a bot user in ``users.json`` (``profile.bot_id``), or the label of the
integration link in an earlier ``bot_add`` notice (``<https://.../services/B0JL6RASU|github>``);
else the id. A post whose ``text`` is empty but which has attachments (bots post those) takes
its text from the attachments' plain-text ``fallback`` (else their pretext, title and text).

Texts are stored as people read them, not in Slack's markup (see :func:`plain_text`).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from groupops.domain.events import ContentKind, Event, EventKind
from groupops.i18n import N_
from groupops.importers.base import (
    ZIP_ERRORS,
    ImportFormatError,
    MalformedJson,
    Options,
    utc_from_epoch,
)
from groupops.importers.events import clip_id, member_event, obj, reaction_count
from groupops.importers.text import clean_text, file_kind, text_kind

FORMAT = "slack"
SOURCE = "import:slack"
_DAY = re.compile(r"^(?:.*/)?([^/]+)/(\d{4}-\d{2}-\d{2})\.json$")
_MESSAGE_SUBTYPES = {
    None,
    "",
    "bot_message",
    "file_share",
    "me_message",
    "thread_broadcast",
    "file_comment",
    "reply_broadcast",
}
_CHANNEL_FILES = ("channels.json", "groups.json", "mpims.json", "dms.json")
_SERVICE = re.compile(r"/services/(B[A-Z0-9]+)\|([^>]+)>")
#: Slack's markup in a message's text: <@U123>, <#C123|general>, <!here>, <https://x|label>
_MARKUP = re.compile(r"<([^<>\n]*)>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def plain_text(text: str, users: dict[str, str]) -> str:
    """A message's text as its reader saw it in Slack, not its markup: ``<@U123>`` becomes
    ``@Ann`` (the name from users.json), ``<#C123|general>`` ``#general``, ``<!here>``
    ``@here``, ``<https://x|label>`` ``label (https://x)``, ``<https://x>`` the address, and
    ``&lt; &gt; &amp;`` their characters. Names are what people address each other by (the
    reply links read them), and the text models see words, not ids."""
    if "<" not in text and "&" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        inner = m.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return "@" + (users.get(target[1:]) or label or target[1:])
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!"):
            special = target[1:].split("^", 1)[0]
            if special in ("here", "channel", "everyone"):
                return "@" + special
            return label or special
        if label and label != target and label not in target:
            return f"{label} ({target})"
        return target if target else m.group(0)

    out = _MARKUP.sub(one, text)
    for entity, char in _ENTITIES:
        out = out.replace(entity, char)
    return out


#: the largest file of an export read (bytes, unpacked): each is loaded whole
MAX_MEMBER = 256 * 1024 * 1024


class _Tree:
    """The export's files, in a zip or a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zf: zipfile.ZipFile | None = None
        try:
            if path.is_dir():
                self.names = sorted(
                    str(p.relative_to(path)).replace("\\", "/") for p in path.rglob("*.json")
                )
            else:
                self.zf = zipfile.ZipFile(path)
                self.names = sorted(n for n in self.zf.namelist() if n.endswith(".json"))
        except ZIP_ERRORS as exc:
            raise ImportFormatError(
                N_("unreadable Slack export: {detail}"), file=path.name, detail=str(exc)
            ) from None

    def load(self, name: str) -> Any:
        try:
            if self.zf is not None:
                self._check_size(name, self.zf.getinfo(name).file_size)
                with self.zf.open(name) as fh:
                    return json.load(fh)
            with (self.path / name).open("rb") as fh:
                self._check_size(name, os.fstat(fh.fileno()).st_size)
                return json.load(fh)
        except PermissionError:  # a file of an unpacked folder this process may not read
            raise ImportFormatError(
                N_("cannot read {member} (permission denied)"), file=self.path.name, member=name
            ) from None
        except OSError as exc:  # a disk error: the system's words
            raise ImportFormatError(
                N_("cannot read {member}: {detail}"),
                file=self.path.name,
                member=name,
                detail=exc.strerror or str(exc),
            ) from None
        except ZIP_ERRORS as exc:  # JSON and Unicode errors are ValueErrors
            raise MalformedJson(exc, file=self.path.name, member=name) from None

    def _check_size(self, name: str, size: int) -> None:
        """A file of the export is read whole: one over MAX_MEMBER (a zip bomb's member, which
        the zip's directory declares: zipfile reads no further) is refused before."""
        if size > MAX_MEMBER:
            raise ImportFormatError(
                N_(
                    "{member} is {size} bytes unpacked, over the {most} a Slack export's file"
                    " can be read with (a day of a channel is kilobytes)"
                ),
                file=self.path.name,
                member=name,
                size=size,
                most=MAX_MEMBER,
            )

    def find(self, base: str) -> str | None:
        hits = [n for n in self.names if n.rsplit("/", 1)[-1] == base and n.count("/") <= 1]
        return min(hits, key=len) if hits else None

    def close(self) -> None:
        if self.zf is not None:
            self.zf.close()


def is_slack(names: list[str]) -> bool:
    bases = {n.rsplit("/", 1)[-1] for n in names}
    return bool(bases & set(_CHANNEL_FILES)) and any(_DAY.match(n) for n in names)


def _kind(msg: dict[str, Any], text: str) -> ContentKind:
    files = msg.get("files") or ([msg["file"]] if isinstance(msg.get("file"), dict) else [])
    if files and isinstance(files[0], dict):
        f = files[0]
        return file_kind(str(f.get("name") or f.get("title") or ""), str(f.get("mimetype") or ""))
    return text_kind(text)


def _attachment_text(msg: dict[str, Any]) -> str:
    """The plain text of a message's attachments (what Slack shows where a client cannot
    draw them): each one's ``fallback``, else its pretext, title and text."""
    lines: list[str] = []
    for a in msg.get("attachments") or []:
        if not isinstance(a, dict):
            continue
        fallback = a.get("fallback")
        if isinstance(fallback, str) and fallback.strip():
            lines.append(fallback.strip())
            continue
        parts = (a.get(k) for k in ("pretext", "title", "text"))
        lines.extend(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return "\n".join(lines)


def _list(value: Any, member: str, fname: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportFormatError(N_("{member} is not a list"), file=fname, member=member)
    return value


def events(path: Path, options: Options) -> Iterator[Event]:
    tree = _Tree(path)
    fname = path.name
    try:
        users: dict[str, str] = {}
        users_file = tree.find("users.json")
        if users_file:
            for u in _list(tree.load(users_file), users_file, fname):
                if isinstance(u, dict) and u.get("id"):
                    profile = obj(u.get("profile"))
                    users[str(u["id"])] = str(
                        u.get("real_name") or profile.get("real_name") or u.get("name") or u["id"]
                    )
                    if profile.get("bot_id"):  # a bot user: its posts name the bot id
                        users.setdefault(str(profile["bot_id"]), users[str(u["id"])])
        channels: dict[str, dict[str, Any]] = {}
        for base in _CHANNEL_FILES:
            found = tree.find(base)
            if found:
                for c in _list(tree.load(found), found, fname):
                    if isinstance(c, dict):
                        channels[str(c.get("name") or c.get("id"))] = c
        days = [(m.group(1), n) for n in tree.names if (m := _DAY.match(n))]
        if not days:
            raise ImportFormatError(N_("no <channel>/<day>.json in the Slack export"), file=fname)
        for folder, member in days:
            channel = channels.get(folder, {})
            chat = clip_id(channel.get("id") or folder)
            messages = tree.load(member)
            if not isinstance(messages, list):
                raise ImportFormatError(
                    N_("{member} is not a list of messages"), file=fname, member=member
                )
            for index, msg in enumerate(messages):
                if not isinstance(msg, dict):
                    raise ImportFormatError(
                        N_("{member}: item {index} is no object"),
                        file=fname,
                        member=member,
                        index=index,
                    )
                yield from _message(msg, chat, folder, member, index, users, fname)
    finally:
        tree.close()


def _message(
    msg: dict[str, Any],
    chat: str,
    folder: str,
    member: str,
    index: int,
    users: dict[str, str],
    fname: str,
) -> Iterator[Event]:
    ts = str(msg.get("ts") or "")
    try:
        when = utc_from_epoch(float(ts))
    except (ValueError, OverflowError):  # not a number, or a time no calendar holds
        raise ImportFormatError(
            N_("{member}: item {index} has no readable ts"),
            file=fname,
            member=member,
            index=index,
        ) from None
    subtype = msg.get("subtype")
    if subtype == "bot_add":  # "added an integration to this channel: <...|github>"
        for bot_id, bot_name in _SERVICE.findall(str(msg.get("text") or "")):
            users.setdefault(clip_id(bot_id), bot_name.strip())
    uid = clip_id(
        msg.get("user")
        or msg.get("bot_id")
        or msg.get("username")
        or obj(msg.get("comment")).get("user")
        or ""
    )
    bot_profile = obj(msg.get("bot_profile"))
    if msg.get("bot_id") and not msg.get("user"):  # a bot's own post: its own name first
        name = str(msg.get("username") or bot_profile.get("name") or users.get(uid) or uid)
    else:
        name = users.get(uid) or str(msg.get("username") or bot_profile.get("name") or uid)
    data: dict[str, Any] = {"file": fname, "member": member, "index": index, "chat_title": folder}
    event_id = f"{chat}:{ts}"
    if not uid:
        return
    if subtype in ("channel_join", "group_join", "channel_leave", "group_leave"):
        joined = subtype.endswith("_join")
        inviter = msg.get("inviter")
        if joined and inviter:
            data.update(inviter_user_id=str(inviter), inviter_name=users.get(str(inviter), ""))
        kind = EventKind.MEMBER_JOINED if joined else EventKind.MEMBER_LEFT
        yield member_event(SOURCE, event_id, kind, when, chat, uid, name, data, message_id=ts)
        return
    if subtype not in _MESSAGE_SUBTYPES:
        return
    text = plain_text(str(msg.get("text") or "") or _attachment_text(msg), users)
    thread = str(msg.get("thread_ts") or "")
    reply = thread if thread and thread != ts else ""
    data["reply_to"] = [reply] if reply else []
    data["reactions"] = reaction_count(msg.get("reactions"))
    if subtype == "bot_message" or msg.get("bot_id"):
        data["bot"] = True
        if msg.get("bot_id"):
            data["bot_id"] = str(msg["bot_id"])
    yield Event(
        source=SOURCE,
        event_id=event_id,
        kind=EventKind.MESSAGE,
        occurred_at=when,
        chat_id=chat,
        user_id=uid,
        user_name=name,
        message_id=ts,
        text=clean_text(text),
        content_kind=_kind(msg, text),
        reply_to_message_id=reply,
        data=data,
    )
