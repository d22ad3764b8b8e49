"""check-in (签到/打卡): once a day in the group's time zone, streaks, gifts at streak lengths,
make-up cards (补签卡), the day's ranking and goal check-ins ("打卡 读了20页").

Every check-in is published as a derived ``checked_in`` event: the points feature pays for it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
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
from groupops.i18n import N_
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
_INSERT_STATS = insert(checkin_stats)
_SELECT_DONE = select(_d.streak).where(
    _d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day == bindparam("d")
)
_INSERT_DAY = insert(checkin_days)
_DAYS_UP_TO = (
    select(_d.day)
    .where(_d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day <= bindparam("d"))
    .order_by(_d.day.desc())
    .limit(4000)
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


@dataclass(frozen=True)
class CheckinResult:
    day: date
    streak: int
    total: int
    rank: int
    gift: Gift | None


class CheckinFeature:
    name: ClassVar[str] = "checkin"
    order: ClassVar[int] = 30
    settings_model: ClassVar[type[CheckinSettings]] = CheckinSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            group = item.group
            if group is None or item.member_id is None or not item.event.text:
                continue
            s = ctx.settings(self, group, CheckinSettings)
            text = item.event.text
            if len(text) > 2000:  # a long message is never a check-in command
                continue
            # a command is not conversation: later features (points) do not pay for it
            if s.ranking_keywords and _exact(text, s.ranking_keywords):
                self._ranking(ctx, item, group, s)
                ctx.suppress(item)
            elif s.makeup_keywords and _exact(text, s.makeup_keywords):
                self._makeup(ctx, item, group, s)
                ctx.suppress(item)
            else:
                hit = match_keyword(text, s.keywords)
                if hit is not None:
                    self._checkin(ctx, item, group, s, hit[0], hit[1])
                    ctx.suppress(item)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        conn.execute(delete(checkin_days).where(checkin_days.c.member_id == member_id))
        conn.execute(delete(checkin_stats).where(checkin_stats.c.member_id == member_id))

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
        if event.message_id:
            action = Action(
                ActionKind.REPLY,
                event.source,
                event.chat_id,
                user_id=event.user_id,
                message_id=event.message_id,
                text=rendered,
            )
        else:
            action = Action(ActionKind.SEND, event.source, event.chat_id, text=rendered)
        ctx.emit(action, item)

    def _stats(
        self, ctx: BatchContext, group: GroupInfo, member_id: int, s: CheckinSettings
    ) -> Any:
        key = {"g": group.id, "m": member_id}
        row = ctx.conn.execute(_SELECT_STATS, key).first()
        if row is None:
            ctx.conn.execute(
                _INSERT_STATS,
                {
                    "group_id": group.id,
                    "member_id": member_id,
                    "streak": 0,
                    "best_streak": 0,
                    "total": 0,
                    "last_day": None,
                    "cards": s.starting_cards,
                },
            )
            row = ctx.conn.execute(_SELECT_STATS, key).one()
        return row

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
        item: Incoming,
        group: GroupInfo,
        s: CheckinSettings,
        stats: Any,
        day: date,
        goal: str,
        made_up: bool,
    ) -> CheckinResult:
        """Store the day, bring the member's summary up to date, publish ``checked_in``."""
        assert item.member_id is not None
        event = item.event
        ctx.conn.execute(
            _INSERT_DAY,
            {
                "group_id": group.id,
                "member_id": item.member_id,
                "day": day,
                "checked_at": event.occurred_at,
                "streak": 0,
                "goal": goal[:2000],
                "made_up": made_up,
            },
        )
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
        gift = None if made_up else self._gift(s, streak)
        total = int(stats.total) + 1
        ctx.conn.execute(
            _UPDATE_STATS,
            {
                "g": group.id,
                "m": item.member_id,
                "b_streak": current,
                "b_best": max(int(stats.best_streak), current, streak),
                "b_total": total,
                "b_last": newest,
                "b_cards": int(stats.cards) + (gift.cards if gift else 0) - (1 if made_up else 0),
            },
        )
        rank = ctx.conn.execute(_RANK, {"g": group.id, "d": day}).scalar_one() if not made_up else 0
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
        return CheckinResult(day, streak, total, int(rank), gift)

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
        stats = self._stats(ctx, group, item.member_id, s)
        done = ctx.conn.execute(
            _SELECT_DONE, {"g": group.id, "m": item.member_id, "d": day}
        ).first()
        if done is not None:
            if s.reply:
                self._say(
                    ctx, item, group, t(ALREADY), {"streak": str(done.streak)}, "checkin.reply"
                )
            return
        result = self._record(ctx, item, group, s, stats, day, goal, made_up=False)
        if not s.reply:
            return
        variables = {
            "streak": str(result.streak),
            "total": str(result.total),
            "rank": str(result.rank),
            "goal": goal,
            "cards": str(int(stats.cards) + (result.gift.cards if result.gift else 0)),
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
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: CheckinSettings
    ) -> None:
        assert item.member_id is not None
        t = ctx.gettext(group)
        today = local_day(item.event.occurred_at, group.timezone)
        stats = self._stats(ctx, group, item.member_id, s)
        window = [today - timedelta(days=n) for n in range(1, s.makeup_max_days + 1)]
        if item.joined_at is not None:  # never a day before the member was in the group
            joined = local_day(item.joined_at, group.timezone)
            window = [d for d in window if d >= joined]
        have = set(
            ctx.conn.execute(
                select(checkin_days.c.day).where(
                    checkin_days.c.group_id == group.id,
                    checkin_days.c.member_id == item.member_id,
                    checkin_days.c.day.in_(window),
                )
            ).scalars()
        )
        missed = [d for d in window if d not in have]
        if not missed:
            self._say(
                ctx, item, group, t(NOTHING_MISSED), {"days": str(s.makeup_max_days)}, "checkin"
            )
            return
        if int(stats.cards) <= 0:
            self._say(ctx, item, group, t(NO_CARDS), {}, "checkin")
            return
        day = missed[0]  # the most recent missed day: the one that mends today's streak
        self._record(ctx, item, group, s, stats, day, "", made_up=True)
        after = ctx.conn.execute(
            select(checkin_stats.c.streak, checkin_stats.c.cards).where(
                checkin_stats.c.group_id == group.id,
                checkin_stats.c.member_id == item.member_id,
            )
        ).one()
        self._say(
            ctx,
            item,
            group,
            t(MADE_UP),
            {"day": day.isoformat(), "streak": str(after.streak), "cards": str(after.cards)},
            "checkin",
        )

    # -- the day's ranking -----------------------------------------------------------------
    def _ranking(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: CheckinSettings
    ) -> None:
        t = ctx.gettext(group)
        day = local_day(item.event.occurred_at, group.timezone)
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
        count = ctx.conn.execute(
            select(func.count())
            .select_from(checkin_days)
            .where(checkin_days.c.group_id == group.id, checkin_days.c.day == day)
        ).scalar_one()
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
    c = checkin_days.c
    rows = conn.execute(
        select(c.member_id, members.c.display_name, c.checked_at, c.streak, c.goal)
        .join(members, members.c.id == c.member_id)
        .where(c.group_id == group_id, c.day == day, c.made_up.is_(False))
        .order_by(c.checked_at, c.member_id)
        .limit(limit)
    ).all()
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
    c = checkin_stats.c
    row = conn.execute(
        select(checkin_stats).where(c.group_id == group_id, c.member_id == member_id)
    ).first()
    return dict(row._mapping) if row else None


__all__ = ["CheckinFeature", "day_ranking", "match_keyword", "member_checkins"]
