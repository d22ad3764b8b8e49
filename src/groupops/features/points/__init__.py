"""points and levels: points for check-ins and real participation (messages with a per-member
cooldown so floods don't pay, replies, reactions received), levels, daily / weekly / monthly
leaderboards summed in SQL, and at each month's end (group's time zone) a public top 3 with
their rewards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError
from groupops.domain.events import ContentKind, Event, EventKind
from groupops.domain.time import local_day, zone
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.kept import Kept, load_members_of_group
from groupops.features.moderation.removed import removed_message
from groupops.features.points.boards import (
    NOT_RACED,
    PERIODS,
    InvalidPeriod,
    leaderboard,
    member_points,
    month_of,
    month_standing,
    period_bounds,
)
from groupops.features.points.settings import PointsSettings
from groupops.features.points.tables import points_balances, points_ledger, points_months
from groupops.i18n import N_
from groupops.storage.bulk import Bulk
from groupops.storage.tables import events, feature_marks, identities, members, memberships

LEVEL_UP = N_("🎉 {{ name }} reached level {{ level }} with {{ points }} points!")
MY_POINTS = N_(
    "{{ name }}: {{ points }} points, level {{ level }}. This month: {{ month }} points, "
    "#{{ rank }}."
)
#: the same, for a member with no points this month (not on the board: no rank to give)
MY_POINTS_NONE = N_("{{ name }}: {{ points }} points, level {{ level }}. No points this month yet.")
NEXT_LEVEL = N_("{{ missing }} more points to {{ next }}.")
#: two sentences of a reply, one after the other (Chinese sets them side by side, no space)
TWO_SENTENCES = N_("{sentence} {next_sentence}")
BOARD_HEAD = N_("🏆 Points this month in {{ group }}:")
BOARD_EMPTY = N_("Nobody has earned points in {{ group }} this month yet.")
TOP_HEAD = N_("🏆 The top 3 of {{ month }} in {{ group }}:")
#: a month and its year in the top 3's title: "November 2026", "2026 年 11 月"
MONTH_OF_YEAR = N_("{month} {year}")
MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)
TOP_FOOT = N_("Thank you all for taking part: a new month starts now, everyone starts at 0!")
TOP_POINTS = N_("{points} pts")
REWARD_POINTS = N_("+{n} bonus points")
MEDALS = ("🥇", "🥈", "🥉")


_b = points_balances.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_SELECT_BALANCE = select(points_balances).where(
    _b.group_id == bindparam("g"), _b.member_id == bindparam("m")
)
_NEW_BALANCES = Bulk(insert(points_balances))
_NEW_LEDGER = Bulk(insert(points_ledger))
_GROUP_BALANCES = select(points_balances).where(_b.group_id == bindparam("g")).limit(bindparam("n"))
#: the batch's groups and authors at once (a member of two of them brings a row more, dropped)
_SELECT_BALANCES = select(points_balances).where(
    _b.group_id.in_(bindparam("gids", expanding=True)),
    _b.member_id.in_(bindparam("mids", expanding=True)),
)
_UPDATE_BALANCE = (
    update(points_balances)
    .where(_b.group_id == bindparam("g"), _b.member_id == bindparam("m"))
    .values(
        points=bindparam("b_points"),
        level=bindparam("b_level"),
        last_paid_message_at=bindparam("b_last"),
        reaction_day=bindparam("b_day"),
        reaction_points_today=bindparam("b_today"),
    )
)
_UPDATE_BALANCES = Bulk(_UPDATE_BALANCE)
#: what a message earned (see _removed)
_PAID_FOR = select(points_ledger.c.points).where(
    points_ledger.c.cause_seq == bindparam("seq"),
    points_ledger.c.member_id == bindparam("m"),
    points_ledger.c.reason.in_(("message", "reply")),
)

#: the author of a message named by its platform id (uses ix_events_message)
_MESSAGE_AUTHOR = (
    select(events.c.user_id)
    .where(
        events.c.source == bindparam("src"),
        events.c.chat_id == bindparam("chat"),
        events.c.message_id == bindparam("msg"),
        events.c.kind == EventKind.MESSAGE.value,
    )
    .limit(1)
)
#: who a reaction pays: the author's member id, admin flag in the group, name


def _reaction_targets(which_users: Any) -> Any:
    return (
        select(
            identities.c.user_id,
            identities.c.member_id,
            memberships.c.is_admin,
            members.c.display_name,
        )
        .join(members, members.c.id == identities.c.member_id)
        .outerjoin(
            memberships,
            and_(
                memberships.c.member_id == identities.c.member_id,
                memberships.c.group_id == bindparam("g"),
            ),
        )
        .where(identities.c.source == bindparam("src"), which_users)
    )


_REACTION_TARGET = _reaction_targets(identities.c.user_id == bindparam("user"))
#: the same for the authors of a batch's reactions in one group, at once
_REACTION_TARGETS = _reaction_targets(identities.c.user_id.in_(bindparam("users", expanding=True)))


def _month_row(key: tuple[int, date, int], value: list[Any]) -> dict[str, Any]:
    (gid, month, mid), (points, last_at) = key, value
    return {"group_id": gid, "month": month, "member_id": mid, "points": points, "last_at": last_at}


@dataclass(slots=True)
class _Balance:
    """A member's balance row, read once per batch and written back once at its end."""

    group_id: int
    member_id: int
    points: int = 0
    level: int = 0
    last_paid_message_at: datetime | None = None
    reaction_day: date | None = None
    reaction_points_today: int = 0
    new: bool = False  # no row yet
    touched: bool = False  # asked for: a new one gets its row, as before
    dirty: bool = False

    def params(self) -> dict[str, Any]:
        return {
            "g": self.group_id,
            "m": self.member_id,
            "b_points": self.points,
            "b_level": self.level,
            "b_last": self.last_paid_message_at,
            "b_day": self.reaction_day,
            "b_today": self.reaction_points_today,
        }

    def row(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "points": self.points,
            "level": self.level,
            "last_paid_message_at": self.last_paid_message_at,
            "reaction_day": self.reaction_day,
            "reaction_points_today": self.reaction_points_today,
        }


@dataclass
class _Pending:
    balances: dict[tuple[int, int], _Balance] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    #: (group, month, member) -> [raced points, latest award] not written yet
    months: dict[tuple[int, date, int], list[Any]] = field(default_factory=dict)
    #: (group, source, user) -> whom a reaction to that user pays (None: nobody known)
    targets: dict[tuple[int, str, str], Any] = field(default_factory=dict)


def _author_named(event: Event) -> str:
    """The author of the message a reaction is to, where the platform says it."""
    return event.reply_to_user_id or str(event.data.get("target_user_id") or "")


_m = points_months.c
_UPSERTS: dict[str, Bulk] = {}


def _add_months(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Add raced points to members' months (a new month row, or more points on it)."""
    bulk = _UPSERTS.get(conn.dialect.name)
    if bulk is None:
        ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(points_months)
        bulk = _UPSERTS[conn.dialect.name] = Bulk(
            ins.on_conflict_do_update(
                index_elements=["group_id", "month", "member_id"],
                set_={
                    "points": _m.points + ins.excluded.points,
                    "last_at": case(
                        (ins.excluded.last_at > _m.last_at, ins.excluded.last_at),
                        else_=_m.last_at,
                    ),
                },
            )
        )
    bulk.run(conn, rows)


class PointsFeature:
    name: ClassVar[str] = "points"
    order: ClassVar[int] = 40
    settings_model: ClassVar[type[PointsSettings]] = PointsSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {
            EventKind.MESSAGE,
            EventKind.MESSAGE_DELETED,  # moderation removed an earlier message as an ad
            EventKind.REACTION,
            EventKind.CHECKED_IN,
            EventKind.TICK,
        }
    )

    #: balances kept in memory between batches, at most (then they are read again)
    KNOWN_LIMIT: ClassVar[int] = 200_000

    def __init__(self) -> None:
        self._pending: _Pending | None = None
        #: balances kept between batches, so a batch reads only those never seen (this
        #: process is the only one earning points for its groups; see docs/operations.md)
        self._kept: Kept[tuple[int, int], _Balance] = Kept(self.KNOWN_LIMIT)

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        self._pending = _Pending()
        try:
            self._prefetch(ctx, batch)
            self._handle(ctx, batch)
            self._flush(ctx)
            for key, bal in self._pending.balances.items():
                self._kept.stage(key, replace(bal, touched=False, dirty=False))
        finally:
            self._pending = None

    def committed(self) -> None:
        self._kept.committed()

    def rolled_back(self) -> None:
        self._kept.rolled_back()

    def warm_up(self, ctx: BatchContext) -> None:
        for group in ctx.all_groups():
            self._load_group(ctx.conn, group.id)

    def _load_group(self, conn: Connection, gid: int) -> None:
        load_members_of_group(
            self._kept,
            conn,
            gid,
            _GROUP_BALANCES,
            lambda r: self._from_row(gid, int(r.member_id), r),
        )

    def _remembered(self, ctx: BatchContext, gid: int, mid: int) -> _Balance | None:
        """The balance as this process last wrote or read it (a copy to change); a new one
        when the whole group is held and the member is not; None when it must be read."""
        self._load_group(ctx.conn, gid)
        bal = self._kept.get((gid, mid))
        if bal is not None:
            return replace(bal)
        if self._kept.complete(gid):
            return _Balance(gid, mid, new=True)
        return None

    def _prefetch(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        """The balances of the batch's authors, in one query for all the batch's groups (up
        to 500 authors a query)."""
        balances = self._batch().balances
        wanted: set[tuple[int, int]] = set()
        self._prefetch_targets(ctx, batch)
        for item in batch:
            if (
                item.group is not None
                and item.member_id is not None
                and item.event.kind in (EventKind.MESSAGE, EventKind.CHECKED_IN)
            ):
                key = (item.group.id, item.member_id)
                if key in balances:
                    continue
                remembered = self._remembered(ctx, *key)
                if remembered is not None:
                    balances[key] = remembered
                else:
                    wanted.add(key)
        if not wanted:
            return
        gids = sorted({g for g, _ in wanted})
        mids = sorted({m for _, m in wanted})
        found: dict[tuple[int, int], Any] = {}
        for start in range(0, len(mids), 500):
            chunk = mids[start : start + 500]
            for r in ctx.conn.execute(_SELECT_BALANCES, {"gids": gids, "mids": chunk}):
                found[(int(r.group_id), int(r.member_id))] = r
        for gid, mid in wanted:
            balances[(gid, mid)] = self._from_row(gid, mid, found.get((gid, mid)))

    def _prefetch_targets(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        """Whom the batch's reactions pay, one query per group and platform (up to 500
        authors a query) instead of one a reaction."""
        authors: dict[tuple[int, str], set[str]] = {}
        for item in batch:
            event = item.event
            if event.kind == EventKind.REACTION and item.group is not None:
                author = _author_named(event)
                if author:
                    authors.setdefault((item.group.id, event.source), set()).add(author)
        targets = self._batch().targets
        for (gid, source), users in authors.items():
            wanted = sorted(users)
            for key_user in wanted:
                targets[(gid, source, key_user)] = None
            for start in range(0, len(wanted), 500):
                params = {"g": gid, "src": source, "users": wanted[start : start + 500]}
                for row in ctx.conn.execute(_REACTION_TARGETS, params):
                    targets[(gid, source, str(row.user_id))] = row

    @staticmethod
    def _from_row(gid: int, mid: int, row: Any) -> _Balance:
        if row is None:
            return _Balance(gid, mid, new=True)
        return _Balance(
            gid,
            mid,
            int(row.points),
            int(row.level),
            row.last_paid_message_at,
            row.reaction_day,
            int(row.reaction_points_today),
        )

    def _batch(self) -> _Pending:
        """What the running handle() has changed and not written yet (all earning happens
        inside handle(): its end writes it)."""
        assert self._pending is not None, "points are earned inside handle() only"
        return self._pending

    def _flush_months(self, ctx: BatchContext) -> None:
        """Write the batch's month sums so far: all that the 积分 and 积分榜 commands and the
        top 3 read (balances come from the batch itself, the ledger is not read by them)."""
        p = self._batch()
        if p.months:
            _add_months(ctx.conn, [_month_row(k, v) for k, v in p.months.items()])
            p.months = {}

    def _flush(self, ctx: BatchContext) -> None:
        """Write what the batch changed so far (before anything reads the points tables)."""
        p = self._batch()
        new = [b for b in p.balances.values() if b.new and (b.touched or b.dirty)]
        changed = [b for b in p.balances.values() if b.dirty and not b.new]
        if new:
            _NEW_BALANCES.run(ctx.conn, [b.row() for b in new])
        if changed:
            _UPDATE_BALANCES.run(ctx.conn, [b.params() for b in changed])
        if p.ledger:
            _NEW_LEDGER.run(ctx.conn, p.ledger)
            p.ledger = []
        self._flush_months(ctx)
        for b in p.balances.values():
            if b.new and (b.touched or b.dirty):
                b.new = False
            b.dirty = False

    def _handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                self._flush(ctx)
                self._month_end(ctx, item.event.occurred_at)
                continue
            if kind == EventKind.MESSAGE_DELETED:
                self._removed(ctx, item)
                continue
            group = item.group
            if group is None or item.member_id is None:
                continue
            s = ctx.settings(self, group, PointsSettings)
            if kind == EventKind.MESSAGE:
                self._message(ctx, item, group, s)
            elif kind == EventKind.CHECKED_IN:
                self._checked_in(ctx, item, group, s)
            elif kind == EventKind.REACTION:
                self._reaction(ctx, item, group, s)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        conn.execute(delete(points_ledger).where(points_ledger.c.member_id == member_id))
        conn.execute(delete(points_months).where(_m.member_id == member_id))
        conn.execute(delete(points_balances).where(points_balances.c.member_id == member_id))
        self._kept.forget(lambda key: key[1] == member_id)

    # -- earning ---------------------------------------------------------------------------
    def _balance(self, ctx: BatchContext, group_id: int, member_id: int) -> _Balance:
        balances = self._batch().balances
        bal = balances.get((group_id, member_id))
        if bal is None:
            bal = self._remembered(ctx, group_id, member_id)
            if bal is not None:
                balances[(group_id, member_id)] = bal
        if bal is None:
            row = ctx.conn.execute(_SELECT_BALANCE, {"g": group_id, "m": member_id}).first()
            bal = balances[(group_id, member_id)] = self._from_row(group_id, member_id, row)
        bal.touched = True
        return bal

    def award(
        self,
        ctx: BatchContext,
        group: GroupInfo,
        member_id: int,
        points: int,
        reason: str,
        *,
        at: datetime,
        cause_seq: int | None,
        name: str,
        s: PointsSettings,
        row: Any = None,
        also: Sequence[tuple[int, str]] = (),
        **balance: Any,
    ) -> None:
        """Write one award to the ledger, move the balance, announce a new level. ``row`` is
        the member's balance row when the caller has just read it. ``also``: more awards of
        the same event, ``(points, reason)`` each (a check-in's streak gift), each its own
        ledger line: a level they reach is announced once, with the total after them all."""
        if row is None:
            row = self._balance(ctx, group.id, member_id)
        before = int(row.level)
        total, level = int(row.points), before
        for part, why in ((points, reason), *also):
            if part:
                entry = {
                    "group_id": group.id,
                    "member_id": member_id,
                    "points": part,
                    "reason": why,
                    "at": at,
                    "cause_seq": cause_seq,
                }
                p = self._batch()
                p.ledger.append(entry)
                if why not in NOT_RACED:
                    race = (group.id, month_of(at, group.timezone), member_id)
                    month = p.months.setdefault(race, [0, at])
                    month[0] += part
                    month[1] = max(month[1], at)
            total += part
            level = max(level, *(i for i, lv in enumerate(s.levels) if lv.points <= max(total, 0)))
        row.points, row.level = total, level
        for key, value in balance.items():
            setattr(row, key, value)
        row.dirty = True
        if level > before and s.announce_levels:
            t = ctx.gettext(group)
            text = ctx.templates.render(
                t(LEVEL_UP),
                {"name": name, "level": t(s.levels[level].name), "points": str(total)},
                where="points.levels",
            )
            ctx.emit_for_group(
                Action(ActionKind.SEND, group.source, group.chat_id, text=text), group
            )

    def _message(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
    ) -> None:
        event = item.event
        assert item.member_id is not None
        text = event.text.strip()
        if s.points_keywords and text in s.points_keywords:
            self._show_points(ctx, item, group, s)
            return
        if s.leaderboard_keywords and text in s.leaderboard_keywords:
            self._show_board(ctx, item, group, s)
            return
        if item.is_admin and not s.include_admins:
            return
        if (
            event.content_kind == ContentKind.TEXT
            and len("".join(text.split())) < s.message_min_chars
        ):
            return
        is_reply = bool(event.reply_to_message_id) and event.reply_to_user_id != event.user_id
        points = s.reply_points if is_reply else s.message_points
        if points <= 0:
            return
        row = self._balance(ctx, group.id, item.member_id)
        last = row.last_paid_message_at
        cooldown = timedelta(seconds=s.message_cooldown_seconds)
        if last is not None and event.occurred_at - last < cooldown:
            return  # a flood does not pay
        self.award(
            ctx,
            group,
            item.member_id,
            points,
            "reply" if is_reply else "message",
            at=event.occurred_at,
            cause_seq=item.seq,
            name=event.user_name or event.user_id,
            s=s,
            row=row,
            last_paid_message_at=event.occurred_at,
        )

    def _removed(self, ctx: BatchContext, item: Incoming) -> None:
        """Moderation removed a message of an earlier batch as an ad (a cross-group copy):
        the points it earned are taken back, in the month they were earned in."""
        removed = removed_message(ctx, item)
        if removed is None or item.group is None or item.group.id != removed.group_id:
            return
        self._flush(ctx)  # the ledger as the batch left it so far
        paid = ctx.conn.execute(_PAID_FOR, {"seq": removed.seq, "m": removed.member_id}).all()
        points = sum(int(r.points) for r in paid)
        if points <= 0:
            return
        s = ctx.settings(self, item.group, PointsSettings)
        self.award(
            ctx,
            item.group,
            removed.member_id,
            -points,
            "removed",
            at=removed.occurred_at,
            cause_seq=item.seq,
            name="",
            s=s,
        )

    def _checked_in(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
    ) -> None:
        event = item.event
        assert item.member_id is not None
        if item.is_admin and not s.include_admins:
            return
        made_up = bool(event.data.get("made_up"))
        name = event.user_name or event.user_id
        base = s.makeup_points if made_up else s.checkin_points
        reason = "makeup" if made_up else "checkin"
        gift = int(event.data.get("gift_points") or 0)
        self.award(  # one announcement of a level reached, with the gift counted in
            ctx,
            group,
            item.member_id,
            base,
            reason,
            at=event.occurred_at,
            cause_seq=item.seq,
            name=name,
            s=s,
            also=[(gift, "gift")] if gift > 0 else [],
        )

    def _reaction(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
    ) -> None:
        event = item.event
        if s.reaction_points <= 0 or event.data.get("removed"):
            return
        author = _author_named(event)
        if not author and event.message_id:
            author = (
                ctx.conn.execute(
                    _MESSAGE_AUTHOR,
                    {"src": event.source, "chat": event.chat_id, "msg": event.message_id},
                ).scalar()
                or ""
            )
        if not author or author == event.user_id:
            return  # nobody to pay, or a member applauding themselves
        targets = self._batch().targets
        key = (group.id, event.source, author)
        if key in targets:  # read for the whole batch (see _prefetch_targets)
            target = targets[key]
        else:
            target = ctx.conn.execute(
                _REACTION_TARGET, {"g": group.id, "src": event.source, "user": author}
            ).first()
        if target is None or (target.is_admin and not s.include_admins):
            return
        row = self._balance(ctx, group.id, int(target.member_id))
        today = local_day(event.occurred_at, group.timezone)
        so_far = int(row.reaction_points_today) if row.reaction_day == today else 0
        points = min(s.reaction_points, s.reaction_daily_cap - so_far)
        if points <= 0:
            return
        self.award(
            ctx,
            group,
            int(target.member_id),
            points,
            "reaction",
            at=event.occurred_at,
            cause_seq=item.seq,
            name=target.display_name or author,
            s=s,
            row=row,
            reaction_day=today,
            reaction_points_today=so_far + points,
        )

    # -- commands --------------------------------------------------------------------------
    def _show_points(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
    ) -> None:
        assert item.member_id is not None
        t = ctx.gettext(group)
        row = self._balance(ctx, group.id, item.member_id)
        self._flush_months(ctx)  # the month's race below reads them
        month = month_of(item.event.occurred_at, group.timezone)
        mine, rank = month_standing(ctx.conn, group.id, month, item.member_id)
        level = int(row.level)
        variables = {
            "name": item.event.user_name or item.event.user_id,
            "points": str(row.points),
            "level": t(s.levels[min(level, len(s.levels) - 1)].name),
            "month": str(mine),
            "rank": str(rank),
        }
        text = ctx.templates.render(
            t(MY_POINTS if mine > 0 else MY_POINTS_NONE), variables, where="points"
        )
        if level + 1 < len(s.levels):
            nxt = s.levels[level + 1]
            then = ctx.templates.render(
                t(NEXT_LEVEL),
                {"missing": str(nxt.points - int(row.points)), "next": t(nxt.name)},
                where="points",
            )
            text = t(TWO_SENTENCES).format(sentence=text, next_sentence=then)
        ctx.reply(item, text)

    def _show_board(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
    ) -> None:
        t = ctx.gettext(group)
        self._flush_months(ctx)
        board = leaderboard(ctx.conn, group.id, "month", item.event.occurred_at, s.leaderboard_size)
        if not board:
            text = ctx.templates.render(t(BOARD_EMPTY), {"group": group.title}, where="points")
        else:
            head = ctx.templates.render(t(BOARD_HEAD), {"group": group.title}, where="points")
            lines = [
                f"{r['rank']}. {r['member']} · {t(TOP_POINTS).format(points=r['points'])}"
                for r in board
            ]
            text = "\n".join([head, *lines])
        ctx.reply(item, text)

    # -- the month's top 3 -------------------------------------------------------------------
    def _month_end(self, ctx: BatchContext, now: datetime) -> None:
        """At the first tick of a month (each group's own zone), name last month's top 3."""
        by_key: dict[str, list[tuple[GroupInfo, date]]] = {}
        for group in ctx.all_groups():
            try:
                z = zone(group.timezone)
            except GroupopsError:
                continue
            first = local_day(now, z).replace(day=1)
            last_month_day = first - timedelta(days=1)
            key = f"top3:{last_month_day.year:04d}-{last_month_day.month:02d}"
            by_key.setdefault(key, []).append((group, last_month_day))
        for key, found in by_key.items():
            done = set(
                ctx.conn.execute(
                    select(feature_marks.c.group_id).where(
                        feature_marks.c.feature == self.name, feature_marks.c.mark == key
                    )
                ).scalars()
            )
            for group, month_day in found:
                if group.id in done:
                    continue
                try:
                    s = ctx.settings(self, group, PointsSettings)
                except ValidationError:
                    continue  # the engine records invalid settings when a group event comes
                if not s.enabled or not s.monthly_top:
                    continue
                if ctx.mark_once(group.id, key):
                    self._announce_top(ctx, group, s, month_day, now)

    def _announce_top(
        self, ctx: BatchContext, group: GroupInfo, s: PointsSettings, month_day: date, now: datetime
    ) -> None:
        z = zone(group.timezone)
        at = datetime.combine(month_day, time(12), tzinfo=z)
        top = leaderboard(ctx.conn, group.id, "month", at, 3)
        if not top:
            return
        t = ctx.gettext(group)
        month = t(MONTH_OF_YEAR).format(month=t(MONTHS[month_day.month - 1]), year=month_day.year)
        head = ctx.templates.render(
            t(TOP_HEAD), {"month": month, "group": group.title}, where="points.monthly_top"
        )
        lines = [head]
        prizes: list[tuple[dict[str, Any], int]] = []
        for r, medal in zip(top, MEDALS, strict=False):
            reward = (
                s.monthly_rewards[r["rank"] - 1] if r["rank"] <= len(s.monthly_rewards) else None
            )
            parts = [f"{medal} {r['member']} · {t(TOP_POINTS).format(points=r['points'])}"]
            if reward is not None:
                gifts = []
                if reward.points:
                    gifts.append(t(REWARD_POINTS).format(n=reward.points))
                if reward.text:
                    gifts.append(reward.text)
                if gifts:
                    parts.append("🎁 " + (", ".join(gifts)))
                if reward.points:
                    prizes.append((r, reward.points))
            lines.append(" · ".join(parts))
        lines.append(t(TOP_FOOT))
        ctx.emit_for_group(
            Action(ActionKind.SEND, group.source, group.chat_id, text="\n".join(lines)), group
        )
        for r, points in prizes:  # after the announcement: a level-up it causes comes next
            self.award(
                ctx,
                group,
                r["member_id"],
                points,
                "monthly_reward",
                at=now,
                cause_seq=None,
                name=r["member"],
                s=s,
            )


__all__ = [
    "PERIODS",
    "InvalidPeriod",
    "PointsFeature",
    "leaderboard",
    "member_points",
    "month_of",
    "period_bounds",
]
