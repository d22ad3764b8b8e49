"""The points commands a member types in the group: 积分 (their points, level, place in the
month's race and what the next level needs) and 积分榜 (the month's leaderboard)."""

from __future__ import annotations

from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.commands import Answers
from groupops.features.keywords import is_keyword, may_match
from groupops.features.points.boards import leaderboard, month_of, month_standing
from groupops.features.points.ledger import Ledger
from groupops.features.points.settings import PointsSettings
from groupops.i18n import N_

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
#: a member's points on a board (this leaderboard and the month's top 3)
TOP_POINTS = N_("{points} pts")


def answer(
    ledger: Ledger,
    answers: Answers,
    ctx: BatchContext,
    item: Incoming,
    group: GroupInfo,
    s: PointsSettings,
) -> bool:
    """Answer the message when it is one of the group's points or leaderboard keywords,
    matched as check-in matches its own (``/Points``, ``/top@yourbot``); False when it is not
    (then it may earn points, unless it is another command). A member asking again within a
    minute gets no second answer (``answers``: see features.commands.Answers)."""
    text = item.event.text
    assert item.member_id is not None
    when = item.event.occurred_at
    if not may_match(text, s.points_keywords, s.leaderboard_keywords):
        return False  # most messages: neither command
    if is_keyword(text, s.points_keywords):
        if answers.due(group.id, item.member_id, "points", when):
            show_points(ledger, ctx, item, group, s)
        return True
    if is_keyword(text, s.leaderboard_keywords):
        if answers.due(group.id, item.member_id, "board", when):
            show_board(ledger, ctx, item, group, s)
        return True
    return False


def show_points(
    ledger: Ledger, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
) -> None:
    assert item.member_id is not None
    t = ctx.gettext(group)
    row = ledger.balance(ctx, group.id, item.member_id)
    ledger.flush_months(ctx)  # the month's race below reads them
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


def show_board(
    ledger: Ledger, ctx: BatchContext, item: Incoming, group: GroupInfo, s: PointsSettings
) -> None:
    t = ctx.gettext(group)
    ledger.flush_months(ctx)
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
