"""Who and where: groups, members and memberships behind each event, cached per App.

New rows are created in the batch's transaction; the caches learn them only after commit, so a
rolled-back batch leaves no stale ids behind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from groupops.domain.events import Event, EventKind, is_private
from groupops.engine.context import GroupInfo, Incoming
from groupops.storage.bulk import One
from groupops.storage.tables import (
    connections,
    groups,
    identities,
    members,
    memberships,
    workspaces,
)


@dataclass(frozen=True, slots=True)
class MembershipInfo:
    id: int
    status: str
    is_admin: bool
    joined_at: datetime | None


T = TypeVar("T")


def race_safe(conn: Connection, create: Callable[[], T], find: Callable[[], T | None]) -> T:
    """Create a row, or find the one another worker created at the same moment.

    The insert runs in a savepoint: a unique violation (a concurrent batch on PostgreSQL got
    there first) rolls back only the savepoint, and the committed row is read instead.
    """
    if conn.dialect.name == "sqlite":
        # the batch holds SQLite's only write lock (BEGIN IMMEDIATE): nobody can race it, and
        # a savepoint costs more than the insert
        return create()
    try:
        with conn.begin_nested():
            return create()
    except IntegrityError:
        found = find()
        if found is None:
            raise
        return found


_LEAVING = {EventKind.MEMBER_LEFT: "left", EventKind.MEMBER_KICKED: "kicked"}

#: built once: on SQLite building a statement costs several times running it; run as
#: storage.bulk.One (a new member or membership is a few of these per join)
_FIND_MEMBER = One(
    select(identities.c.member_id).where(
        identities.c.source == bindparam("src"), identities.c.user_id == bindparam("user")
    )
)
_NEW_MEMBER = One(insert(members).returning(members.c.id))
_NEW_IDENTITY = One(insert(identities))
_FIND_MEMBERSHIP = One(
    select(
        memberships.c.id, memberships.c.status, memberships.c.is_admin, memberships.c.joined_at
    ).where(memberships.c.group_id == bindparam("g"), memberships.c.member_id == bindparam("m"))
)
_NEW_MEMBERSHIP = One(insert(memberships).returning(memberships.c.id))


#: what a new group speaks and where its days start when its connection does not say
NEW_GROUP_LANGUAGE = "zh_CN"
NEW_GROUP_TIMEZONE = "Asia/Shanghai"


class Directory:
    def __init__(
        self, default_workspace: str = "default", clock: Callable[[], datetime] | None = None
    ) -> None:
        self.default_workspace = default_workspace
        #: when a workspace or connection first seen in an event is created: now (an imported
        #: export of 2016 is connected today, not in 2016); without a clock, the event's time
        self.clock = clock
        self._groups: dict[tuple[str, str], GroupInfo] = {}
        self._members: dict[tuple[str, str], int] = {}
        self._memberships: dict[tuple[int, int], MembershipInfo] = {}
        self._workspaces: dict[str, int] = {}
        self._source_ws: dict[str, int] = {}
        #: (source, chat) -> the title the platform last gave the chat (groups.platform_title)
        self._platform_titles: dict[tuple[str, str], str] = {}
        #: groups this Directory has created so far (a per-batch list of groups is stale
        #: once it grows)
        self.groups_created = 0
        #: times a group's bot presence changed in this Directory (a per-batch list of groups
        #: is stale then too)
        self.groups_changed = 0
        #: (source, chat) -> True for the chats the bot is not in (groups.bot_in_chat false);
        #: read once, then kept up to date by :meth:`bot_changed` and :meth:`refresh_groups`
        self._away: dict[tuple[str, str], bool] = {}
        self._away_read = False
        # rows created or changed by the open batch, per cache; merged only after commit
        self._pending: dict[int, tuple[dict[Any, Any], dict[Any, Any]]] = {}

    # -- transaction hooks -----------------------------------------------------------------
    def committed(self) -> None:
        for cache, changes in self._pending.values():
            cache.update(changes)
        self._pending.clear()

    def rolled_back(self) -> None:
        self._pending.clear()

    def invalidate(self) -> None:
        """Forget cached rows (settings or memberships changed outside the engine)."""
        self._groups.clear()
        self._platform_titles.clear()
        self._away.clear()
        self._away_read = False
        self._members.clear()
        self._memberships.clear()
        self._source_ws.clear()
        self._workspaces.clear()

    def forget_member(self, member_id: int) -> None:
        """Drop a member deleted outside the engine (admin.forget_member): their identities
        and memberships are found or created again from storage if they come back."""
        for held in self._held(self._members):
            for key in [k for k, v in held.items() if v == member_id]:
                del held[key]
        for held in self._held(self._memberships):
            for key in [k for k in held if k[1] == member_id]:
                del held[key]

    def _held(self, cache: dict[Any, Any]) -> list[dict[Any, Any]]:
        """A cache and what the open batch has learnt for it."""
        entry = self._pending.get(id(cache))
        return [cache] if entry is None else [cache, entry[1]]

    def refresh_groups(self, conn: Connection) -> None:
        """Reload the cached groups' profile and settings (an operator may have changed them
        from the CLI or the web, in another process)."""
        if self._away_read:
            self._away_read = False  # read again at its next use
        if not self._groups:
            return
        fresh = {(g.source, g.chat_id): g for g in self.groups_in(conn)}
        for key in list(self._groups):
            if key in fresh:
                self._groups[key] = fresh[key]

    def _remember(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        entry = self._pending.get(id(cache))
        if entry is None:
            entry = self._pending[id(cache)] = (cache, {})
        entry[1][key] = value

    def _lookup(self, cache: dict[Any, Any], key: Any) -> Any:
        entry = self._pending.get(id(cache))
        if entry is not None and key in entry[1]:
            return entry[1][key]
        return cache.get(key)

    #: identities and memberships read ahead by warm_up, at most (each)
    WARM_LIMIT = 200_000

    def warm_up(self, conn: Connection, limit: int = WARM_LIMIT) -> None:
        """Read who is who ahead of events, in two queries: the members behind the platforms'
        user ids and their memberships (the newest members first, up to ``limit`` rows
        each). A process that starts (or restarts) on an established community then spends
        its first minutes on the events, not on two look-ups for every member's first
        message (3-5 % of the engine's time over the benchmark stream's first 6,000 events,
        one event a batch as live traffic comes)."""
        i = identities.c
        for source, user_id, member_id in conn.execute(
            select(i.source, i.user_id, i.member_id).order_by(i.member_id.desc()).limit(limit)
        ):
            self._members.setdefault((source, user_id), int(member_id))
        m = memberships.c
        for row in conn.execute(
            select(m.id, m.group_id, m.member_id, m.status, m.is_admin, m.joined_at)
            .order_by(m.member_id.desc())
            .limit(limit)
        ):
            self._memberships.setdefault(
                (int(row.group_id), int(row.member_id)),
                MembershipInfo(int(row.id), row.status, bool(row.is_admin), row.joined_at),
            )

    # -- resolution ------------------------------------------------------------------------
    def workspace_id(self, conn: Connection, slug: str, now: datetime) -> int:
        found = self._lookup(self._workspaces, slug)
        if found is not None:
            return int(found)

        def find() -> int | None:
            return conn.execute(select(workspaces.c.id).where(workspaces.c.slug == slug)).scalar()

        ws_id = find()
        if ws_id is None:
            ws_id = race_safe(
                conn,
                lambda: conn.execute(
                    insert(workspaces)
                    .values(slug=slug, name=slug, settings={}, created_at=now)
                    .returning(workspaces.c.id)
                ).scalar_one(),
                find,
            )
        self._remember(self._workspaces, slug, ws_id)
        return int(ws_id)

    def source_workspace(self, conn: Connection, source: str, now: datetime) -> int:
        found = self._lookup(self._source_ws, source)
        if found is not None:
            return int(found)

        def find() -> int | None:
            return conn.execute(
                select(connections.c.workspace_id).where(connections.c.id == source)
            ).scalar()

        ws_id = find()
        if ws_id is None:
            default_ws = self.workspace_id(conn, self.default_workspace, now)

            def create() -> int:
                conn.execute(
                    insert(connections).values(
                        id=source,
                        workspace_id=default_ws,
                        platform=source.split(":", 1)[0],
                        config={},
                        state={},
                        created_at=now,
                    )
                )
                return default_ws

            ws_id = race_safe(conn, create, find)
        self._remember(self._source_ws, source, ws_id)
        return int(ws_id)

    @staticmethod
    def _new_group_profile(conn: Connection, source: str) -> tuple[str, str]:
        """The language and time zone a new group of ``source`` starts with: its connection's
        ``group_language`` / ``group_timezone`` (``connect --group-language …``), else
        zh_CN and Asia/Shanghai."""
        config = conn.execute(
            select(connections.c.config).where(connections.c.id == source)
        ).scalar()
        given = config if isinstance(config, dict) else {}
        return (
            str(given.get("group_language") or NEW_GROUP_LANGUAGE),
            str(given.get("group_timezone") or NEW_GROUP_TIMEZONE),
        )

    def group(self, conn: Connection, event: Event) -> GroupInfo:
        key = (event.source, event.chat_id)
        found: GroupInfo | None = self._lookup(self._groups, key)
        if found is not None:
            given = event.data.get("chat_title") if event.data else None
            if given and given != found.title:
                return self._retitle(conn, found, str(given)[:255])
            return found
        row = conn.execute(
            select(groups, workspaces.c.settings.label("ws_settings"))
            .join(workspaces, workspaces.c.id == groups.c.workspace_id)
            .where(groups.c.source == event.source, groups.c.chat_id == event.chat_id)
        ).first()
        if row is None:
            now = self.clock() if self.clock is not None else event.occurred_at
            ws_id = self.source_workspace(conn, event.source, now)
            language, timezone = self._new_group_profile(conn, event.source)
            platform_title = str(event.data.get("chat_title", ""))[:255]
            title = platform_title or event.chat_id
            gid = race_safe(
                conn,
                lambda: conn.execute(
                    insert(groups)
                    .values(
                        workspace_id=ws_id,
                        source=event.source,
                        chat_id=event.chat_id,
                        title=title[:255],
                        platform_title=platform_title,
                        timezone=timezone,
                        language=language,
                        settings={},
                        created_at=event.occurred_at,
                    )
                    .returning(groups.c.id)
                ).scalar_one(),
                lambda: conn.execute(
                    select(groups.c.id).where(
                        groups.c.source == event.source, groups.c.chat_id == event.chat_id
                    )
                ).scalar(),
            )
            self.groups_created += 1
            ws_settings = conn.execute(
                select(workspaces.c.settings).where(workspaces.c.id == ws_id)
            ).scalar_one()
            info = GroupInfo(
                int(gid),
                ws_id,
                event.source,
                event.chat_id,
                title[:255],
                "Asia/Shanghai",
                "zh_CN",
                {},
                ws_settings or {},
            )
        else:
            platform_title = str(row.platform_title or "")
            info = GroupInfo(
                int(row.id),
                int(row.workspace_id),
                row.source,
                row.chat_id,
                row.title,
                row.timezone,
                row.language,
                row.settings or {},
                row.ws_settings or {},
                bool(row.bot_in_chat),
            )
        self._remember(self._platform_titles, key, platform_title)
        self._remember(self._groups, key, info)
        given = str(event.data.get("chat_title") or "")[:255] if event.data else ""
        if given and given != info.title:
            return self._retitle(conn, info, given)
        return info

    def _retitle(self, conn: Connection, info: GroupInfo, given: str) -> GroupInfo:
        """The platform names the chat ``given`` (a first title, a rename): the group's title
        follows while it is the platform's last one or still the chat id; a title of the
        operator's own (``settings profile --title``) is kept. Rare: only when they differ."""
        key = (info.source, info.chat_id)
        last = self._lookup(self._platform_titles, key)
        if last is None:
            last = str(
                conn.execute(select(groups.c.platform_title).where(groups.c.id == info.id)).scalar()
                or ""
            )
        if given == last and info.title != info.chat_id:
            return info  # the operator's title: nothing new from the platform
        values: dict[str, Any] = {"platform_title": given}
        follows = info.title in (info.chat_id, last)
        if follows:
            values["title"] = given
            info = replace(info, title=given)
            self._remember(self._groups, key, info)
        conn.execute(update(groups).where(groups.c.id == info.id).values(**values))
        self._remember(self._platform_titles, key, given)
        return info

    # -- the bot in its groups -------------------------------------------------------------
    def chats_without_bot(self, conn: Connection) -> set[tuple[str, str]]:
        """The (source, chat) of every group the bot is not in, as the platform last said
        (engine/bot.py): nothing is sent there. Read once, then kept (with the open batch's
        changes) until :meth:`refresh_groups` or :meth:`invalidate`."""
        if not self._away_read:
            g = groups.c
            found = conn.execute(select(g.source, g.chat_id).where(g.bot_in_chat.is_(False)))
            self._away.clear()
            self._away.update({(str(src), str(chat)): True for src, chat in found})
            self._away_read = True
        entry = self._pending.get(id(self._away))
        merged = self._away if entry is None else {**self._away, **entry[1]}
        return {key for key, away in merged.items() if away}

    def bot_changed(self, conn: Connection, group: GroupInfo, values: dict[str, Any]) -> GroupInfo:
        """Store what the platform said about the bot in ``group`` (``groups.bot_*``
        ``values``); the group as it is now."""
        conn.execute(update(groups).where(groups.c.id == group.id).values(**values))
        in_chat = bool(values.get("bot_in_chat", group.bot_in_chat))
        key = (group.source, group.chat_id)
        self._remember(self._away, key, not in_chat)
        current: GroupInfo = self._lookup(self._groups, key) or group
        if current.bot_in_chat != in_chat:
            current = replace(current, bot_in_chat=in_chat)
            self._remember(self._groups, key, current)
            self.groups_changed += 1
        return current

    def member(self, conn: Connection, event: Event, workspace_id: int) -> int:
        key = (event.source, event.user_id)
        found = self._lookup(self._members, key)
        if found is not None:
            return int(found)

        def find() -> int | None:
            found = _FIND_MEMBER.scalar(conn, {"src": event.source, "user": event.user_id})
            return int(found) if found is not None else None

        def create() -> int:
            new_id = _NEW_MEMBER.scalar(
                conn,
                {
                    "workspace_id": workspace_id,
                    "display_name": event.user_name or event.user_id,
                    "created_at": event.occurred_at,
                },
            )
            _NEW_IDENTITY.all(
                conn, {"member_id": new_id, "source": event.source, "user_id": event.user_id}
            )
            return int(new_id)

        mid = find()
        if mid is None:
            mid = race_safe(conn, create, find)
        self._remember(self._members, key, mid)
        return int(mid)

    def membership(
        self, conn: Connection, group_id: int, member_id: int, event: Event
    ) -> MembershipInfo:
        key = (group_id, member_id)
        info: MembershipInfo | None = self._lookup(self._memberships, key)
        if info is None:
            row = _FIND_MEMBERSHIP.first(conn, {"g": group_id, "m": member_id})
            if row is not None:
                ms_id, status, is_admin, joined_at = row
                info = MembershipInfo(int(ms_id), status, bool(is_admin), joined_at)
        kind = event.kind
        changes: dict[str, Any] = {}
        if info is None:
            joined = kind == EventKind.MEMBER_JOINED
            values: dict[str, Any] = {
                "group_id": group_id,
                "member_id": member_id,
                "status": _LEAVING.get(kind, "active"),
                "is_admin": event.is_admin,
                "joined_at": event.occurred_at if joined else None,
                "via": str(event.data.get("invite_link", ""))[:255] if joined else "",
            }
            if joined and event.data.get("inviter_user_id"):
                values["inviter_member_id"] = self._inviter(conn, event, group_id)
            mid = race_safe(
                conn,
                lambda: int(_NEW_MEMBERSHIP.scalar(conn, values)),
                lambda: conn.execute(
                    select(memberships.c.id).where(
                        memberships.c.group_id == group_id, memberships.c.member_id == member_id
                    )
                ).scalar(),
            )
            info = MembershipInfo(int(mid), values["status"], event.is_admin, values["joined_at"])
            self._remember(self._memberships, key, info)
            return info
        if kind == EventKind.MEMBER_JOINED:
            changes = {"status": "active", "joined_at": event.occurred_at, "left_at": None}
            if event.data.get("invite_link"):
                changes["via"] = str(event.data["invite_link"])[:255]
        elif kind in _LEAVING:
            changes = {"status": _LEAVING[kind], "left_at": event.occurred_at}
        if kind == EventKind.MESSAGE and event.is_admin != info.is_admin:
            changes["is_admin"] = event.is_admin
        if changes:
            conn.execute(update(memberships).where(memberships.c.id == info.id).values(**changes))
            info = replace(
                info,
                status=changes.get("status", info.status),
                is_admin=changes.get("is_admin", info.is_admin),
                joined_at=changes.get("joined_at", info.joined_at),
            )
            self._remember(self._memberships, key, info)
        elif key not in self._memberships:
            self._remember(self._memberships, key, info)
        return info

    def _inviter(self, conn: Connection, event: Event, group_id: int) -> int:
        ws = self._lookup(self._source_ws, event.source)
        inviter_event = replace(
            event,
            user_id=str(event.data["inviter_user_id"]),
            user_name=str(event.data.get("inviter_name", "")),
        )
        return self.member(conn, inviter_event, int(ws) if ws is not None else 0)

    def ids(self, conn: Connection, event: Event) -> tuple[GroupInfo | None, int | None]:
        """The group and member behind an event, created when new. Safe for an event that turns
        out to be a duplicate: it changes no membership."""
        if not event.chat_id or is_private(event):  # a person's private chat: no group
            return None, None
        group = self.group(conn, event)
        if not event.user_id:
            return group, None
        return group, self.member(conn, event, group.workspace_id)

    def resolve(
        self,
        conn: Connection,
        stored: Sequence[tuple[int, Event]],
        known: dict[tuple[str, str], tuple[GroupInfo | None, int | None]] | None = None,
    ) -> list[Incoming]:
        """Apply the memberships changes of newly stored events, and say what features see."""
        out: list[Incoming] = []
        for seq, event in stored:
            ids = known.get((event.source, event.event_id)) if known else None
            group, member_id = ids if ids is not None else self.ids(conn, event)
            if group is None or member_id is None:
                out.append(Incoming(seq, event, group, None))
                continue
            ms = self.membership(conn, group.id, member_id, event)
            out.append(
                Incoming(seq, event, group, member_id, ms.is_admin or event.is_admin, ms.joined_at)
            )
        return out

    def groups_in(self, conn: Connection, workspace_id: int | None = None) -> list[GroupInfo]:
        return group_infos(conn, workspace_id=workspace_id)


def group_infos(
    conn: Connection, ids: Sequence[int] | None = None, *, workspace_id: int | None = None
) -> list[GroupInfo]:
    """The groups (all, those of ``ids``, or of one workspace) as features see them, with
    their workspace's settings, by id."""
    q = select(groups, workspaces.c.settings.label("ws_settings")).join(
        workspaces, workspaces.c.id == groups.c.workspace_id
    )
    if workspace_id is not None:
        q = q.where(groups.c.workspace_id == workspace_id)
    if ids is not None:
        q = q.where(groups.c.id.in_(list(ids)))
    return [
        GroupInfo(
            int(r.id),
            int(r.workspace_id),
            r.source,
            r.chat_id,
            r.title,
            r.timezone,
            r.language,
            r.settings or {},
            r.ws_settings or {},
            bool(r.bot_in_chat),
        )
        for r in conn.execute(q.order_by(groups.c.id))
    ]
