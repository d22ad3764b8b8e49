"""The points race, read: day, week and month leaderboards summed in SQL, a member's standing
in the month, the UTC bounds of a period in a group's time zone. The feature's commands, the
top 3 at a month's end and the ``leaderboard`` CLI command all read through these.

The race is among the group's members: one who left (or was removed, an advertiser kicked)
keeps their points but is on no board and in no top 3, and counts ahead of nobody, until they
join again."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select, text

from groupops.domain.errors import GroupopsError, NotFound
from groupops.domain.time import local_day, zone
from groupops.features.points.tables import points_balances, points_ledger, points_months
from groupops.i18n import N_
from groupops.storage.tables import MEMBERSHIP_GONE, groups, members, memberships

PERIODS = ("day", "week", "month")
#: ledger reasons that do not count in leaderboards (the prize of the last race)
NOT_RACED = ("monthly_reward",)

_m = points_months.c
_ms = memberships.c


def _in_group(group_id: Any, member_id: Any) -> Any:
    """The member is in the group now (the race is among its members)."""
    return (
        select(_ms.id)
        .where(_ms.group_id == group_id, _ms.member_id == member_id, _ms.status == "active")
        .exists()
    )


_MY_MONTH = select(points_months.c.points, points_months.c.last_at).where(
    points_months.c.group_id == bindparam("g"),
    points_months.c.month == bindparam("month"),
    points_months.c.member_id == bindparam("m"),
)


def _ahead_of(points: Any, last_at: Any, member_id: Any) -> Any:
    """Ahead of the member in the month's race, in the leaderboard's order: more points, or as
    many sooner (the lower member id on the same instant). A member with nothing is behind
    everyone who has points (``at`` is then NULL: no tie is ahead)."""
    p, at = bindparam("p", type_=_m.points.type), bindparam("at", type_=_m.last_at.type)
    return or_(
        points > p,
        and_(points == p, or_(last_at < at, and_(last_at == at, member_id < bindparam("m")))),
    )


def _race_count(*where: Any) -> Any:
    """How many of the month's race rows match ``where``: entries of ix_points_months_race
    counted, no row read."""
    return (
        select(func.count())
        .select_from(points_months)
        .where(_m.group_id == bindparam("g"), _m.month == bindparam("month"), *where)
        .scalar_subquery()
    )


#: everyone ahead, present or not: three ranges of the race's index (one OR would be a scan)
_AHEAD_ALL = select(
    _race_count(_m.points > bindparam("p"))
    + _race_count(_m.points == bindparam("p"), _m.last_at < bindparam("at"))
    + _race_count(
        _m.points == bindparam("p"),
        _m.last_at == bindparam("at"),
        _m.member_id < bindparam("m"),
    )
)
#: those of them the group no longer has (left, kicked, banned): a few, read from
#: ix_memberships_gone, each looked up by the race's key (not the other way round: that would
#: read a membership for everyone ahead)
_AHEAD_GONE = (
    select(func.count())
    .select_from(points_months)
    .where(
        _m.group_id == bindparam("g"),
        _m.month == bindparam("month"),
        _m.member_id.in_(
            select(_ms.member_id).where(_ms.group_id == bindparam("g"), text(MEMBERSHIP_GONE))
        ),
        _m.points > 0,
        _ahead_of(_m.points, _m.last_at, _m.member_id),
    )
)


def month_of(at: datetime, tz: str) -> date:
    """The first day of the month containing ``at`` in the zone ``tz``: a race's key."""
    return local_day(at, tz).replace(day=1)


class InvalidPeriod(GroupopsError):
    code = "invalid_period"


def period_bounds(period: str, at: datetime, tz: str) -> tuple[datetime, datetime]:
    """The UTC start and end of the day, ISO week (from Monday) or month that contains ``at``
    in the time zone ``tz``."""
    z = zone(tz)
    d = local_day(at, z)
    if period == "day":
        start, end = d, d + timedelta(days=1)
    elif period == "week":
        start = d - timedelta(days=d.weekday())
        end = start + timedelta(days=7)
    elif period == "month":
        start = d.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    else:
        raise InvalidPeriod(
            N_("unknown period {period!r}: choose day, week or month"),
            where=N_("period"),
            period=period,
        )

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=z).astimezone(UTC)

    return midnight(start), midnight(end)


def _race_sum(group_id: int, start: datetime, end: datetime) -> Any:
    """A day's or week's race, summed from the ledger (months are kept in points_months)."""
    L = points_ledger.c
    return (
        select(
            L.member_id,
            func.sum(L.points).label("points"),
            func.max(L.at).label("last_at"),
        )
        .where(
            L.group_id == group_id,
            L.at >= start,
            L.at < end,
            L.reason.not_in(NOT_RACED),
        )
        .group_by(L.member_id)
        .having(func.sum(L.points) > 0)
    )


def _board(sums: Any, group_id: Any, limit: Any) -> Any:
    """The first ``limit`` of a race's sums among the group's members now, in the board's order
    (for a month's: ix_points_months_race's own order, walked from the top)."""
    return (
        select(sums.c.member_id, members.c.display_name, sums.c.points)
        .join(members, members.c.id == sums.c.member_id)
        .where(_in_group(group_id, sums.c.member_id))
        .order_by(sums.c.points.desc(), sums.c.last_at, sums.c.member_id)
        .limit(limit)
    )


_MONTH_BOARD = _board(
    select(_m.member_id, _m.points, _m.last_at)
    .where(_m.group_id == bindparam("g"), _m.month == bindparam("month"), _m.points > 0)
    .subquery(),
    bindparam("g"),
    bindparam("n"),
)


def leaderboard(
    conn: Connection, group_id: int, period: str, at: datetime, limit: int = 10
) -> list[dict[str, Any]]:
    """The group's leaderboard for the day, week or month containing ``at`` (its time zone):
    rank, member, member_id, points, among the group's members now. Ties go to who got
    there first."""
    tz = conn.execute(select(groups.c.timezone).where(groups.c.id == group_id)).scalar()
    if tz is None:
        raise NotFound(N_("no group {id}"), where=N_("leaderboard"), id=group_id)
    if period == "month":  # every 积分榜: the statement is built once
        month = {"g": group_id, "month": month_of(at, tz), "n": limit}
        rows = conn.execute(_MONTH_BOARD, month).all()
    else:
        start, end = period_bounds(period, at, tz)
        rows = conn.execute(
            _board(_race_sum(group_id, start, end).subquery(), group_id, limit)
        ).all()
    return [
        {
            "rank": n,
            "member": r.display_name,
            "member_id": int(r.member_id),
            "points": int(r.points),
        }
        for n, r in enumerate(rows, 1)
    ]


def member_points(conn: Connection, group_id: int, member_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        select(points_balances).where(
            points_balances.c.group_id == group_id, points_balances.c.member_id == member_id
        )
    ).first()
    return dict(row._mapping) if row else None


def month_standing(conn: Connection, group_id: int, month: date, member_id: int) -> tuple[int, int]:
    """The member's raced points in the group's month (its first day, see :func:`month_of`)
    and their rank in it: 1 + the members ahead, in the leaderboard's order."""
    race = {"g": group_id, "month": month, "m": member_id}
    found = conn.execute(_MY_MONTH, race).first()
    mine = max(0, int(found.points)) if found is not None else 0
    last_at = found.last_at if found is not None and mine > 0 else None
    race = {**race, "p": mine, "at": last_at}
    ahead = (
        conn.execute(_AHEAD_ALL, race).scalar_one() - conn.execute(_AHEAD_GONE, race).scalar_one()
    )
    return mine, int(ahead) + 1


__all__ = [
    "NOT_RACED",
    "PERIODS",
    "InvalidPeriod",
    "leaderboard",
    "member_points",
    "month_of",
    "month_standing",
    "period_bounds",
]
