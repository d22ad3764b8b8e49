"""points and levels: points for check-ins and real participation (messages with a per-member
cooldown so floods don't pay, replies, reactions received: once per member and message),
levels, daily / weekly / monthly leaderboards summed in SQL, and at each month's end (group's
time zone) a public top 3 with their rewards.

The package: ``earning`` (what earns how much), ``ledger`` (balances, the ledger, the month's
race: read once and written once a batch), ``replies`` (the 积分 and 积分榜 commands),
``monthly_top`` (the month's top 3), ``boards`` (the leaderboards, read; also the CLI's)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import Connection

from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, Incoming
from groupops.features.commands import Answers
from groupops.features.points import earning, replies
from groupops.features.points.boards import (
    PERIODS,
    InvalidPeriod,
    leaderboard,
    member_points,
    month_of,
    period_bounds,
)
from groupops.features.points.ledger import Ledger
from groupops.features.points.monthly_top import month_end
from groupops.features.points.settings import PointsSettings


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
    #: how long a member's first reaction to a message is remembered (earning's docstring)
    REACTIONS_KEPT_DAYS: ClassVar[int] = 30

    def __init__(self) -> None:
        self._ledger = Ledger(self.KNOWN_LIMIT)
        #: a member repeating 积分 or 积分榜 is answered once a minute (features.commands)
        self._answers = Answers()

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        ledger = self._ledger
        ledger.begin()
        self._answers.begin()
        try:
            earning.prefetch_targets(ledger, ctx, batch)
            ledger.prefetch(ctx, batch)
            self._handle(ctx, batch)
            ledger.end(ctx)
            self._answers.end()
        finally:
            ledger.close()

    def _handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        ledger = self._ledger
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                ledger.flush(ctx)
                month_end(ledger, ctx, self, item.event.occurred_at)
                earning.forget_old_reactions(ctx, item.event.occurred_at, self.REACTIONS_KEPT_DAYS)
                continue
            if kind == EventKind.MESSAGE_DELETED:
                earning.take_back_removed(ledger, ctx, self, item)
                continue
            group = item.group
            if group is None or item.member_id is None:
                continue
            s = ctx.settings(self, group, PointsSettings)
            if kind == EventKind.MESSAGE:
                if not replies.answer(ledger, self._answers, ctx, item, group, s):
                    earning.pay_message(ledger, ctx, item, group, s)
            elif kind == EventKind.CHECKED_IN:
                earning.pay_checkin(ledger, ctx, item, group, s)
            elif kind == EventKind.REACTION:
                earning.pay_reaction(ledger, ctx, item, group, s)

    def committed(self) -> None:
        self._ledger.committed()
        self._answers.committed()

    def rolled_back(self) -> None:
        self._ledger.rolled_back()
        self._answers.rolled_back()

    def warm_up(self, ctx: BatchContext) -> None:
        for group in ctx.all_groups():
            self._ledger.load_group(ctx.conn, group.id)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        self._ledger.delete_member_data(conn, member_id)
        self._answers.forget_member(member_id)


__all__ = [
    "PERIODS",
    "InvalidPeriod",
    "PointsFeature",
    "leaderboard",
    "member_points",
    "month_of",
    "period_bounds",
]
