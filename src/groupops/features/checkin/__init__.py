"""check-in (签到/打卡): once a day in the group's time zone, streaks, gifts at streak lengths,
make-up cards (补签卡), the day's ranking and goal check-ins ("打卡 读了20页").

Every check-in is published as a derived ``checked_in`` event: the points feature pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, ClassVar

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import Event, EventKind
from groupops.domain.time import local_day, zone
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.checkin.settings import CheckinSettings, Gift
from groupops.features.checkin.tables import checkin_days, checkin_stats
from groupops.features.kept import Kept, load_members_of_group
from groupops.i18n import N_
from groupops.storage.bulk import Bulk
from groupops.storage.tables import members

DEFAULT_REPLY = N_("✅ {{ name }} checked in: day {{ streak }} in a row, #{{ rank }} today.")
GOAL_LINE = N_("Goal: {{ goal }}")
GIFT_LINE = N_("🎁 {{ streak }} days in a row! Your gift: {{ gift }}")
GIFT_POINTS = N_("+{n} points")
GIFT_CARDS = N_("{n} make-up card(s)")
ALREADY = N_("{{ name }}, you have already checked in today (day {{ streak }} in a row).")
NEED_GOAL = N_(
    "{{ name }}, this group checks in with what you did, e.g. “{{ keyword }} read 20 pages”."
)
MADE_UP = N_(
    "🗓 {{ name }} used a make-up card for {{ day }}: now {{ streak }} days in a row "
    "({{ cards }} card(s) left)."
)
NO_CARDS = N_("{{ name }}, you have no make-up cards (补签卡) yet: they come with streak gifts.")
NOTHING_MISSED = N_("{{ name }}, there is no missed day to make up in the last {{ days }} days.")
RANKING_HEAD = N_("📋 Check-ins today in {{ group }} ({{ count }}):")
RANKING_EMPTY = N_("Nobody has checked in today in {{ group }} yet. Be the first!")
RANKING_LINE = N_("{rank}. {name} {time} · day {streak}")

#: after a CJK keyword the content may follow at once ("打卡读了20页"); after a Latin one or a
#: command there must be a break ("/checkin read", not "/checking")
_BREAK = re.compile(r"[\s:：,，.。!！\-—]")


@lru_cache(maxsize=256)
def _prepared(keywords: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The keywords' lower-case prefixes (a quick "none of them") and, longest first, each
    keyword with its lower-case form."""
    ordered = sorted(keywords, key=len, reverse=True)
    return tuple(kw.lower() for kw in ordered), tuple((kw, kw.lower()) for kw in ordered)


def match_keyword(text: str, keywords: Sequence[str]) -> tuple[str, str] | None:
    """``(keyword, rest)`` when ``text`` is or starts with one of ``keywords``."""
    prefixes, ordered = _prepared(tuple(keywords))
    stripped = text.strip()
    low = stripped.lower()
    if not low.startswith(prefixes):  # most messages: no keyword at all
        return None
    for kw, k in ordered:
        if not low.startswith(k):
            continue
        rest = stripped[len(kw) :]
        if rest.startswith("@") and kw.startswith("/"):  # /checkin@groupops_bot read 20 pages
            rest = " " + rest.partition(" ")[2]
        if rest and not _BREAK.match(rest[0]) and kw.isascii():
            continue
        return kw, rest.strip(" \t\r\n:：,，-—")
    return None


def _exact(text: str, keywords: Sequence[str]) -> bool:
    hit = match_keyword(text, keywords)
    return hit is not None and not hit[1]


_d, _st = checkin_days.c, checkin_stats.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_SELECT_STATS = select(checkin_stats).where(
    _st.group_id == bindparam("g"), _st.member_id == bindparam("m")
)
_GROUP_STATS = select(checkin_stats).where(_st.group_id == bindparam("g")).limit(bindparam("n"))
_SELECT_STATS_OF = select(checkin_stats).where(
    _st.group_id == bindparam("g"), _st.member_id.in_(bindparam("ms", expanding=True))
)
_INSERT_STATS = insert(checkin_stats)
_SELECT_DONE = select(_d.streak).where(
    _d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day == bindparam("d")
)
_INSERT_DAY = insert(checkin_days)
#: the streak a day makes is the run of days up to it, at most this long (a query's limit)
_LONGEST = 4000
_DAYS_UP_TO = (
    select(_d.day)
    .where(_d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day <= bindparam("d"))
    .order_by(_d.day.desc())
    .limit(_LONGEST)
)
_DAYS_IN = select(_d.day).where(
    _d.group_id == bindparam("g"),
    _d.member_id == bindparam("m"),
    _d.day.in_(bindparam("ds", expanding=True)),
)
_SET_DAY_STREAK = (
    update(checkin_days)
    .where(_d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day == bindparam("d"))
    .values(streak=bindparam("b_streak"))
)
_UPDATE_STATS = (
    update(checkin_stats)
    .where(_st.group_id == bindparam("g"), _st.member_id == bindparam("m"))
    .values(
        streak=bindparam("b_streak"),
        best_streak=bindparam("b_best"),
        total=bindparam("b_total"),
        last_day=bindparam("b_last"),
        cards=bindparam("b_cards"),
    )
)
_RANK = (
    select(func.count())
    .select_from(checkin_days)
    .where(_d.group_id == bindparam("g"), _d.day == bindparam("d"), _d.made_up.is_(False))
)
_COUNT_DAY = (
    select(func.count())
    .select_from(checkin_days)
    .where(_d.group_id == bindparam("g"), _d.day == bindparam("d"))
)
_DAY_RANKING = (
    select(_d.member_id, members.c.display_name, _d.checked_at, _d.streak, _d.goal)
    .join(members, members.c.id == _d.member_id)
    .where(_d.group_id == bindparam("g"), _d.day == bindparam("d"), _d.made_up.is_(False))
    .order_by(_d.checked_at, _d.member_id)
    .limit(bindparam("n"))
)
_DAYS_BULK, _NEW_STATS_BULK, _STATS_BULK = (
    Bulk(_INSERT_DAY),
    Bulk(_INSERT_STATS),
    Bulk(_UPDATE_STATS),
)


@dataclass(frozen=True)
class CheckinResult:
    day: date
    streak: int
    total: int
    rank: int
    gift: Gift | None


@dataclass
class _Stats:
    """A member's summary (checkin_stats) while a batch runs; written once at its end."""

    group_id: int
    member_id: int
    streak: int
    best_streak: int
    total: int
    last_day: date | None
    cards: int
    new: bool = False  # not stored yet
    dirty: bool = False  # changed since it was read

    def params(self) -> dict[str, Any]:
        return {
            "g": self.group_id,
            "m": self.member_id,
            "b_streak": self.streak,
            "b_best": self.best_streak,
            "b_total": self.total,
            "b_last": self.last_day,
            "b_cards": self.cards,
        }

    def row(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "streak": self.streak,
            "best_streak": self.best_streak,
            "total": self.total,
            "last_day": self.last_day,
            "cards": self.cards,
        }


@dataclass
class _Batch:
    """What one ``handle`` call reads once and writes once.

    The summaries of the batch's members are read in one query per group and written at the
    end; new days wait in ``days`` until something reads checkin_days (a make-up, a ranking, an
    unusual check-in) or the batch ends. Invariant used by the usual check-in: a member's
    ``last_day`` is their latest stored day and ``streak`` the run of days ending on it (every
    day is written by ``_record``, which keeps both), so a check-in after ``last_day`` needs
    no query at all.
    """

    conn: Connection
    #: summaries and day counts earlier batches read or wrote (CheckinFeature's)
    kept_stats: Kept[tuple[int, int], _Stats] = field(default_factory=Kept)
    kept_counts: Kept[tuple[int, date], int] = field(default_factory=Kept)
    #: (group, member) -> summary; None: no row stored (created on first use)
    stats: dict[tuple[int, int], _Stats | None] = field(default_factory=dict)
    days: list[dict[str, Any]] = field(default_factory=list)
    #: (group, day) -> check-ins that day without a make-up card, pending ones included
    counts: dict[tuple[int, date], int] = field(default_factory=dict)

    def remembered(self, gid: int, mid: int) -> bool:
        """Take the member's summary from what earlier batches kept, if they did (a group
        read whole the first time it is seen: then a member not kept has none)."""
        key = (gid, mid)
        if key in self.stats:
            return True

        load_group_stats(self.kept_stats, self.conn, gid)
        st = self.kept_stats.get(key)
        if st is not None:
            self.stats[key] = replace(st)
            return True
        if self.kept_stats.complete(gid):
            self.stats[key] = None
            return True
        return False

    def prefetch(self, wanted: dict[int, set[int]]) -> None:
        for gid, mids in wanted.items():
            ordered = sorted(m for m in mids if not self.remembered(gid, m))
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                found = {
                    int(r.member_id): r
                    for r in self.conn.execute(_SELECT_STATS_OF, {"g": gid, "ms": chunk})
                }
                for mid in chunk:
                    row = found.get(mid)
                    self.stats[(gid, mid)] = None if row is None else _from_row(row)

    def write_days(self) -> None:
        """Store the pending days (before anything reads checkin_days)."""
        if self.days:
            _DAYS_BULK.run(self.conn, self.days)
            self.days = []

    def write(self) -> None:
        self.write_days()
        known = [st for st in self.stats.values() if st is not None]
        new = [st.row() for st in known if st.new]
        changed = [st.params() for st in known if st.dirty and not st.new]
        if new:
            _NEW_STATS_BULK.run(self.conn, new)
        if changed:
            _STATS_BULK.run(self.conn, changed)
        for st in known:
            st.new = st.dirty = False
            self.kept_stats.stage((st.group_id, st.member_id), replace(st))
        for key, count in self.counts.items():
            self.kept_counts.stage(key, count)


def load_group_stats(kept: Kept[tuple[int, int], _Stats], conn: Connection, gid: int) -> None:
    """Every summary of the group, the first time (features.kept)."""
    load_members_of_group(kept, conn, gid, _GROUP_STATS, _from_row)


def _from_row(row: Any) -> _Stats:
    return _Stats(
        int(row.group_id),
        int(row.member_id),
        int(row.streak),
        int(row.best_streak),
        int(row.total),
        row.last_day,
        int(row.cards),
    )


class CheckinFeature:
    name: ClassVar[str] = "checkin"
    order: ClassVar[int] = 30
    settings_model: ClassVar[type[CheckinSettings]] = CheckinSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def __init__(self) -> None:
        #: members' summaries and each group's check-ins a day, kept between batches (this
        #: process is the only one checking in its groups; see docs/operations.md)
        self._kept_stats: Kept[tuple[int, int], _Stats] = Kept()
        self._kept_counts: Kept[tuple[int, date], int] = Kept()

    def warm_up(self, ctx: BatchContext) -> None:
        for group in ctx.all_groups():
            load_group_stats(self._kept_stats, ctx.conn, group.id)

    def committed(self) -> None:
        self._kept_stats.committed()
        self._kept_counts.committed()

    def rolled_back(self) -> None:
        self._kept_stats.rolled_back()
        self._kept_counts.rolled_back()

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        # first what each message asks for, then the asking members' summaries in one query
        # per group, then the work in the batch's order, then one write
        todo: list[tuple[Incoming, GroupInfo, CheckinSettings, str, str, str]] = []
        wanted: dict[int, set[int]] = {}
        for item in batch:
            group = item.group
            if group is None or item.member_id is None or not item.event.text:
                continue
            s = ctx.settings(self, group, CheckinSettings)
            text = item.event.text
            if len(text) > 2000:  # a long message is never a check-in command
                continue
            if s.ranking_keywords and _exact(text, s.ranking_keywords):
                todo.append((item, group, s, "ranking", "", ""))
                continue
            if s.makeup_keywords and _exact(text, s.makeup_keywords):
                todo.append((item, group, s, "makeup", "", ""))
            else:
                hit = match_keyword(text, s.keywords)
                if hit is None:
                    continue
                todo.append((item, group, s, "checkin", hit[0], hit[1]))
            wanted.setdefault(group.id, set()).add(item.member_id)
        if not todo:
            return
        b = _Batch(ctx.conn, self._kept_stats, self._kept_counts)
        b.prefetch(wanted)
        for item, group, s, what, keyword, goal in todo:
            # a command is not conversation: later features (points) do not pay for it
            if what == "ranking":
                self._ranking(ctx, b, item, group, s)
            elif what == "makeup":
                self._makeup(ctx, b, item, group, s)
            else:
                self._checkin(ctx, b, item, group, s, keyword, goal)
            ctx.suppress(item)
        b.write()

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        conn.execute(delete(checkin_days).where(checkin_days.c.member_id == member_id))
        conn.execute(delete(checkin_stats).where(checkin_stats.c.member_id == member_id))
        self._kept_stats.forget(lambda key: key[1] == member_id)
        self._kept_counts.forget(lambda key: True)  # the days they checked in no longer count

    # -- helpers ---------------------------------------------------------------------------
    def _say(
        self,
        ctx: BatchContext,
        item: Incoming,
        group: GroupInfo,
        text: str,
        variables: dict[str, str],
        where: str,
    ) -> None:
        event = item.event
        rendered = ctx.templates.render(
            text,
            {"name": event.user_name or event.user_id, "group": group.title, **variables},
            where=where,
        )
        ctx.reply(item, rendered)

    def _stats(self, b: _Batch, group: GroupInfo, member_id: int, s: CheckinSettings) -> _Stats:
        """The member's summary, created (with the starting cards) on first use."""
        key = (group.id, member_id)
        if not b.remembered(group.id, member_id):
            row = b.conn.execute(_SELECT_STATS, {"g": group.id, "m": member_id}).first()
            b.stats[key] = None if row is None else _from_row(row)
        st = b.stats[key]
        if st is None:
            st = _Stats(group.id, member_id, 0, 0, 0, None, s.starting_cards, new=True)
            b.stats[key] = st
        return st

    def _streak_ending(self, conn: Connection, group_id: int, member_id: int, day: date) -> int:
        days = conn.execute(_DAYS_UP_TO, {"g": group_id, "m": member_id, "d": day}).scalars()
        streak, expected = 0, day
        for d in days:
            if d != expected:
                break
            streak += 1
            expected = d - timedelta(days=1)
        return streak

    def _record(
        self,
        ctx: BatchContext,
        b: _Batch,
        item: Incoming,
        group: GroupInfo,
        s: CheckinSettings,
        stats: _Stats,
        day: date,
        goal: str,
        made_up: bool,
    ) -> CheckinResult:
        """Store the day, bring the member's summary up to date, publish ``checked_in``."""
        assert item.member_id is not None
        event = item.event
        row = {
            "group_id": group.id,
            "member_id": item.member_id,
            "day": day,
            "checked_at": event.occurred_at,
            "streak": 0,
            "goal": goal[:2000],
            "made_up": made_up,
        }
        if stats.last_day is None or day > stats.last_day:
            # the usual case, a day after the latest: the run ending yesterday goes on
            yesterday = day - timedelta(days=1)
            before = stats.streak if stats.last_day == yesterday else 0
            streak = current = min(before + 1, _LONGEST)
            b.days.append({**row, "streak": streak})
        else:
            # a day before the latest (a make-up card, a late event): count from the days
            b.write_days()
            ctx.conn.execute(_INSERT_DAY, row)
            streak = self._streak_ending(ctx.conn, group.id, item.member_id, day)
            ctx.conn.execute(
                _SET_DAY_STREAK, {"g": group.id, "m": item.member_id, "d": day, "b_streak": streak}
            )
            newest = max(d for d in (day, stats.last_day) if d is not None)
            current = (
                streak
                if newest == day
                else self._streak_ending(ctx.conn, group.id, item.member_id, newest)
            )
        newest = max(d for d in (day, stats.last_day) if d is not None)
        gift = None if made_up else self._gift(s, streak)
        total = stats.total + 1
        stats.best_streak = max(stats.best_streak, current, streak)
        stats.streak = current
        stats.total = total
        stats.last_day = newest
        stats.cards = stats.cards + (gift.cards if gift else 0) - (1 if made_up else 0)
        stats.dirty = True
        rank = 0 if made_up else self._rank(b, group.id, day)
        ctx.derive(
            Event(
                event.source,
                f"checkin:{group.id}:{item.member_id}:{day.isoformat()}",
                EventKind.CHECKED_IN,
                event.occurred_at,
                chat_id=event.chat_id,
                user_id=event.user_id,
                user_name=event.user_name,
                is_admin=event.is_admin,
                data={
                    "day": day.isoformat(),
                    "streak": streak,
                    "total": total,
                    "goal": goal[:500],
                    "made_up": made_up,
                    "gift_points": gift.points if gift else 0,
                    "cause_seq": item.seq,
                },
            )
        )
        return CheckinResult(day, streak, total, rank, gift)

    @staticmethod
    def _rank(b: _Batch, group_id: int, day: date) -> int:
        """The place of a check-in just recorded (made-up days do not count)."""
        key = (group_id, day)
        if key not in b.counts and (count := b.kept_counts.get(key)) is not None:
            b.counts[key] = count
        if key in b.counts:
            b.counts[key] += 1
        else:
            b.write_days()
            b.counts[key] = int(b.conn.execute(_RANK, {"g": group_id, "d": day}).scalar_one())
        return b.counts[key]

    @staticmethod
    def _gift(s: CheckinSettings, streak: int) -> Gift | None:
        by_streak = {g.streak: g for g in s.gifts}
        if streak in by_streak:
            return by_streak[streak]
        if s.gifts_repeat and by_streak:
            cycle = max(by_streak)
            again = (streak - 1) % cycle + 1
            if streak > cycle and again in by_streak:
                return by_streak[again]
        return None

    # -- check-in --------------------------------------------------------------------------
    def _checkin(
        self,
        ctx: BatchContext,
        b: _Batch,
        item: Incoming,
        group: GroupInfo,
        s: CheckinSettings,
        keyword: str,
        goal: str,
    ) -> None:
        assert item.member_id is not None
        t = ctx.gettext(group)
        if s.goal_required and len(goal) < s.goal_min_chars:
            self._say(ctx, item, group, t(NEED_GOAL), {"keyword": keyword}, "checkin.goal")
            return
        day = local_day(item.event.occurred_at, group.timezone)
        stats = self._stats(b, group, item.member_id, s)
        if stats.last_day is not None and day <= stats.last_day:  # else no such day is stored
            b.write_days()
            done = ctx.conn.execute(
                _SELECT_DONE, {"g": group.id, "m": item.member_id, "d": day}
            ).first()
            if done is not None:
                if s.reply:
                    self._say(
                        ctx, item, group, t(ALREADY), {"streak": str(done.streak)}, "checkin.reply"
                    )
                return
        cards = stats.cards  # before the gift
        result = self._record(ctx, b, item, group, s, stats, day, goal, made_up=False)
        if not s.reply:
            return
        variables = {
            "streak": str(result.streak),
            "total": str(result.total),
            "rank": str(result.rank),
            "goal": goal,
            "cards": str(cards + (result.gift.cards if result.gift else 0)),
        }
        text = s.reply_template or t(DEFAULT_REPLY)
        if goal and s.reply_template is None:
            text += "\n" + t(GOAL_LINE)
        if result.gift is not None:
            parts = []
            if result.gift.points:
                parts.append(t(GIFT_POINTS).format(n=result.gift.points))
            if result.gift.cards:
                parts.append(t(GIFT_CARDS).format(n=result.gift.cards))
            if result.gift.text:
                parts.append(result.gift.text)
            if parts:
                sep = "，" if group.language.startswith("zh") else ", "
                variables["gift"] = sep.join(parts)
                text += "\n" + t(GIFT_LINE)
        self._say(ctx, item, group, text, variables, "checkin.reply_template")

    # -- make-up cards -----------------------------------------------------------------------
    def _makeup(
        self, ctx: BatchContext, b: _Batch, item: Incoming, group: GroupInfo, s: CheckinSettings
    ) -> None:
        assert item.member_id is not None
        t = ctx.gettext(group)
        today = local_day(item.event.occurred_at, group.timezone)
        stats = self._stats(b, group, item.member_id, s)
        window = [today - timedelta(days=n) for n in range(1, s.makeup_max_days + 1)]
        if item.joined_at is not None:  # never a day before the member was in the group
            joined = local_day(item.joined_at, group.timezone)
            window = [d for d in window if d >= joined]
        b.write_days()
        have = set(
            ctx.conn.execute(_DAYS_IN, {"g": group.id, "m": item.member_id, "ds": window}).scalars()
        )
        missed = [d for d in window if d not in have]
        if not missed:
            self._say(
                ctx, item, group, t(NOTHING_MISSED), {"days": str(s.makeup_max_days)}, "checkin"
            )
            return
        if stats.cards <= 0:
            self._say(ctx, item, group, t(NO_CARDS), {}, "checkin")
            return
        day = missed[0]  # the most recent missed day: the one that mends today's streak
        self._record(ctx, b, item, group, s, stats, day, "", made_up=True)
        self._say(
            ctx,
            item,
            group,
            t(MADE_UP),
            {"day": day.isoformat(), "streak": str(stats.streak), "cards": str(stats.cards)},
            "checkin",
        )

    # -- the day's ranking -----------------------------------------------------------------
    def _ranking(
        self, ctx: BatchContext, b: _Batch, item: Incoming, group: GroupInfo, s: CheckinSettings
    ) -> None:
        t = ctx.gettext(group)
        day = local_day(item.event.occurred_at, group.timezone)
        b.write_days()
        rows = day_ranking(ctx.conn, group.id, day, limit=s.ranking_size)
        if not rows:
            self._say(ctx, item, group, t(RANKING_EMPTY), {}, "checkin")
            return
        tz = zone(group.timezone)
        lines = [t(RANKING_HEAD)]
        for r in rows:
            lines.append(
                t(RANKING_LINE).format(
                    rank=r["rank"],
                    name=r["member"],
                    time=r["checked_at"].astimezone(tz).strftime("%H:%M"),
                    streak=r["streak"],
                )
            )
        count = ctx.conn.execute(_COUNT_DAY, {"g": group.id, "d": day}).scalar_one()
        # names come from members: render only the header as a template, never their names
        head = ctx.templates.render(
            lines[0], {"group": group.title, "count": str(count)}, where="checkin"
        )
        event = item.event
        ctx.emit(
            Action(
                ActionKind.SEND, event.source, event.chat_id, text="\n".join([head, *lines[1:]])
            ),
            item,
        )


def day_ranking(
    conn: Connection, group_id: int, day: date, *, limit: int = 10
) -> list[dict[str, Any]]:
    """Who checked in on ``day`` (the group's calendar day), first come first."""
    rows = conn.execute(_DAY_RANKING, {"g": group_id, "d": day, "n": limit}).all()
    return [
        {
            "rank": n,
            "member_id": int(r.member_id),
            "member": r.display_name,
            "checked_at": r.checked_at,
            "streak": int(r.streak),
            "goal": r.goal,
        }
        for n, r in enumerate(rows, 1)
    ]


def member_checkins(conn: Connection, group_id: int, member_id: int) -> dict[str, Any] | None:
    """A member's check-in summary in one group (streak, best, total, last day, cards)."""
    row = conn.execute(_SELECT_STATS, {"g": group_id, "m": member_id}).first()
    return dict(row._mapping) if row else None


__all__ = ["CheckinFeature", "day_ranking", "match_keyword", "member_checkins"]
