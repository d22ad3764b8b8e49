"""A member checking in ("签到", "打卡 读了20页"): once a day in the group's time zone; the
reply says the streak, the place in the day, the goal and a gift reached. Also the reply
helper the make-up and ranking commands share."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select

from groupops.domain.time import local_day
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.checkin.days import Batch, record, summary
from groupops.features.checkin.settings import CheckinSettings, Gift
from groupops.features.checkin.tables import checkin_days
from groupops.i18n import N_

DEFAULT_REPLY = N_("✅ {{ name }} checked in: day {{ streak }} in a row, #{{ rank }} today.")
GOAL_LINE = N_("Goal: {{ goal }}")
GIFT_LINE = N_("🎁 {{ streak }} days in a row! Your gift: {{ gift }}")
GIFT_POINTS = N_("+{n} points")
GIFT_CARDS = N_("{n} make-up card(s)")
ALREADY = N_("{{ name }}, you have already checked in today (day {{ streak }} in a row).")
NEED_GOAL = N_(
    "{{ name }}, this group checks in with what you did, e.g. “{{ keyword }} read 20 pages”."
)

_d = checkin_days.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_SELECT_DONE = select(_d.streak, _d.checked_at).where(
    _d.group_id == bindparam("g"), _d.member_id == bindparam("m"), _d.day == bindparam("d")
)


def say(
    ctx: BatchContext,
    item: Incoming,
    group: GroupInfo,
    text: str,
    variables: dict[str, str],
    where: str,
) -> None:
    """Reply with ``text`` rendered as a template (the member's name and the group's title
    are always there)."""
    event = item.event
    rendered = ctx.templates.render(
        text,
        {"name": event.user_name or event.user_id, "group": group.title, **variables},
        where=where,
    )
    ctx.reply(item, rendered)


def check_in(
    ctx: BatchContext,
    b: Batch,
    item: Incoming,
    group: GroupInfo,
    s: CheckinSettings,
    keyword: str,
    goal: str,
) -> None:
    assert item.member_id is not None
    t = ctx.gettext(group)
    when = item.event.occurred_at
    if s.goal_required and len(goal) < s.goal_min_chars:
        if b.answers.due(group.id, item.member_id, "goal", when):
            say(ctx, item, group, t(NEED_GOAL), {"keyword": keyword}, "checkin.goal")
        return
    day = local_day(when, group.timezone)
    stats = summary(b, group, item.member_id, s)
    if stats.last_day is not None and day <= stats.last_day:  # else no such day is stored
        b.write_days()
        done = ctx.conn.execute(
            _SELECT_DONE, {"g": group.id, "m": item.member_id, "d": day}
        ).first()
        if done is None and day < stats.last_day:
            # a day before their latest, not checked in: a late event (recorded: its day),
            # or the group's zone moved west since their latest check-in, whose day has not
            # begun here yet: that one is their check-in of today (not a free day before it)
            latest = ctx.conn.execute(
                _SELECT_DONE, {"g": group.id, "m": item.member_id, "d": stats.last_day}
            ).first()
            if latest is not None and latest.checked_at <= when:
                done = latest
        if done is not None:
            # said once a day: "签到" sent again and again gets no answer again and again
            if s.reply and b.answers.due_once_on(group.id, item.member_id, "already", day):
                say(ctx, item, group, t(ALREADY), {"streak": str(done.streak)}, "checkin.reply")
            return
    result = record(ctx, b, item, group, s, stats, day, goal, made_up=False)
    if not s.reply:
        return
    variables = {
        "streak": str(result.reached),
        "total": str(result.total),
        "rank": str(result.rank),
        "goal": goal,
        "cards": str(stats.cards),
    }
    text = s.reply_template or t(DEFAULT_REPLY)
    if goal and s.reply_template is None:
        text += "\n" + t(GOAL_LINE)
    say(
        ctx,
        item,
        group,
        text + gift_line(ctx, group, result.gifts, variables),
        variables,
        "checkin.reply_template",
    )


def gift_line(
    ctx: BatchContext, group: GroupInfo, gifts: Sequence[Gift], variables: dict[str, str]
) -> str:
    """The line that announces ``gifts`` ("" when there is none), its words put in
    ``variables`` (``gift``)."""
    t = ctx.gettext(group)
    parts = []
    points = sum(g.points for g in gifts)
    cards = sum(g.cards for g in gifts)
    if points:
        parts.append(t(GIFT_POINTS).format(n=points))
    if cards:
        parts.append(t(GIFT_CARDS).format(n=cards))
    parts += [g.text for g in gifts if g.text]
    if not parts:
        return ""
    sep = "，" if group.language.startswith("zh") else ", "
    variables["gift"] = sep.join(parts)
    return "\n" + t(GIFT_LINE)
