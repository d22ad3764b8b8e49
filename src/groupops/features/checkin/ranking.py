"""The day's ranking: who checked in today in the group, first come first (make-up days do not
count), posted in the group when a member asks for it."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.time import local_day, zone
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.checkin.checking import say
from groupops.features.checkin.days import Batch
from groupops.features.checkin.settings import CheckinSettings
from groupops.features.checkin.tables import checkin_days
from groupops.i18n import N_
from groupops.storage.tables import members

RANKING_HEAD = N_("📋 Check-ins today in {{ group }} ({{ count }}):")
RANKING_EMPTY = N_("Nobody has checked in today in {{ group }} yet. Be the first!")
RANKING_LINE = N_("{rank}. {name} {time} · day {streak}")

_d = checkin_days.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
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


def post_ranking(
    ctx: BatchContext, b: Batch, item: Incoming, group: GroupInfo, s: CheckinSettings
) -> None:
    assert item.member_id is not None
    if not b.answers.due(group.id, item.member_id, "ranking", item.event.occurred_at):
        return  # asked again within a minute: the ranking is there already
    t = ctx.gettext(group)
    day = local_day(item.event.occurred_at, group.timezone)
    b.write_days()
    rows = day_ranking(ctx.conn, group.id, day, limit=s.ranking_size)
    if not rows:
        say(ctx, item, group, t(RANKING_EMPTY), {}, "checkin")
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
        Action(ActionKind.SEND, event.source, event.chat_id, text="\n".join([head, *lines[1:]])),
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
