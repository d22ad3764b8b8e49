"""What the web chat reads from and does on the sandbox platform: thin over SandboxPlatform.

Reading is synchronous SQL (the routes run it in a worker thread); what a person does becomes
an Event the routes hand to the App's live loop.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, select

from groupops.domain.events import Event, EventKind
from groupops.features.gate.tables import gate_challenges
from groupops.i18n import N_
from groupops.platforms.sandbox import SandboxPlatform
from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.platform import (
    SandboxMessage,
    local_minute,
    reactions_now,
    renamed,
)
from groupops.platforms.sandbox.tables import sandbox_chats, sandbox_members, sandbox_messages
from groupops.storage.db import LARGEST_ID
from groupops.storage.tables import events, groups
from groupops.web.errors import InvalidInput, UnknownGroup

#: the sandbox groups `groupops serve` makes sure exist, so a person has something to pick
DEMO_GROUPS: tuple[tuple[str, str], ...] = (
    ("course", "Python 入门训练营"),
    ("brand", "小鹿咖啡会员群"),
    ("creators", "摄影创作者交流群"),
)

MAX_NAME = 64
#: a group's name, at most (Telegram's limit for a chat title)
MAX_TITLE = 128
MAX_TEXT = 4096
HISTORY = 50
POLL_LIMIT = 200
#: the quoted lines older than those shown a poll looks at, at most
QUOTED_LIMIT = 100
DELETED_LIMIT = 500


def ensure_groups(sandbox: SandboxPlatform, wanted: tuple[tuple[str, str], ...]) -> None:
    """Create the sandbox chats that are missing (an existing chat keeps its title)."""
    for chat_id, title in wanted:
        sandbox.create_chat(chat_id, title)


def _one_line(raw: str, field: str, most: int, words: tuple[str, str, str]) -> str:
    """``raw`` trimmed to one line (runs of spaces one), 1 to ``most`` characters, no control
    characters; else refused naming ``field`` with ``words`` (empty, too long, control)."""
    empty, too_long, control = words
    value = " ".join(raw.split())
    if not value:
        raise InvalidInput(empty, field=field)
    if len(value) > most:
        raise InvalidInput(too_long, field=field, n=len(value), most=most)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value):
        raise InvalidInput(control, field=field)
    return value


def clean_name(raw: str) -> str:
    """A display name: trimmed, 1 to 64 characters, no control characters."""
    return _one_line(
        raw,
        "name",
        MAX_NAME,
        (
            N_("the name is empty"),
            N_("the name has {n} characters; at most {most} are allowed"),
            N_("the name contains control characters"),
        ),
    )


def clean_title(raw: str) -> str:
    """A group's new name: trimmed, 1 to 128 characters (Telegram's limit), no control
    characters."""
    return _one_line(
        raw,
        "title",
        MAX_TITLE,
        (
            N_("the group name is empty"),
            N_("the group name has {n} characters; at most {most} are allowed"),
            N_("the group name contains control characters"),
        ),
    )


def clean_text(raw: str) -> str:
    if not raw.strip():
        raise InvalidInput(N_("the message is empty"), field="text")
    if len(raw) > MAX_TEXT:
        raise InvalidInput(
            N_("the message has {n} characters; at most {most} are allowed"),
            field="text",
            n=len(raw),
            most=MAX_TEXT,
        )
    return raw


def list_groups(sandbox: SandboxPlatform, viewer: str | None) -> list[dict[str, Any]]:
    """The sandbox groups with their active member counts, and the viewer's own status."""
    with sandbox.db.connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(
                select(sandbox_members.c.chat_id, func.count())
                .where(
                    sandbox_members.c.source == sandbox.source,
                    sandbox_members.c.status == "active",
                )
                .group_by(sandbox_members.c.chat_id)
            ).all()
        )
        mine: dict[str, str] = {}
        if viewer:
            mine = dict(
                conn.execute(
                    select(sandbox_members.c.chat_id, sandbox_members.c.status).where(
                        sandbox_members.c.source == sandbox.source,
                        sandbox_members.c.user_id == viewer,
                    )
                ).all()
            )
        chats = conn.execute(
            select(sandbox_chats.c.chat_id, sandbox_chats.c.title)
            .where(sandbox_chats.c.source == sandbox.source)
            .order_by(sandbox_chats.c.created_at, sandbox_chats.c.chat_id)
        ).all()
        conn.rollback()
    return [
        {
            "chat_id": c.chat_id,
            "title": c.title,
            "members": int(counts.get(c.chat_id, 0)),
            "status": mine.get(c.chat_id),
        }
        for c in chats
    ]


def require_chat(sandbox: SandboxPlatform, chat_id: str) -> str:
    """The chat's title; NotFound names the chat when there is none."""
    with sandbox.db.connect() as conn:
        title = conn.execute(
            select(sandbox_chats.c.title).where(
                sandbox_chats.c.source == sandbox.source, sandbox_chats.c.chat_id == chat_id
            )
        ).scalar()
        conn.rollback()
    if title is None:
        raise UnknownGroup(N_("no sandbox group {chat!r}"), where=chat_id, chat=chat_id)
    return str(title)


@dataclass(frozen=True)
class Me:
    status: str | None
    name: str | None
    muted_until: str | None
    #: the mute's end to the minute in the group's time zone, as the refusal says it
    muted_until_local: str | None = None
    admin: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "name": self.name,
            "muted_until": self.muted_until,
            "muted_until_local": self.muted_until_local,
            "admin": self.admin,
        }


def me_in(sandbox: SandboxPlatform, chat_id: str, viewer: str | None, now: Any) -> Me:
    row = sandbox.member_status(chat_id, viewer) if viewer else None
    if row is None:
        return Me(None, None, None)
    muted = row.get("muted_until")
    admin = bool(row.get("is_admin"))
    if muted is None or muted <= now:
        return Me(str(row["status"]), str(row["name"]), None, admin=admin)
    local = local_minute(muted, sandbox.zone(chat_id))
    return Me(str(row["status"]), str(row["name"]), muted.isoformat(), local, admin)


def join(sandbox: SandboxPlatform, chat_id: str, viewer: str, name: str) -> Event | None:
    """Join the chat under ``name``; None when the person is in it already (nothing happens)."""
    require_chat(sandbox, chat_id)
    row = sandbox.member_status(chat_id, viewer)
    if row is not None and row["status"] == "active":
        return None
    return sandbox.join(chat_id, viewer, name)


def _system(m: SandboxMessage, names: dict[str, str]) -> dict[str, str] | None:
    """The structured form of a platform notice, so the page can say it in its language
    (None: a notice the page shows as it is)."""
    if m.user_id != BOT_ID:
        for verb in ("joined", "left"):
            if m.text == f"{m.user_name} {verb}":
                return {"event": verb, "name": m.user_name}
        if m.text.startswith(renamed(m.user_name, "")):
            title = m.text.removeprefix(renamed(m.user_name, ""))
            return {"event": "renamed", "name": m.user_name, "title": title}
    else:
        subject, _, verb = m.text.rpartition(" ")
        if verb in ("muted", "kicked", "banned") and subject:
            return {"event": verb, "name": names.get(subject, subject)}
    return None


def _shown(m: SandboxMessage, names: dict[str, str]) -> tuple[str, dict[str, str] | None]:
    """A line's text as the page shows it ("" once removed) and, for a platform notice, its
    structured form."""
    notice = _system(m, names) if m.kind == "system" else None
    if m.deleted:
        return "", notice
    if notice is not None and m.user_id == BOT_ID:  # the line names a user id: say the name
        return f"{notice['name']} {notice['event']}", notice
    return m.text, notice


#: how many characters of the answered line a reply's quote shows (cut with an ellipsis)
QUOTE_CHARS = 80


def _cut(text: str, most: int = QUOTE_CHARS) -> str:
    """``text`` on one line (runs of spaces and line breaks one space), at most ``most``
    characters: longer, it is cut and ends with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= most else line[: most - 1].rstrip() + "…"


def _quote(line_id: int, m: SandboxMessage | None, names: dict[str, str]) -> dict[str, Any]:
    """What a reply shows of the line it answers: its author and the start of its text. A
    removed line, one no longer there (forgotten) or one the viewer cannot see (another's
    private message) is ``deleted``, with no text, as Telegram shows "Deleted message"."""
    if m is None:
        return {"id": line_id, "name": "", "bot": False, "text": "", "deleted": True}
    text, notice = _shown(m, names)
    out: dict[str, Any] = {
        "id": line_id,
        "name": m.user_name,
        "bot": m.user_id == BOT_ID,
        "text": _cut(text),
        "deleted": m.deleted,
    }
    if notice is not None and not m.deleted:
        out["notice"] = notice
    return out


def _answered(
    sandbox: SandboxPlatform, chat_id: str, rows: list[SandboxMessage], viewer: str
) -> list[SandboxMessage]:
    """The lines the replies among ``rows`` answer, as ``viewer`` may see them."""
    ids = {int(m.reply_to) for m in rows if m.reply_to.isdigit() and len(m.reply_to) <= 19}
    ids = {i for i in ids if 0 < i <= LARGEST_ID}
    return sandbox.lines(chat_id, ids, viewer=viewer)


def _present(
    m: SandboxMessage,
    viewer: str | None,
    names: dict[str, str],
    answered: dict[int, SandboxMessage],
) -> dict[str, Any]:
    text, notice = _shown(m, names)
    out: dict[str, Any] = {
        "id": m.id,
        "kind": m.kind,
        "name": m.user_name,
        "text": text,
        "at": m.created_at.isoformat(),
        "deleted": m.deleted,
        "mine": bool(viewer) and m.user_id == viewer,
        "bot": m.user_id == BOT_ID,
        "reply_to": m.reply_to,
    }
    buttons = getattr(m, "buttons", None)
    if buttons and not m.deleted:
        out["buttons"] = buttons
    if m.reply_to.isdigit() and not m.deleted:  # a reply: what it answers, quoted
        line_id = int(m.reply_to)
        out["quote"] = _quote(line_id, answered.get(line_id), names)
    if notice is not None:
        out["notice"] = notice
    return out


def _names(sandbox: SandboxPlatform, chat_id: str, rows: list[SandboxMessage]) -> dict[str, str]:
    """Display names of the people the bot's notices mention (they name user ids)."""
    wanted = {m.text.rpartition(" ")[0] for m in rows if m.kind == "system" and m.user_id == BOT_ID}
    wanted.discard("")
    if not wanted:
        return {}
    with sandbox.db.connect() as conn:
        found = conn.execute(
            select(sandbox_members.c.user_id, sandbox_members.c.name).where(
                sandbox_members.c.source == sandbox.source,
                sandbox_members.c.chat_id == chat_id,
                sandbox_members.c.user_id.in_(sorted(wanted)),
            )
        ).all()
        conn.rollback()
    return {r.user_id: r.name for r in found}


def _history_start(sandbox: SandboxPlatform, chat_id: str, count: int) -> int:
    """The id after which the chat's last ``count`` lines begin."""
    with sandbox.db.connect() as conn:
        start = conn.execute(
            select(sandbox_messages.c.id)
            .where(
                sandbox_messages.c.source == sandbox.source,
                sandbox_messages.c.chat_id == chat_id,
            )
            .order_by(sandbox_messages.c.id.desc())
            .offset(count)
            .limit(1)
        ).scalar()
        conn.rollback()
    return int(start or 0)


def _deleted_between(sandbox: SandboxPlatform, chat_id: str, since: int, upto: int) -> list[int]:
    if upto <= since:
        return []
    with sandbox.db.connect() as conn:
        ids = conn.execute(
            select(sandbox_messages.c.id)
            .where(
                sandbox_messages.c.source == sandbox.source,
                sandbox_messages.c.chat_id == chat_id,
                sandbox_messages.c.deleted.is_(True),
                sandbox_messages.c.id > since,
                sandbox_messages.c.id <= upto,
            )
            .order_by(sandbox_messages.c.id.desc())
            .limit(DELETED_LIMIT)
        ).scalars()
        result = sorted(int(i) for i in ids)
        conn.rollback()
    return result


#: what the page says under a question whose buttons no longer count
ANSWERED, EXPIRED, CLOSED = "answered", "expired", "closed"
GATE_BUTTON = "gate:"


def _question_states(
    sandbox: SandboxPlatform, chat_id: str, since: int, upto: int, now: datetime
) -> dict[str, str]:
    """The bot's questions among the lines in ``(since, upto]`` that are settled, by line id:
    the join gate's question once the newcomer has answered it (``answered``), ran out of time
    (``expired``) or left or was removed before answering (``closed``). Pressing their buttons
    changes nothing any more, so the page disables them."""
    if upto <= since:
        return {}
    m = sandbox_messages.c
    with sandbox.db.connect() as conn:
        rows = conn.execute(
            select(m.id, m.buttons).where(
                m.source == sandbox.source,
                m.chat_id == chat_id,
                m.user_id == BOT_ID,
                m.id > since,
                m.id <= upto,
                m.deleted.is_(False),
                m.buttons.is_not(None),
                cast(m.buttons, String) != "null",
            )
        ).all()
        lines: dict[int, int] = {}  # challenge id -> line id
        for row in rows:
            for button in (b for r in row.buttons or [] for b in r):
                data = str(button.get("data", ""))
                cid = data.removeprefix(GATE_BUTTON).partition(":")[0]
                if data.startswith(GATE_BUTTON) and cid.isdigit():
                    lines[int(cid)] = int(row.id)
                    break
        c = gate_challenges.c
        found = (
            conn.execute(
                select(c.id, c.status, c.deadline, c.ended_at).where(c.id.in_(sorted(lines)))
            ).all()
            if lines
            else []
        )
        conn.rollback()
    states: dict[str, str] = {}
    for ch in found:
        if ch.status == "passed":
            state = ANSWERED
        elif ch.status == "failed":  # wrong answers, or no answer in time
            state = EXPIRED if ch.ended_at is None or ch.ended_at >= ch.deadline else ANSWERED
        elif ch.status == "pending":
            if ch.deadline > now:
                continue
            state = EXPIRED  # removed at the next tick
        else:
            state = CLOSED
        states[str(lines[int(ch.id)])] = state
    return states


#: the reactions the page offers (the API takes any short one)
MAX_EMOJI = 16
#: the lines whose reactions one query reads (a poll's lines in a few queries: the values
#: sent stay well under any database's limit)
LINES_AT_ONCE = 500


def clean_emoji(raw: str) -> str:
    emoji = raw.strip()
    if not emoji or len(emoji) > MAX_EMOJI or any(ch.isspace() for ch in emoji):
        raise InvalidInput(
            N_("a reaction is one emoji (at most {most} characters, no spaces)"),
            field="emoji",
            most=MAX_EMOJI,
        )
    return emoji


def _reactions(
    sandbox: SandboxPlatform, chat_id: str, since: int, upto: int, viewer: str | None
) -> tuple[dict[str, dict[str, int]], dict[str, list[str]]]:
    """The reactions standing on the lines in ``(since, upto]``, by line id: how many people
    give each (``{"12": {"👍": 2}}``), and which the viewer gives (``{"12": ["👍"]}``). Read
    from the events the engine stored (:func:`reactions_now`: a reaction given twice counts
    once, one taken back no more): only those to these lines, found through the chat's lines
    in that range and each line's events (ix_sandbox_messages_chat, ix_events_message), so a
    poll costs what it shows, not the group's whole history of reactions."""
    if upto <= since:
        return {}, {}
    e, m = events.c, sandbox_messages.c
    rows: list[Any] = []
    with sandbox.db.connect() as conn:
        group_id = conn.execute(
            select(groups.c.id).where(
                groups.c.source == sandbox.source, groups.c.chat_id == chat_id
            )
        ).scalar()
        lines = (
            [
                str(i)
                for i in conn.execute(
                    select(m.id).where(
                        m.source == sandbox.source, m.chat_id == chat_id, m.id > since, m.id <= upto
                    )
                ).scalars()
            ]
            if group_id is not None
            else []
        )
        # the line ids as values: as a subquery, PostgreSQL without statistics of the tables
        # yet joined the chat's every reaction to the lines. The group is compared here, not
        # in SQL, where SQLite would take ix_events_group_kind_time for it (the group's every
        # reaction again)
        for i in range(0, len(lines), LINES_AT_ONCE):
            rows += (
                row
                for row in conn.execute(
                    select(e.seq, e.message_id, e.user_id, e.payload, e.group_id).where(
                        e.source == sandbox.source,
                        e.chat_id == chat_id,
                        e.message_id.in_(lines[i : i + LINES_AT_ONCE]),
                        e.kind == EventKind.REACTION.value,
                    )
                )
                if row.group_id == group_id
            )
        conn.rollback()
    rows.sort(key=lambda row: int(row.seq))  # the order stored, as reactions_now reads it
    counts: dict[str, dict[str, int]] = {}
    mine: dict[str, list[str]] = {}
    for (line, user, emoji), reacted in reactions_now(rows).items():
        if not reacted.standing or not line.isdigit() or not since < int(line) <= upto:
            continue
        on_line = counts.setdefault(line, {})
        on_line[emoji] = on_line.get(emoji, 0) + 1
        if viewer and user == viewer:
            mine.setdefault(line, []).append(emoji)
    return counts, mine


def _gone(sandbox: SandboxPlatform, chat_id: str, ids: Sequence[int], viewer: str) -> list[int]:
    """Which of the lines ``ids`` are removed, or no longer there for ``viewer``: what a quote
    of them says (see :func:`_quote`)."""
    there = {m.id: m for m in sandbox.lines(chat_id, ids, viewer=viewer)}
    return sorted(i for i in set(ids) if i not in there or there[i].deleted)


def poll(
    sandbox: SandboxPlatform,
    chat_id: str,
    viewer: str | None,
    *,
    after: int | None,
    since: int,
    now: Any,
    quoted: Sequence[int] = (),
) -> dict[str, Any]:
    """New lines of the chat after ``after`` (the last ``HISTORY`` lines when None), the ids of
    lines in ``(since, after]`` removed meanwhile, and the viewer's own status. ``quoted``: the
    lines older than those shown that the replies shown quote (at most ``QUOTED_LIMIT``): those
    removed (or gone) are among the ``deleted`` too, so their quotes say so, as they would on
    a page opened now."""
    title = require_chat(sandbox, chat_id)
    start = _history_start(sandbox, chat_id, HISTORY) if after is None else after
    rows = sandbox.messages(chat_id, after=start, limit=POLL_LIMIT, viewer=viewer or "")
    answered = {m.id: m for m in _answered(sandbox, chat_id, rows, viewer or "")}
    names = _names(sandbox, chat_id, [*rows, *answered.values()])
    deleted = _deleted_between(sandbox, chat_id, since, after) if after is not None else []
    earlier = [i for i in quoted[:QUOTED_LIMIT] if i <= since]
    if earlier and after is not None:
        deleted = sorted({*deleted, *_gone(sandbox, chat_id, earlier, viewer or "")})
    last = rows[-1].id if rows else start
    zone = sandbox.zone(chat_id)
    shown_from = since if after is not None else start
    reactions, my_reactions = _reactions(sandbox, chat_id, shown_from, last, viewer)
    return {
        "title": title,  # the group's name now (renamed meanwhile: the page follows)
        "messages": [_present(m, viewer, names, answered) for m in rows],
        "deleted": deleted,
        "questions": _question_states(sandbox, chat_id, shown_from, last, now),
        "reactions": reactions,
        "my_reactions": my_reactions,
        "zone": zone,
        # the engine's time (moved forward with --movable-clock), in the group's zone
        "now": now.isoformat(),
        "now_local": local_minute(now, zone),
        "last_id": last,
        # a full page means more is waiting: the page asks again at once
        "more": len(rows) >= POLL_LIMIT,
        "me": me_in(sandbox, chat_id, viewer, now).to_json(),
    }


def older(
    sandbox: SandboxPlatform, chat_id: str, viewer: str | None, *, before: int, to: int
) -> dict[str, Any]:
    """The lines a page showing the chat from line ``before`` on loads to reach the older line
    ``to`` (a quote's): at most ``POLL_LIMIT`` of them, the newest below ``before``, oldest
    first. ``found``: whether ``to`` is a line of the chat ``viewer`` can see (else no lines:
    it is gone); ``more``: lines wait between ``to`` and those (ask again with ``before`` =
    ``oldest``); ``oldest``: the lowest id read."""
    require_chat(sandbox, chat_id)
    seeing = viewer or ""
    if not sandbox.lines(chat_id, [to], viewer=seeing):
        return {"found": False, "messages": [], "more": False, "oldest": before}
    if to >= before:  # among those shown already
        return {"found": True, "messages": [], "more": False, "oldest": before}
    rows, oldest = sandbox.messages_before(
        chat_id, before, down_to=to, limit=POLL_LIMIT, viewer=seeing
    )
    answered = {m.id: m for m in _answered(sandbox, chat_id, rows, seeing)}
    names = _names(sandbox, chat_id, [*rows, *answered.values()])
    return {
        "found": True,
        "messages": [_present(m, viewer, names, answered) for m in rows],
        "more": oldest > to,
        "oldest": oldest,
    }
