"""WeChat chats exported by WeChatMsg as CSV, with the columns
``localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,
Sender`` (in any order; a BOM is fine). One record can span several lines (quoted newlines):
``message_id`` is the 0-based line of its first line.

Types: 1 text, 3 picture, 34 voice, 43 video, 47 sticker, 48 location, 42 contact card,
49 app message (SubType 5 link: article for mp.weixin.qq.com, 6 file, 57 quote, 33/36 mini
program), 10000/10002 system lines: ``"张三"邀请"李四"加入了群聊`` (X invited Y), ``"李四"通过扫描
"张三"分享的二维码加入群聊`` (joined by X's QR code), ``你将"李四"移出了群聊`` (removed), and their
English forms. ``CreateTime`` (unix seconds) is used when present, else ``StrTime`` in
``Options.tz``.

Who is who: in a chatroom WeChatMsg writes the *sender's* contact in the last three columns:
``Remark`` (the operator's remark for them, or their nickname when there is none, with
``\\/:*?"<>|``, spaces and dots turned into ``_``), ``NickName`` (their WeChat nickname) and
``Sender`` (their wxid; a member no longer in the operator's contacts has the wxid in all
three). A message's ``user_id`` is the ``Sender`` (stable: names change, wxids do not), else
``me`` for ``IsSender=1``, else the name given; its ``user_name`` the remark when the operator set
one, else the nickname, else the wxid. System lines name people by their display name only, so
a first pass over the file learns which wxid each remark and nickname belongs to (``你``/``You``
is the ``IsSender=1`` rows' wxid): a notice's member (and inviter or remover) gets that wxid and
display name, so the join, the messages and the removal are one member. A name the file never
shows as a sender's, or one two senders share, stays a member known by that name only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from groupops.domain.events import MAX_NAME_LEN, ContentKind, Event, EventKind
from groupops.i18n import N_
from groupops.importers.base import ImportFormatError, Options, file_key, read_head, utc_from_epoch
from groupops.importers.encoding import GB18030, UTF8, text_stream
from groupops.importers.text import URL_RE, clean_name, clean_text, link_kind, text_kind, user_key

FORMAT = "wechat"
SOURCE = "import:wechat"
COLUMNS = (
    "localId",
    "TalkerId",
    "Type",
    "SubType",
    "IsSender",
    "CreateTime",
    "Status",
    "StrContent",
    "StrTime",
    "Remark",
    "NickName",
    "Sender",
)
REQUIRED = {"type", "strcontent"}
#: what a file must have to be read right: who sent a message is in the last three (without
#: them every member of a group would be the chat room), when in one of the times
NEEDED = ("Type", "IsSender", "StrContent", "Remark", "NickName", "Sender")
MISSING_COLUMNS = N_("missing columns {missing}: a WeChatMsg CSV has the columns {expected}")
NO_SENDER = N_(
    "a message in a group chat without its sender (Sender, NickName and Remark are empty)"
)

_TYPES = {
    1: ContentKind.TEXT,
    3: ContentKind.PICTURE,
    34: ContentKind.VOICE,
    43: ContentKind.VIDEO,
    47: ContentKind.STICKER,
    48: ContentKind.OTHER,
    42: ContentKind.OTHER,
    50: ContentKind.OTHER,
}
_Q = r"[\"“”'「」]"
_NAME = rf"{_Q}(?P<{{g}}>[^\"“”'「」]+){_Q}"
_INVITE = [
    re.compile(rf"^{_NAME.format(g='actor')}邀请{_NAME.format(g='targets')}加入了群聊"),
    re.compile(rf"^(?P<actor>你)邀请{_NAME.format(g='targets')}加入了群聊"),
    re.compile(rf"^{_NAME.format(g='actor')} invited {_NAME.format(g='targets')} to (?:the|join)"),
    re.compile(rf"^(?P<actor>You) invited {_NAME.format(g='targets')} to (?:the|join)"),
]
_T, _A = _NAME.format(g="targets"), _NAME.format(g="actor")
_QR = [
    re.compile(rf"^{_T} ?通过扫描 ?{_A} ?分享的二维码加入群聊"),
    re.compile(rf"^{_T} ?通过 ?{_A} ?的邀请二维码进入群聊"),
    re.compile(
        rf"^{_NAME.format(g='targets')} joined (?:the )?group chat via (?:the )?QR Code "
        rf"shared by {_NAME.format(g='actor')}"
    ),
]
_JOINED = [
    re.compile(rf"^{_NAME.format(g='targets')} ?加入了群聊"),
    re.compile(rf"^{_NAME.format(g='targets')} joined the group chat"),
]
_REMOVED = [
    re.compile(rf"^(?P<actor>你)将{_NAME.format(g='targets')}移出了群聊"),
    re.compile(rf"^{_NAME.format(g='actor')}将{_NAME.format(g='targets')}移出了群聊"),
    re.compile(rf"^(?P<actor>You) removed {_NAME.format(g='targets')} from the group chat"),
]
_LEFT = [
    re.compile(rf"^{_NAME.format(g='targets')} ?(?:已)?退出了群聊"),
    re.compile(rf"^{_NAME.format(g='targets')} left the group chat"),
]
_ME = "me"  # the user id of the exporting account when the file gives no wxid
_SPLIT = re.compile(r"[、,，]| and ")
_XML_URL = re.compile(r"<url>(?:<!\[CDATA\[)?\s*([^<\]]+)")
_XML_TYPE = re.compile(r"<type>(\d+)</type>")
_XML_TITLE = re.compile(r"<title>(?:<!\[CDATA\[)?([^<\]]*)")


def has_header(first_line: str) -> bool:
    cols = {c.strip().strip('"').casefold() for c in first_line.split(",")}
    return cols >= REQUIRED and ("createtime" in cols or "strtime" in cols)


def system_members(text: str) -> list[tuple[EventKind, str, str | None, str]]:
    """(kind, who, actor, via) for a WeChat system line."""
    line = text.strip()
    for patterns, kind, via in (
        (_INVITE, EventKind.MEMBER_JOINED, "invite"),
        (_QR, EventKind.MEMBER_JOINED, "qr_code"),
        (_REMOVED, EventKind.MEMBER_LEFT, "removed"),
        (_JOINED, EventKind.MEMBER_JOINED, ""),
        (_LEFT, EventKind.MEMBER_LEFT, ""),
    ):
        for p in patterns:
            m = p.match(line)
            if m:
                groups = m.groupdict()
                actor = clean_name(groups["actor"]) if groups.get("actor") else None
                if actor in ("你", "You"):
                    actor = _ME
                names = [clean_name(t) for t in _SPLIT.split(groups["targets"]) if t.strip()]
                return [(kind, n, actor, via) for n in names]
    return []


def content_kind(mtype: int, subtype: int, content: str) -> tuple[ContentKind, str]:
    """(kind, text to keep): app messages (49) keep their title (and URL) instead of XML; when
    WeChatMsg wrote them as plain text (a file's name, a link's address), that text."""
    if mtype == 49:
        xml_type = _XML_TYPE.search(content)
        sub = subtype or (int(xml_type.group(1)) if xml_type else 0)
        url_m = _XML_URL.search(content)
        title_m = _XML_TITLE.search(content)
        is_xml = bool(title_m or url_m or xml_type)
        title = title_m.group(1).strip() if title_m else ("" if is_xml else content.strip())
        url = url_m.group(1).strip() if url_m else ""
        if not url and not is_xml and (found := URL_RE.search(content)):
            url = found.group(0)
        if sub == 6:
            return ContentKind.FILE, title
        if sub == 57:
            return text_kind(title), title
        if url:
            return link_kind(url), title if url in title else f"{title} {url}".strip()
        if sub in (5, 4):
            return ContentKind.H5_LINK, title
        return ContentKind.OTHER, title
    kind = _TYPES.get(mtype)
    if kind is None:
        return ContentKind.OTHER, content
    if kind == ContentKind.TEXT:
        return text_kind(content), content
    return kind, content if mtype in (1, 48) else ""


def _int(value: str | None) -> int:
    try:
        return int(str(value or "0").strip() or 0)
    except ValueError:
        return -1


#: the characters WeChatMsg replaces with ``_`` in a remark (its file-name rule)
_REMARK_MANGLED = re.compile(r'[\\/:*?"<>|\s.]')


def display_name(sender: str, remark: str, nickname: str) -> str:
    """The name a member is shown by: the operator's remark for them when there is one (WeChatMsg
    writes the nickname, mangled, where there is none), else their nickname, else the wxid."""
    remark, nickname = clean_name(remark), clean_name(nickname)
    if remark and remark not in (sender, nickname, _REMARK_MANGLED.sub("_", nickname)):
        return remark[:MAX_NAME_LEN]
    return (nickname or remark or sender)[:MAX_NAME_LEN]


@dataclass
class People:
    """The senders of one file: each wxid's user id and display name, and which wxid the names
    in system lines (remarks, nicknames, ``你``) stand for."""

    shown: dict[str, tuple[str, str]] = field(default_factory=dict)  # wxid -> (user id, name)
    by_name: dict[str, set[str]] = field(default_factory=dict)  # name -> wxids
    me: set[str] = field(default_factory=set)  # wxids of the IsSender=1 rows

    def see(self, sender: str, remark: str, nickname: str, is_me: bool) -> None:
        if not sender:
            return
        if sender not in self.shown:
            self.shown[sender] = (user_key(sender), display_name(sender, remark, nickname))
        for name in (sender, clean_name(remark), clean_name(nickname)):
            if name:
                self.by_name.setdefault(name, set()).add(sender)
        if is_me:
            self.me.add(sender)

    def resolve(self, name: str) -> tuple[str, str]:
        """(user id, display name) of a name a system line gives (``me`` for you)."""
        wxids = self.me if name == _ME else self.by_name.get(name, set())
        if len(wxids) == 1:
            return self.shown[next(iter(wxids))]
        return user_key(name), name


def _records(
    path: Path, fname: str, options: Options | None = None
) -> Iterator[tuple[int, list[str], dict[str, int]]]:
    """(0-based line of its first line, fields, column -> index) of every non-empty record.
    The text is UTF-8 or, what Excel on Chinese Windows saves, GB18030 (see
    :class:`~groupops.importers.encoding.Transcoded`)."""
    with path.open("rb") as raw:
        text = text_stream(raw, fname, (UTF8, GB18030), options, newline="")
        reader = csv.reader(text)
        try:
            header = next(reader, None)
            if header is None or not has_header(",".join(header)):
                raise ImportFormatError(N_("not a WeChatMsg CSV header"), file=fname, line=0)
            cols = {c.strip().casefold(): i for i, c in enumerate(header)}
            missing = [c for c in NEEDED if c.casefold() not in cols]
            if missing:
                raise ImportFormatError(
                    MISSING_COLUMNS,
                    file=fname,
                    line=0,
                    missing=", ".join(missing),
                    expected=",".join(COLUMNS),
                )
            first = reader.line_num  # 0-based line of the next record's first line
            for row in reader:
                line = first
                first = reader.line_num
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                yield line, row, cols
        except csv.Error as exc:
            # line_num counts the lines read, the bad one included: its 0-based line is one less
            raise ImportFormatError(
                N_("malformed CSV: {detail}"),
                file=fname,
                line=max(reader.line_num - 1, 0),
                detail=str(exc),
            ) from None


def _get(row: list[str], cols: dict[str, int], name: str) -> str:
    i = cols.get(name.casefold())
    return row[i] if i is not None and i < len(row) else ""


def learn_people(path: Path, fname: str, options: Options | None = None) -> People:
    """The first pass: every sender's names. A file that breaks is left to the second pass to
    report (with its line)."""
    people = People()
    try:
        for _line, row, cols in _records(path, fname, options):
            if len(row) < len(cols) or _int(_get(row, cols, "Type")) in (10000, 10002):
                continue
            people.see(
                _get(row, cols, "Sender").strip(),
                _get(row, cols, "Remark"),
                _get(row, cols, "NickName"),
                _get(row, cols, "IsSender").strip() == "1",
            )
    except ImportFormatError:
        pass
    return people


def events(path: Path, options: Options) -> Iterator[Event]:
    fname = path.name
    key = file_key(read_head(path), FORMAT)
    chat = path.stem[:255] or "wechat"
    people = learn_people(path, fname, options)
    for line, row, cols in _records(path, fname, options):

        def get(name: str, row: list[str] = row, cols: dict[str, int] = cols) -> str:
            return _get(row, cols, name)

        if len(row) < len(cols):
            raise ImportFormatError(
                N_("{fields} fields, the header has {columns}"),
                file=fname,
                line=line,
                fields=len(row),
                columns=len(cols),
            )
        mtype = _int(get("Type"))
        if mtype < 0:
            raise ImportFormatError(
                N_("Type {value!r} is no number"), file=fname, line=line, value=get("Type")
            )
        when = _when(get("CreateTime"), get("StrTime"), options, fname, line)
        content = clean_text(get("StrContent"))
        data: dict[str, Any] = {"file": fname, "line": line, "type": mtype}
        talker = get("TalkerId")
        if talker:
            data["talker_id"] = talker
        local_id = get("localId")
        if mtype in (10000, 10002):
            for i, (kind, who, actor, via) in enumerate(system_members(content)):
                uid, name = people.resolve(who)
                extra: dict[str, Any] = {}
                if actor:
                    actor_id, actor_name = people.resolve(actor)
                    if kind == EventKind.MEMBER_JOINED:
                        extra = {"inviter_user_id": actor_id, "inviter_name": actor_name}
                    else:
                        extra = {"removed_by": actor_id, "removed_by_name": actor_name}
                if via in ("invite", "qr_code"):
                    extra["via"] = via
                yield Event(
                    source=SOURCE,
                    event_id=f"{key}:{line}" + (f".{i}" if i else ""),
                    kind=kind,
                    occurred_at=when,
                    chat_id=chat,
                    user_id=uid,
                    user_name=name,
                    data={**data, **extra},
                )
            continue
        is_me = get("IsSender").strip() == "1"
        sender = get("Sender").strip()
        if sender:
            uid, author = people.shown.get(sender) or (
                user_key(sender),
                display_name(sender, get("Remark"), get("NickName")),
            )
        else:
            author = _ME if is_me else (get("NickName").strip() or get("Remark").strip())
            if not author and talker.endswith("@chatroom"):
                # the chat room is nobody: a member made of it would merge everyone unnamed
                raise ImportFormatError(NO_SENDER, file=fname, line=line)
            author = author or talker
            uid = user_key(author) or "unknown"
        kind_, body = content_kind(mtype, _int(get("SubType")), content)
        if local_id:
            data["local_id"] = local_id
        yield Event(
            source=SOURCE,
            event_id=f"{key}:{line}",
            kind=EventKind.MESSAGE,
            occurred_at=when,
            chat_id=chat,
            user_id=uid,
            user_name=author,
            message_id=str(line),
            text=body,
            content_kind=kind_,
            data=data,
        )


def _when(create: str, str_time: str, options: Options, fname: str, line: int) -> datetime:
    create = create.strip()
    try:
        if create:
            value = float(create)
            if value > 1e11:  # milliseconds
                value /= 1000
            return utc_from_epoch(value)
        if str_time.strip():
            dt = datetime.fromisoformat(str_time.strip())
            return dt if dt.tzinfo else dt.replace(tzinfo=options.tz)
    except (ValueError, OverflowError):
        pass
    raise ImportFormatError(
        N_("no readable time: CreateTime {create!r}, StrTime {str_time!r}"),
        file=fname,
        line=line,
        create=create,
        str_time=str_time,
    )
