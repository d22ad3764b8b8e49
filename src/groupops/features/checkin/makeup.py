"""Make-up cards (补签卡): a member's most recent missed day in the last ``makeup_max_days``
(never before they joined) checked in with a card; the cards come with streak gifts. A card
never fills a day before a run of days that has reached a gift length since: joined to the run
before it, that run would be one streak paid the same gift twice (and its card would pay for
the mend)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, func, select

from groupops.domain.time import local_day
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.checkin.checking import gift_line, say
from groupops.features.checkin.days import Batch, paid_a_gift, record, run_after, summary
from groupops.features.checkin.settings import CheckinSettings
from groupops.features.checkin.tables import checkin_days
from groupops.i18n import N_

MADE_UP = N_(
    "🗓 {{ name }} used a make-up card for {{ day }}: now {{ streak }} days in a row "
    "({{ cards }} card(s) left)."
)
NO_CARDS = N_("{{ name }}, you have no make-up cards (补签卡) yet: they come with streak gifts.")
NOTHING_MISSED = N_("{{ name }}, there is no missed day to make up in the last {{ days }} days.")
AFTER_A_GIFT = N_(
    "{{ name }}, a make-up card can't fill {{ day }}: your streak since then has already "
    "earned a gift."
)

_d = checkin_days.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_DAYS_IN = select(_d.day).where(
    _d.group_id == bindparam("g"),
    _d.member_id == bindparam("m"),
    _d.day.in_(bindparam("ds", expanding=True)),
)

_FIRST_DAY = select(func.min(_d.day)).where(
    _d.group_id == bindparam("g"), _d.member_id == bindparam("m")
)


def use_card(
    ctx: BatchContext, b: Batch, item: Incoming, group: GroupInfo, s: CheckinSettings
) -> None:
    assert item.member_id is not None
    t = ctx.gettext(group)
    today = local_day(item.event.occurred_at, group.timezone)
    stats = summary(b, group, item.member_id, s)
    window = [today - timedelta(days=n) for n in range(1, s.makeup_max_days + 1)]
    b.write_days()
    # never a day before the member was in the group: before they joined, or, when groupops
    # never saw them join (there before the bot came, or a platform that does not say), before
    # their first check-in here, the first day it knows them in the group
    if item.joined_at is not None:
        first = local_day(item.joined_at, group.timezone)
    else:
        found = ctx.conn.execute(_FIRST_DAY, {"g": group.id, "m": item.member_id}).scalar()
        first = found if found is not None else today
    window = [d for d in window if d >= first]
    have = set(
        ctx.conn.execute(_DAYS_IN, {"g": group.id, "m": item.member_id, "ds": window}).scalars()
    )
    missed = [d for d in window if d not in have]
    # the most recent missed day: the one that mends today's streak
    day = missed[0] if missed else None
    after_gift = day is not None and paid_a_gift(
        s, run_after(ctx.conn, group.id, item.member_id, day)
    )
    if day is None or after_gift or stats.cards <= 0:
        # a refusal repeated is answered once a minute (a card used always is)
        if b.answers.due(group.id, item.member_id, "makeup", item.event.occurred_at):
            if day is None:
                days = {"days": str(s.makeup_max_days)}
                say(ctx, item, group, t(NOTHING_MISSED), days, "checkin")
            elif after_gift:
                say(ctx, item, group, t(AFTER_A_GIFT), {"day": day.isoformat()}, "checkin")
            else:
                say(ctx, item, group, t(NO_CARDS), {}, "checkin")
        return
    result = record(ctx, b, item, group, s, stats, day, "", made_up=True)
    variables = {"day": day.isoformat(), "streak": str(result.reached), "cards": str(stats.cards)}
    text = t(MADE_UP) + gift_line(ctx, group, result.gifts, variables)
    say(ctx, item, group, text, variables, "checkin")
