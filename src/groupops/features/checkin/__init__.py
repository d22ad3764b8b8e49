"""check-in (签到/打卡): once a day in the group's time zone, streaks, gifts at streak lengths,
make-up cards (补签卡), the day's ranking and goal check-ins ("打卡 读了20页").

Every check-in is published as a derived ``checked_in`` event: the points feature pays for it.
A check-in made with a message moderation removes later (a cross-group spam found out by its
next copy: ``ctx.removed_message``) is taken back (``days.take_back``).

The package: ``checking`` (a check-in and its reply), ``makeup`` (make-up cards), ``ranking``
(the day's ranking), ``keywords`` (how a message is matched against the commands, the points
feature's too), ``days`` (the stored days and members' summaries: a day recorded, its
streak, gift and place; read once and written once a batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import ClassVar

from sqlalchemy import Connection, delete

from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming, RemovedMessage
from groupops.features.checkin import checking, makeup, ranking
from groupops.features.checkin.days import Batch, stats_of, take_back
from groupops.features.checkin.settings import CheckinSettings
from groupops.features.checkin.tables import checkin_days, checkin_stats
from groupops.features.commands import Answers
from groupops.features.kept import Kept, KeptRows
from groupops.features.keywords import is_keyword, match_keyword, may_match


class CheckinFeature:
    name: ClassVar[str] = "checkin"
    order: ClassVar[int] = 30
    settings_model: ClassVar[type[CheckinSettings]] = CheckinSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {
            EventKind.MESSAGE,
            EventKind.MESSAGE_DELETED,  # moderation removed an earlier message as an ad
        }
    )

    def __init__(self) -> None:
        #: members' summaries and each group's check-ins a day, kept between batches (this
        #: process is the only one checking in its groups; see docs/operations.md)
        self._kept_stats = KeptRows(checkin_stats, stats_of)
        self._kept_counts: Kept[tuple[int, date], int] = Kept()
        #: a member repeating a command is answered once a minute ("already checked in": once
        #: a day), so that nobody can make the bot flood the group
        self._answers = Answers()

    def warm_up(self, ctx: BatchContext) -> None:
        for group in ctx.all_groups():
            self._kept_stats.load_group(ctx.conn, group.id)

    def committed(self) -> None:
        self._kept_stats.committed()
        self._kept_counts.committed()
        self._answers.committed()

    def rolled_back(self) -> None:
        self._kept_stats.rolled_back()
        self._kept_counts.rolled_back()
        self._answers.rolled_back()

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        # first what each message asks for, then the asking members' summaries in one query
        # per group, then the work in the batch's order, then one write
        todo: list[tuple[Incoming, GroupInfo, CheckinSettings, str, str, str]] = []
        removals: list[tuple[GroupInfo, CheckinSettings, RemovedMessage]] = []
        wanted: dict[int, set[int]] = {}
        for item in batch:
            group = item.group
            if item.event.kind == EventKind.MESSAGE_DELETED:
                removed = ctx.removed_message(item)
                if group is not None and removed is not None and removed.group_id == group.id:
                    removals.append((group, ctx.settings(self, group, CheckinSettings), removed))
                    wanted.setdefault(group.id, set()).add(removed.member_id)
                continue
            if group is None or item.member_id is None or not item.event.text:
                continue
            s = ctx.settings(self, group, CheckinSettings)
            text = item.event.text
            if len(text) > 2000:  # a long message is never a check-in command
                continue
            if not may_match(text, s.ranking_keywords, s.makeup_keywords, s.keywords):
                continue  # most messages: none of the commands
            if is_keyword(text, s.ranking_keywords):
                todo.append((item, group, s, "ranking", "", ""))
                continue
            if is_keyword(text, s.makeup_keywords):
                todo.append((item, group, s, "makeup", "", ""))
            else:
                hit = match_keyword(text, s.keywords)
                if hit is None:
                    continue
                todo.append((item, group, s, "checkin", hit[0], hit[1]))
            wanted.setdefault(group.id, set()).add(item.member_id)
        if not todo and not removals:
            return
        b = Batch(ctx.conn, self._kept_stats, self._kept_counts, self._answers)
        self._answers.begin()
        b.prefetch(wanted)
        for group, s, removed in removals:
            take_back(ctx, b, group, s, removed)
        for item, group, s, what, keyword, goal in todo:
            # a command is not conversation: later features (points) do not pay for it
            if what == "ranking":
                ranking.post_ranking(ctx, b, item, group, s)
            elif what == "makeup":
                makeup.use_card(ctx, b, item, group, s)
            else:
                checking.check_in(ctx, b, item, group, s, keyword, goal)
            ctx.suppress(item)
        b.write()
        self._answers.end()

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        conn.execute(delete(checkin_days).where(checkin_days.c.member_id == member_id))
        conn.execute(delete(checkin_stats).where(checkin_stats.c.member_id == member_id))
        self._kept_stats.forget_member(member_id)
        self._answers.forget_member(member_id)
        self._kept_counts.forget(lambda key: True)  # the days they checked in no longer count


__all__ = ["CheckinFeature", "match_keyword"]
