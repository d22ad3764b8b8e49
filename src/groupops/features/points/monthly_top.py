"""The month's top 3: at the first tick of a month in each group's own time zone, last month's
three leaders named in the group with their rewards, and the rewards' points paid (once per
group and month: a feature mark)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError
from groupops.domain.time import local_day, zone
from groupops.engine.context import BatchContext, GroupInfo, Named
from groupops.features.base import tick_settings
from groupops.features.points.boards import leaderboard
from groupops.features.points.ledger import Ledger
from groupops.features.points.replies import TOP_POINTS
from groupops.features.points.settings import TOP_PLACES, PointsSettings
from groupops.i18n import N_
from groupops.storage.tables import feature_marks

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
REWARD_POINTS = N_("+{n} bonus points")
MEDALS = ("🥇", "🥈", "🥉")  # one a place: TOP_PLACES


def month_end(ledger: Ledger, ctx: BatchContext, feature: Named, now: datetime) -> None:
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
                    feature_marks.c.feature == feature.name, feature_marks.c.mark == key
                )
            ).scalars()
        )
        for group, month_day in found:
            if group.id in done:
                continue
            s = tick_settings(ctx, feature, group, PointsSettings)
            if s is None or not s.enabled or not s.monthly_top:
                continue
            if ctx.mark_once(group.id, key):
                _announce_top(ledger, ctx, group, s, month_day, now)


def _announce_top(
    ledger: Ledger,
    ctx: BatchContext,
    group: GroupInfo,
    s: PointsSettings,
    month_day: date,
    now: datetime,
) -> None:
    z = zone(group.timezone)
    at = datetime.combine(month_day, time(12), tzinfo=z)
    top = leaderboard(ctx.conn, group.id, "month", at, TOP_PLACES)
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
        reward = s.monthly_rewards[r["rank"] - 1] if r["rank"] <= len(s.monthly_rewards) else None
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
        ledger.award(
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
