"""The days members checked in (``checkin_days``) and each member's summary (``checkin_stats``:
streak, best, total, latest day, make-up cards): a check-in recorded, its streak, its gift at a
streak length, its place in the day. A batch reads its members' summaries once (or takes them
from those kept since earlier batches) and writes them, and its new days, once at its end."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from groupops.domain.events import Event, EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming, RemovedMessage
from groupops.features.checkin.settings import CheckinSettings, Gift
from groupops.features.checkin.tables import checkin_days, checkin_stats
from groupops.features.commands import Answers
from groupops.features.kept import Kept, KeptRows
from groupops.storage.bulk import Bulk

_d, _st = checkin_days.c, checkin_stats.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_SELECT_STATS = select(checkin_stats).where(
    _st.group_id == bindparam("g"), _st.member_id == bindparam("m")
)
_INSERT_STATS = insert(checkin_stats)
_INSERT_DAY = insert(checkin_days)
#: the streak a day makes is the run of days up to it, at most this long (a query's limit)
_LONGEST = 4000
_DAYS_UP_TO = (
    select(_d.day)
    .where(_d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day <= bindparam("d"))
    .order_by(_d.day.desc())
    .limit(_LONGEST)
)
_DAYS_AFTER = (
    select(_d.day)
    .where(_d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day > bindparam("d"))
    .order_by(_d.day)
    .limit(_LONGEST)
)
#: the run after a day filled late moves on by the days before it (its streaks count from them)
_SHIFT_STREAKS = (
    update(checkin_days)
    .where(
        _d.group_id == bindparam("g"),
        _d.member_id == bindparam("m"),
        _d.day > bindparam("d"),
        _d.day <= bindparam("last"),
    )
    .values(streak=_d.streak + bindparam("by"))
)
#: a day taken back (see take_back): the one its check-in stored, at the message's time
_DELETE_DAY = delete(checkin_days).where(
    _d.group_id == bindparam("g"),
    _d.member_id == bindparam("m"),
    _d.day == bindparam("d"),
    _d.checked_at == bindparam("at"),
)
_LATEST_DAY = select(func.max(_d.day)).where(
    _d.group_id == bindparam("g"), _d.member_id == bindparam("m")
)
_BEST_STREAK = select(func.max(_d.streak)).where(
    _d.group_id == bindparam("g"), _d.member_id == bindparam("m")
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
_DAYS_BULK, _NEW_STATS_BULK, _STATS_BULK = (
    Bulk(_INSERT_DAY),
    Bulk(_INSERT_STATS),
    Bulk(_UPDATE_STATS),
)


@dataclass(frozen=True)
class CheckinResult:
    day: date
    #: the streak the day made (its place in the run of days up to it)
    streak: int
    #: the streak the run through the day reached: ``streak``, and for a day filled before
    #: the latest, the days after it that it joined
    reached: int
    total: int
    rank: int
    #: the gifts this day paid: the streak lengths it reached for the first time (a day filled
    #: late can reach more than one; see :func:`run_after`)
    gifts: tuple[Gift, ...]


@dataclass
class Stats:
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
class Batch:
    """What one ``handle`` call reads once and writes once.

    The summaries of the batch's members are read in one query per group and written at the
    end; new days wait in ``days`` until something reads checkin_days (a make-up, a ranking, an
    unusual check-in) or the batch ends. Invariant used by the usual check-in: a member's
    ``last_day`` is their latest stored day and ``streak`` the run of days ending on it (every
    day is written by ``record``, which keeps both), so a check-in after ``last_day`` needs
    no query at all.
    """

    conn: Connection
    #: summaries and day counts earlier batches read or wrote (CheckinFeature's)
    kept_stats: KeptRows[Stats]
    kept_counts: Kept[tuple[int, date], int] = field(default_factory=Kept)
    #: when members' repeated commands were last answered (CheckinFeature's)
    answers: Answers = field(default_factory=Answers)
    #: (group, member) -> summary; None: no row stored (created on first use)
    stats: dict[tuple[int, int], Stats | None] = field(default_factory=dict)
    days: list[dict[str, Any]] = field(default_factory=list)
    #: (group, day) -> check-ins that day without a make-up card, pending ones included
    counts: dict[tuple[int, date], int] = field(default_factory=dict)

    def prefetch(self, wanted: dict[int, set[int]]) -> None:
        """The summaries of the members asking for something, kept or read at once."""
        keys = [(g, m) for g, mids in wanted.items() for m in sorted(mids)]
        self.stats.update(self.kept_stats.read(self.conn, (k for k in keys if k not in self.stats)))

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


def stats_of(row: Any) -> Stats:
    """A stored summary row as the feature's."""
    return Stats(
        int(row.group_id),
        int(row.member_id),
        int(row.streak),
        int(row.best_streak),
        int(row.total),
        row.last_day,
        int(row.cards),
    )


def summary(b: Batch, group: GroupInfo, member_id: int, s: CheckinSettings) -> Stats:
    """The member's summary, created (with the starting cards) on first use."""
    key = (group.id, member_id)
    if key not in b.stats:
        b.stats[key] = b.kept_stats.read_one(b.conn, key)
    st = b.stats[key]
    if st is None:
        st = Stats(group.id, member_id, 0, 0, 0, None, s.starting_cards, new=True)
        b.stats[key] = st
    return st


def _streak_ending(conn: Connection, group_id: int, member_id: int, day: date) -> int:
    days = conn.execute(_DAYS_UP_TO, {"g": group_id, "m": member_id, "d": day}).scalars()
    streak, expected = 0, day
    for d in days:
        if d != expected:
            break
        streak += 1
        expected = d - timedelta(days=1)
    return streak


def run_after(conn: Connection, group_id: int, member_id: int, day: date) -> int:
    """How many days in a row the member checked in right after ``day`` (0: not the next)."""
    days = conn.execute(_DAYS_AFTER, {"g": group_id, "m": member_id, "d": day}).scalars()
    run, expected = 0, day + timedelta(days=1)
    for d in days:
        if d != expected:
            break
        run += 1
        expected = d + timedelta(days=1)
    return run


def paid_a_gift(s: CheckinSettings, run: int) -> bool:
    """Whether a run of ``run`` days reached a gift length (and was paid its gift)."""
    return any(g.streak <= run for g in s.gifts)


def record(
    ctx: BatchContext,
    b: Batch,
    item: Incoming,
    group: GroupInfo,
    s: CheckinSettings,
    stats: Stats,
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
        reached = streak
        gifts = _gifts(s, streak, streak)
    else:
        # a day before the latest (a make-up card, a late event): count from the days. It
        # joins the run before it and the run after it into one streak: that run's days now
        # count from the run before, and the lengths the joined streak reaches for the first
        # time pay their gifts now, once. A run after that was paid a gift of its own pays
        # nothing more (a make-up card never fills such a day: makeup.py), so that no gift is
        # paid twice in one streak
        b.write_days()
        ctx.conn.execute(_INSERT_DAY, row)
        streak = _streak_ending(ctx.conn, group.id, item.member_id, day)
        ctx.conn.execute(
            _SET_DAY_STREAK, {"g": group.id, "m": item.member_id, "d": day, "b_streak": streak}
        )
        after = run_after(ctx.conn, group.id, item.member_id, day)
        if after:
            last = day + timedelta(days=after)
            ctx.conn.execute(
                _SHIFT_STREAKS,
                {"g": group.id, "m": item.member_id, "d": day, "last": last, "by": streak},
            )
        reached = streak + after
        gifts = () if paid_a_gift(s, after) else _gifts(s, streak, reached)
        newest = max(d for d in (day, stats.last_day) if d is not None)
        current = (
            streak if newest == day else _streak_ending(ctx.conn, group.id, item.member_id, newest)
        )
    newest = max(d for d in (day, stats.last_day) if d is not None)
    total = stats.total + 1
    stats.best_streak = max(stats.best_streak, current, streak)
    stats.streak = current
    stats.total = total
    stats.last_day = newest
    stats.cards = stats.cards + sum(g.cards for g in gifts) - (1 if made_up else 0)
    stats.dirty = True
    rank = 0 if made_up else _rank(b, group.id, day)
    ctx.derive(
        Event(
            event.source,
            # the message's seq too: a day taken back (take_back) can be checked in again
            f"checkin:{group.id}:{item.member_id}:{day.isoformat()}:{item.seq}",
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
                "gift_points": sum(g.points for g in gifts),
                "gift_cards": sum(g.cards for g in gifts),
                "cause_seq": item.seq,
            },
        )
    )
    return CheckinResult(day, streak, reached, total, rank, gifts)


def take_back(
    ctx: BatchContext, b: Batch, group: GroupInfo, s: CheckinSettings, removed: RemovedMessage
) -> bool:
    """Moderation removed the message a check-in was made with (a cross-group spam found out
    later): its day is taken out as if it had never been checked in. The run of days it was in
    splits: the days after it count again from the day after it (their stored streaks drop by
    the streak it made). The member's summary is worked out again from the days left: total,
    latest day, current streak, best streak (the longest stored). The make-up card it used comes
    back and the cards its gift gave go (never below 0). Points takes back its points and its
    gift's points (points.earning.take_back_removed). Gifts other days paid since, on the
    strength of the run it was in, stay theirs; the lengths the split run reaches again pay
    their gifts again. Whether anything was taken back."""
    conn, m = ctx.conn, removed.member_id
    found = ctx.derived_from(removed, EventKind.CHECKED_IN)
    if not found:
        return False
    b.write_days()
    stats = summary(b, group, m, s)
    taken = False
    for _, data in found:
        day = date.fromisoformat(str(data["day"]))
        streak = _streak_ending(conn, group.id, m, day)
        after = run_after(conn, group.id, m, day)
        params = {"g": group.id, "m": m, "d": day, "at": removed.occurred_at}
        if conn.execute(_DELETE_DAY, params).rowcount != 1:
            continue  # not stored (forgotten, or taken back already)
        taken = True
        if after and streak:
            last = day + timedelta(days=after)
            shift = {"g": group.id, "m": m, "d": day, "last": last, "by": -streak}
            conn.execute(_SHIFT_STREAKS, shift)
        made_up = bool(data.get("made_up"))
        stats.cards = max(0, stats.cards + (1 if made_up else 0) - int(data.get("gift_cards") or 0))
        stats.total = max(0, stats.total - 1)
        key = (group.id, day)
        if not made_up:  # one check-in fewer that day (the places it counts)
            count = b.counts.get(key, b.kept_counts.get(key))
            if count is not None:
                b.counts[key] = max(0, count - 1)
    if not taken:
        return False
    latest = conn.execute(_LATEST_DAY, {"g": group.id, "m": m}).scalar()
    stats.last_day = latest
    stats.streak = 0 if latest is None else _streak_ending(conn, group.id, m, latest)
    stats.best_streak = int(conn.execute(_BEST_STREAK, {"g": group.id, "m": m}).scalar() or 0)
    stats.dirty = True
    return True


def _rank(b: Batch, group_id: int, day: date) -> int:
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


def _gifts(s: CheckinSettings, first: int, last: int) -> tuple[Gift, ...]:
    """The gifts of the streak lengths ``first`` to ``last``."""
    if not s.gifts:
        return ()
    found = (_gift(s, n) for n in range(first, min(last, _LONGEST) + 1))
    return tuple(g for g in found if g is not None)


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


def member_checkins(conn: Connection, group_id: int, member_id: int) -> dict[str, Any] | None:
    """A member's check-in summary in one group (streak, best, total, last day, cards)."""
    row = conn.execute(_SELECT_STATS, {"g": group_id, "m": member_id}).first()
    return dict(row._mapping) if row else None
