"""The sandbox's 'servers': people join, post and leave here, and each act becomes an Event.

The web chat and the simulator call this; the engine never does (it only sees events).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, Engine, insert, select, update

from groupops.domain.errors import GroupopsError, NotFound
from groupops.domain.events import ContentKind, Event, EventKind
from groupops.engine.clock import Clock
from groupops.i18n import N_
from groupops.platforms.sandbox.tables import sandbox_chats, sandbox_members, sandbox_messages
from groupops.storage.tables import events, groups

MAX_SANDBOX_TEXT = 64 * 1024


def local_minute(when: datetime, zone: str) -> str:
    """``when`` to the minute in ``zone``, as refusals and the web chat say it."""
    return f"{when.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"


#: the line a rename leaves in the chat (the web chat says it in the reader's language)
RENAMED = " renamed the group to "


def renamed(name: str, title: str) -> str:
    """The chat's line for ``name`` renaming it to ``title``."""
    return f"{name}{RENAMED}{title}"


@dataclass(frozen=True)
class Reacted:
    """What a person did with one emoji on one line: how many reaction events of theirs the
    engine stored for it (given, taken back, given again …), and whether it stands now."""

    events: int = 0
    standing: bool = False


def reactions_now(rows: Iterable[Any]) -> dict[tuple[str, str, str], Reacted]:
    """The reactions to sandbox lines as they stand, by (line id, user id, emoji), from the
    reaction events the engine stored (rows of ``message_id``, ``user_id``, ``payload``, in the
    order stored): the sandbox keeps no reactions of its own, the web chat's are those events.
    The latest event of a person's emoji on a line says whether it stands (a removal names the
    emojis taken back in ``removed_emojis``)."""
    now: dict[tuple[str, str, str], Reacted] = {}
    for row in rows:
        data = (row.payload or {}).get("data") or {}
        line, user = str(row.message_id), str(row.user_id)
        removed = bool(data.get("removed"))
        emojis = [str(e) for e in data.get("removed_emojis") or []] if removed else []
        for emoji in emojis or [str(data.get("emoji", "👍"))]:
            before = now.get((line, user, emoji), Reacted())
            now[(line, user, emoji)] = Reacted(before.events + 1, not removed)
    return now


def reaction_event_id(line: str, user_id: str, emoji: str, act: int) -> str:
    """The event id of a person's ``act``-th reaction event (from 0) with ``emoji`` on
    ``line``: the first keeps the id a reaction always had (the same reaction twice is stored
    once), each later one (taken back, given again) its own."""
    key = f"{line}:{user_id}:{emoji}"
    return f"r{key}" if act == 0 else f"r{act}/{key}"


class SandboxRefused(GroupopsError):
    """The platform refused what a person tried (muted, banned, not a member, too long)."""

    code = "sandbox_refused"


@dataclass(frozen=True)
class SandboxMessage:
    id: int
    chat_id: str
    user_id: str
    user_name: str
    kind: str
    text: str
    reply_to: str
    created_at: datetime
    deleted: bool
    to_user_id: str
    buttons: list[list[dict[str, str]]] | None = None


class SandboxPlatform:
    def __init__(self, db: Engine, clock: Clock, source: str = "sandbox") -> None:
        self.db = db
        self.clock = clock
        self.source = source

    # -- chats -----------------------------------------------------------------------------
    def create_chat(self, chat_id: str, title: str) -> None:
        with self.db.begin() as conn:
            exists = conn.execute(
                select(sandbox_chats.c.chat_id).where(
                    sandbox_chats.c.source == self.source, sandbox_chats.c.chat_id == chat_id
                )
            ).first()
            if not exists:
                conn.execute(
                    insert(sandbox_chats).values(
                        source=self.source,
                        chat_id=chat_id,
                        title=title,
                        created_at=self.clock.now(),
                    )
                )

    def chats(self) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            rows = conn.execute(
                select(sandbox_chats).where(sandbox_chats.c.source == self.source)
            ).all()
        return [dict(r._mapping) for r in rows]

    def _chat_title(self, conn: Connection, chat_id: str) -> str:
        title = conn.execute(
            select(sandbox_chats.c.title).where(
                sandbox_chats.c.source == self.source, sandbox_chats.c.chat_id == chat_id
            )
        ).scalar()
        if title is None:
            raise NotFound(N_("no sandbox chat {chat!r}"), where=self.source, chat=chat_id)
        return str(title)

    def _member(self, conn: Connection, chat_id: str, user_id: str) -> Any:
        return conn.execute(
            select(sandbox_members).where(
                sandbox_members.c.source == self.source,
                sandbox_members.c.chat_id == chat_id,
                sandbox_members.c.user_id == user_id,
            )
        ).first()

    def _not_member(self, conn: Connection, chat_id: str, user_id: str, row: Any) -> SandboxRefused:
        """The refusal of someone not (or no longer) in the chat, by the name the chat knows
        them by, else the name they use in another chat: a user id means nothing to anyone."""
        name = row.name if row is not None and row.name else None
        if name is None:
            name = conn.execute(
                select(sandbox_members.c.name)
                .where(
                    sandbox_members.c.source == self.source,
                    sandbox_members.c.user_id == user_id,
                    sandbox_members.c.name != "",
                )
                .limit(1)
            ).scalar()
        if not name:
            return SandboxRefused(N_("not a member of this chat"), where=chat_id)
        return SandboxRefused(N_("{user} is not a member of this chat"), where=chat_id, user=name)

    def zone(self, chat_id: str) -> str:
        """The time zone of the chat's group (see ``_zone``)."""
        with self.db.connect() as conn:
            found = self._zone(conn, chat_id)
            conn.rollback()
        return found

    def _zone(self, conn: Connection, chat_id: str) -> str:
        """The time zone of the chat's group (``groupops settings profile``), UTC while groupops
        knows no group for it or its zone is unknown here."""
        zone = conn.execute(
            select(groups.c.timezone).where(
                groups.c.source == self.source, groups.c.chat_id == chat_id
            )
        ).scalar()
        try:
            ZoneInfo(str(zone))
        except (ValueError, ZoneInfoNotFoundError):
            return "UTC"
        return str(zone)

    def _line(
        self,
        conn: Connection,
        chat_id: str,
        user_id: str,
        name: str,
        kind: str,
        text: str,
        reply_to: str = "",
        to_user_id: str = "",
    ) -> int:
        return int(
            conn.execute(
                insert(sandbox_messages)
                .values(
                    source=self.source,
                    chat_id=chat_id,
                    user_id=user_id,
                    user_name=name,
                    kind=kind,
                    text=text,
                    reply_to=reply_to,
                    to_user_id=to_user_id,
                    created_at=self.clock.now(),
                    deleted=False,
                    pinned=False,
                )
                .returning(sandbox_messages.c.id)
            ).scalar_one()
        )

    # -- what people do --------------------------------------------------------------------
    def join(
        self,
        chat_id: str,
        user_id: str,
        name: str,
        *,
        is_admin: bool = False,
        invite_link: str = "",
        inviter_user_id: str = "",
    ) -> Event:
        with self.db.begin() as conn:
            title = self._chat_title(conn, chat_id)
            row = self._member(conn, chat_id, user_id)
            if row is not None and row.status == "banned":
                raise SandboxRefused(
                    N_("{name} is banned from {title}"), where=chat_id, name=name, title=title
                )
            if row is not None:
                is_admin = is_admin or bool(row.is_admin)  # an admin who comes back still is
            if row is None:
                conn.execute(
                    insert(sandbox_members).values(
                        source=self.source,
                        chat_id=chat_id,
                        user_id=user_id,
                        name=name,
                        status="active",
                        is_admin=is_admin,
                        started_bot=True,
                    )
                )
            else:
                self._set_member(conn, chat_id, user_id, status="active", name=name)
            line = self._line(conn, chat_id, user_id, name, "system", f"{name} joined")
        data: dict[str, Any] = {"chat_title": title}
        if invite_link:
            data["invite_link"] = invite_link
        if inviter_user_id:
            data["inviter_user_id"] = inviter_user_id
        return Event(
            self.source,
            f"m{line}",
            EventKind.MEMBER_JOINED,
            self.clock.now(),
            chat_id=chat_id,
            user_id=user_id,
            user_name=name,
            is_admin=is_admin,
            data=data,
        )

    def _active_member(self, conn: Connection, chat_id: str, user_id: str) -> Any:
        """The member's row in the chat; refused (not_member) unless they are in it now."""
        row = self._member(conn, chat_id, user_id)
        if row is None or row.status != "active":
            raise self._not_member(conn, chat_id, user_id, row)
        return row

    def _set_member(self, conn: Connection, chat_id: str, user_id: str, **values: Any) -> None:
        conn.execute(
            update(sandbox_members)
            .where(
                sandbox_members.c.source == self.source,
                sandbox_members.c.chat_id == chat_id,
                sandbox_members.c.user_id == user_id,
            )
            .values(**values)
        )

    def leave(self, chat_id: str, user_id: str) -> Event:
        with self.db.begin() as conn:
            row = self._active_member(conn, chat_id, user_id)
            self._set_member(conn, chat_id, user_id, status="left")
            line = self._line(conn, chat_id, user_id, row.name, "system", f"{row.name} left")
        return Event(
            self.source,
            f"m{line}",
            EventKind.MEMBER_LEFT,
            self.clock.now(),
            chat_id=chat_id,
            user_id=user_id,
            user_name=row.name,
        )

    def post(
        self,
        chat_id: str,
        user_id: str,
        text: str,
        *,
        reply_to: str = "",
        content_kind: ContentKind = ContentKind.TEXT,
        as_member: bool = False,
    ) -> Event:
        """A message; ``reply_to`` names the line it answers: a line of this chat the person
        can see (not a notice, not another's private message), else NotFound. With
        ``as_member`` (a person in the web chat) a removed line is not found either, as
        Telegram refuses a reply to a deleted message ("message to be replied not found");
        the simulator's people may still answer a line removed meanwhile."""
        if len(text) > MAX_SANDBOX_TEXT:
            raise SandboxRefused(
                N_("message of {length} characters is over the {limit} limit"),
                where=chat_id,
                length=len(text),
                limit=MAX_SANDBOX_TEXT,
            )
        if not text.strip():
            raise SandboxRefused(N_("empty message"), where=chat_id)
        text = text.replace("\x00", "")
        now = self.clock.now()
        with self.db.begin() as conn:
            row = self._active_member(conn, chat_id, user_id)
            if row.muted_until is not None and row.muted_until > now:
                zone = self._zone(conn, chat_id)
                raise SandboxRefused(
                    N_("{name} is muted until {until} ({zone})"),
                    where=chat_id,
                    name=row.name,
                    until=local_minute(row.muted_until, zone),
                    zone=zone,
                )
            reply_user = ""
            if reply_to:
                answered = conn.execute(
                    select(
                        sandbox_messages.c.user_id,
                        sandbox_messages.c.to_user_id,
                        sandbox_messages.c.deleted,
                    ).where(
                        sandbox_messages.c.source == self.source,
                        sandbox_messages.c.chat_id == chat_id,
                        sandbox_messages.c.kind != "system",
                        sandbox_messages.c.id == (int(reply_to) if reply_to.isdigit() else -1),
                    )
                ).first()
                # a line of this chat the person can see (not another's private message)
                if answered is None or answered.to_user_id not in ("", user_id):
                    raise NotFound(N_("no message {id}"), where=chat_id, id=reply_to)
                if as_member and answered.deleted:
                    raise NotFound(
                        N_("message {id} was removed: it cannot be replied to"),
                        where=chat_id,
                        id=reply_to,
                    )
                reply_user = str(answered.user_id)
            line = self._line(conn, chat_id, user_id, row.name, "message", text, reply_to)
        return Event(
            self.source,
            f"m{line}",
            EventKind.MESSAGE,
            now,
            chat_id=chat_id,
            user_id=user_id,
            user_name=row.name,
            message_id=str(line),
            text=text,
            content_kind=content_kind,
            reply_to_message_id=reply_to,
            reply_to_user_id=reply_user,
            is_admin=bool(row.is_admin),
        )

    def _reaction_target(
        self, chat_id: str, user_id: str, message_id: str, emoji: str, as_member: bool
    ) -> tuple[str, str, bool, Reacted]:
        """Whom a reaction to line ``message_id`` is to (its author), the reactor's name and
        whether they are an admin, and what they did with ``emoji`` on that line so far (only
        with ``as_member``: the simulator never takes one back). See :meth:`react`."""
        m = sandbox_messages.c
        line_id = int(message_id) if message_id.isdigit() else -1
        name, is_admin, acts = "", False, Reacted()
        with self.db.connect() as conn:
            if as_member:
                found = conn.execute(
                    select(m.user_id, m.kind, m.to_user_id, m.deleted).where(
                        m.source == self.source, m.chat_id == chat_id, m.id == line_id
                    )
                ).first()
                member = self._member(conn, chat_id, user_id)
                if member is None or member.status != "active":
                    refusal = self._not_member(conn, chat_id, user_id, member)
                    conn.rollback()
                    raise refusal
                name, is_admin = str(member.name), bool(member.is_admin)
                target = None
                if found is not None and found.kind != "system" and not found.deleted:
                    target = found.user_id if found.to_user_id in ("", user_id) else None
                if target is not None:
                    e = events.c
                    given = conn.execute(
                        select(e.message_id, e.user_id, e.payload)
                        .where(
                            e.source == self.source,
                            e.chat_id == chat_id,
                            e.message_id == message_id,
                            e.user_id == user_id,
                            e.kind == EventKind.REACTION.value,
                        )
                        .order_by(e.seq)
                    ).all()
                    acts = reactions_now(given).get((message_id, user_id, emoji), acts)
            else:  # a line of this chat, as on Telegram (not one of another chat's)
                target = conn.execute(
                    select(m.user_id).where(
                        m.source == self.source, m.chat_id == chat_id, m.id == line_id
                    )
                ).scalar()
            conn.rollback()
        if target is None:
            raise NotFound(N_("no message {id}"), where=chat_id, id=message_id)
        return str(target), name, is_admin, acts

    def react(
        self,
        chat_id: str,
        user_id: str,
        message_id: str,
        emoji: str = "👍",
        *,
        as_member: bool = False,
    ) -> Event:
        """A reaction to line ``message_id``. With ``as_member`` (a person in the web chat) the
        line must be one of this chat they can see, not removed, and they must be in the chat,
        as on a real platform; without it (the simulator) only the line must be one of this
        chat. A reaction the person has given already is the same event again (stored once: it
        counts once)."""
        target, name, is_admin, acts = self._reaction_target(
            chat_id, user_id, message_id, emoji, as_member
        )
        act = acts.events - 1 if acts.standing else acts.events
        return Event(
            self.source,
            reaction_event_id(message_id, user_id, emoji, act),
            EventKind.REACTION,
            self.clock.now(),
            chat_id=chat_id,
            user_id=user_id,
            user_name=name,
            message_id=message_id,
            reply_to_user_id=target,
            is_admin=is_admin,
            data={"emoji": emoji},
        )

    def unreact(
        self, chat_id: str, user_id: str, message_id: str, emoji: str = "👍"
    ) -> Event | None:
        """A person takes back their reaction ``emoji`` to line ``message_id`` (the web chat:
        the same checks as :meth:`react` with ``as_member``). The event is a reaction taken
        back as Telegram and Matrix deliver one (``removed``, with the emoji in
        ``removed_emojis``, the line in ``reply_to_message_id`` and its author); None when the
        person has no such reaction standing: nothing happens."""
        target, name, is_admin, acts = self._reaction_target(
            chat_id, user_id, message_id, emoji, True
        )
        if not acts.standing:
            return None
        return Event(
            self.source,
            reaction_event_id(message_id, user_id, emoji, acts.events),
            EventKind.REACTION,
            self.clock.now(),
            chat_id=chat_id,
            user_id=user_id,
            user_name=name,
            message_id=message_id,
            reply_to_message_id=message_id,
            reply_to_user_id=target,
            is_admin=is_admin,
            data={"emoji": emoji, "removed": True, "removed_emojis": [emoji]},
        )

    def rename(self, chat_id: str, user_id: str, title: str) -> Event | None:
        """An admin of the chat renames it (as on Telegram and Matrix, where only admins may by
        default): the chat's title changes, the chat gets a line saying so, and the event is
        ``group_updated`` with the new title, as Telegram's ``new_chat_title`` and Matrix's
        ``m.room.name`` are (the engine's group takes the title from it). None when the chat
        has that title already: nothing happens. ``title`` is clean (the web chat's
        ``clean_title``), as :meth:`join`'s name is."""
        with self.db.begin() as conn:
            before = self._chat_title(conn, chat_id)
            row = self._active_member(conn, chat_id, user_id)
            if not row.is_admin:
                raise SandboxRefused(N_("only an admin can rename the group"), where=chat_id)
            if title == before:
                return None
            conn.execute(
                update(sandbox_chats)
                .where(sandbox_chats.c.source == self.source, sandbox_chats.c.chat_id == chat_id)
                .values(title=title)
            )
            line = self._line(conn, chat_id, user_id, row.name, "system", renamed(row.name, title))
        return Event(
            self.source,
            f"m{line}",
            EventKind.GROUP_UPDATED,
            self.clock.now(),
            chat_id=chat_id,
            user_id=user_id,
            user_name=row.name,
            message_id=str(line),
            is_admin=True,
            data={"chat_title": title},
        )

    def set_admin(self, chat_id: str, user_id: str, admin: bool) -> None:
        """Make a member of the chat an admin, or no longer one. The bot learns it from their
        next message (each message says whether its author is an admin)."""
        with self.db.begin() as conn:
            self._active_member(conn, chat_id, user_id)
            self._set_member(conn, chat_id, user_id, is_admin=admin)

    def press(self, chat_id: str, user_id: str, message_id: str, button_data: str) -> Event:
        """A person presses one of the buttons under the bot's message ``message_id``."""
        with self.db.connect() as conn:
            row = conn.execute(
                select(sandbox_messages.c.buttons, sandbox_messages.c.deleted).where(
                    sandbox_messages.c.source == self.source,
                    sandbox_messages.c.chat_id == chat_id,
                    sandbox_messages.c.id == (int(message_id) if message_id.isdigit() else -1),
                )
            ).first()
            member = self._member(conn, chat_id, user_id)
            not_member = (
                self._not_member(conn, chat_id, user_id, member)
                if member is None or member.status != "active"
                else None
            )
            conn.rollback()
        if row is None or row.deleted:
            raise NotFound(N_("no message {id}"), where=chat_id, id=message_id)
        offered = {b.get("data") for r in (row.buttons or []) for b in r}
        if button_data not in offered:
            raise SandboxRefused(
                N_("message {id} has no button {button!r}"),
                where=chat_id,
                id=message_id,
                button=button_data,
            )
        if not_member is not None:
            raise not_member
        now = self.clock.now()
        return Event(
            self.source,
            f"b{message_id}:{user_id}:{now.timestamp()}:{button_data}"[:200],
            EventKind.BUTTON,
            now,
            chat_id=chat_id,
            user_id=user_id,
            user_name=member.name,
            message_id=message_id,
            data={"button_data": button_data},
        )

    # -- reading ---------------------------------------------------------------------------
    def messages(
        self, chat_id: str, *, after: int = 0, limit: int = 200, viewer: str = ""
    ) -> list[SandboxMessage]:
        rows = self._chat_rows(
            chat_id, sandbox_messages.c.id > after, order=sandbox_messages.c.id, limit=limit
        )
        return [_message(r) for r in rows if _sees(r, viewer)]

    def messages_before(
        self, chat_id: str, before: int, *, down_to: int = 0, limit: int = 200, viewer: str = ""
    ) -> tuple[list[SandboxMessage], int]:
        """The chat's newest ``limit`` lines below id ``before`` and not below ``down_to``,
        oldest first, as ``viewer`` may see them (see :meth:`messages`); with the lowest id
        read (``before`` when none), whether ``viewer`` may see it or not, where a further
        read goes on from."""
        c = sandbox_messages.c
        rows = self._chat_rows(
            chat_id, c.id < before, c.id >= down_to, order=c.id.desc(), limit=limit
        )
        lowest = int(rows[-1].id) if rows else before
        return [_message(r) for r in reversed(rows) if _sees(r, viewer)], lowest

    def lines(self, chat_id: str, ids: Iterable[int], *, viewer: str = "") -> list[SandboxMessage]:
        """The chat's lines with these ids that ``viewer`` can see (another's private message
        is left out, as :meth:`messages` does; so is an id that is no line of this chat)."""
        wanted = sorted(set(ids))
        if not wanted:
            return []
        rows = self._chat_rows(chat_id, sandbox_messages.c.id.in_(wanted))
        return [_message(r) for r in rows if _sees(r, viewer)]

    def _chat_rows(
        self, chat_id: str, *where: Any, order: Any = None, limit: int | None = None
    ) -> Sequence[Any]:
        """The rows of ``sandbox_messages`` of this platform's chat ``chat_id`` that meet
        ``where``, in ``order``, at most ``limit``."""
        c = sandbox_messages.c
        q = select(sandbox_messages).where(c.source == self.source, c.chat_id == chat_id, *where)
        if order is not None:
            q = q.order_by(order)
        if limit is not None:
            q = q.limit(limit)
        with self.db.connect() as conn:
            rows = conn.execute(q).all()
            conn.rollback()
        return rows

    def member_status(self, chat_id: str, user_id: str) -> dict[str, Any] | None:
        with self.db.connect() as conn:
            row = self._member(conn, chat_id, user_id)
            conn.rollback()
        return dict(row._mapping) if row is not None else None


def _sees(r: Any, viewer: str) -> bool:
    """Whether ``viewer`` sees the line of row ``r``: everyone's lines, and only their own
    private messages."""
    return bool(r.kind != "dm" or r.to_user_id == viewer)


def _message(r: Any) -> SandboxMessage:
    """A row of ``sandbox_messages`` as a line."""
    return SandboxMessage(
        r.id,
        r.chat_id,
        r.user_id,
        r.user_name,
        r.kind,
        r.text,
        r.reply_to,
        r.created_at,
        bool(r.deleted),
        r.to_user_id,
        r.buttons,
    )
