"""Points written: every award a ledger line, each member's balance and level, their month in
the race, each member's first reaction to a message. A batch reads its members' balances once
(or takes them from those kept in memory since earlier batches), changes them in memory, and
writes everything once at its end, or earlier when something is about to read the points
tables (a flush)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.engine.withdraw import OWN_WITHDRAWAL
from groupops.features.kept import KeptRows
from groupops.features.points.boards import NOT_RACED, month_of
from groupops.features.points.settings import PointsSettings, level_of
from groupops.features.points.tables import (
    points_balances,
    points_ledger,
    points_months,
    points_reactions,
)
from groupops.i18n import N_
from groupops.storage.bulk import Bulk

LEVEL_UP = N_("🎉 {{ name }} reached level {{ level }} with {{ points }} points!")
#: ``Action.data`` key of a level-up announcement: the member's level before the award and
#: the one it reached, ``{"from": 0, "to": 1}`` (indexes into the group's levels)
LEVEL_UP_DATA = "level_up"

_b = points_balances.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_NEW_BALANCES = Bulk(insert(points_balances))
_NEW_LEDGER = Bulk(insert(points_ledger))
_NEW_REACTIONS = Bulk(insert(points_reactions))
_UPDATE_BALANCE = (
    update(points_balances)
    .where(_b.group_id == bindparam("g"), _b.member_id == bindparam("m"))
    .values(
        points=bindparam("b_points"),
        level=bindparam("b_level"),
        last_paid_message_at=bindparam("b_last"),
        reaction_day=bindparam("b_day"),
        reaction_points_today=bindparam("b_today"),
    )
)
_UPDATE_BALANCES = Bulk(_UPDATE_BALANCE)


def _month_row(key: tuple[int, date, int], value: list[Any]) -> dict[str, Any]:
    (gid, month, mid), (points, last_at) = key, value
    return {"group_id": gid, "month": month, "member_id": mid, "points": points, "last_at": last_at}


@dataclass(slots=True)
class Balance:
    """A member's balance row, read once per batch and written back once at its end."""

    group_id: int
    member_id: int
    points: int = 0
    level: int = 0
    last_paid_message_at: datetime | None = None
    reaction_day: date | None = None
    reaction_points_today: int = 0
    new: bool = False  # no row yet
    touched: bool = False  # asked for: a new one gets its row, as before
    dirty: bool = False

    def params(self) -> dict[str, Any]:
        return {
            "g": self.group_id,
            "m": self.member_id,
            "b_points": self.points,
            "b_level": self.level,
            "b_last": self.last_paid_message_at,
            "b_day": self.reaction_day,
            "b_today": self.reaction_points_today,
        }

    def kept(self) -> Balance:
        """A copy to keep between batches: ``dataclasses.replace(self, touched=False,
        dirty=False)``, without its per-call look at the fields (a balance a paid event)."""
        return Balance(
            self.group_id,
            self.member_id,
            self.points,
            self.level,
            self.last_paid_message_at,
            self.reaction_day,
            self.reaction_points_today,
            self.new,
        )

    def row(self) -> dict[str, Any]:
        return {
            "group_id": self.group_id,
            "member_id": self.member_id,
            "points": self.points,
            "level": self.level,
            "last_paid_message_at": self.last_paid_message_at,
            "reaction_day": self.reaction_day,
            "reaction_points_today": self.reaction_points_today,
        }


@dataclass
class Pending:
    """What the running batch has changed and not written yet."""

    balances: dict[tuple[int, int], Balance] = field(default_factory=dict)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    #: (group, month, member) -> [raced points, latest award] not written yet
    months: dict[tuple[int, date, int], list[Any]] = field(default_factory=dict)
    #: (group, source, user) -> whom a reaction to that user pays (None: nobody known)
    targets: dict[tuple[int, str, str], Any] = field(default_factory=dict)
    #: (group, message) whose reactors were read for the batch (see earning.prefetch_targets)
    reacted_read: set[tuple[int, str]] = field(default_factory=set)
    #: (group, message, member): the member has reacted to the message (stored, or new)
    reacted: set[tuple[int, str, int]] = field(default_factory=set)
    #: the batch's first reactions of a member to a message, not written yet
    new_reactions: list[dict[str, Any]] = field(default_factory=list)
    #: (source, user) -> their member id (None: no member: the bot, someone never seen),
    #: the authors of the messages the batch's replies answer (see earning.prefetch_targets)
    answered: dict[tuple[str, str], int | None] = field(default_factory=dict)


_m = points_months.c
_UPSERTS: dict[str, Bulk] = {}


def _add_months(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Add raced points to members' months (a new month row, or more points on it)."""
    bulk = _UPSERTS.get(conn.dialect.name)
    if bulk is None:
        ins = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(points_months)
        bulk = _UPSERTS[conn.dialect.name] = Bulk(
            ins.on_conflict_do_update(
                index_elements=["group_id", "month", "member_id"],
                set_={
                    "points": _m.points + ins.excluded.points,
                    "last_at": case(
                        (ins.excluded.last_at > _m.last_at, ins.excluded.last_at),
                        else_=_m.last_at,
                    ),
                },
            )
        )
    bulk.run(conn, rows)


def _balance_of(row: Any) -> Balance:
    """A stored balance row as the ledger's."""
    return Balance(
        int(row.group_id),
        int(row.member_id),
        int(row.points),
        int(row.level),
        row.last_paid_message_at,
        row.reaction_day,
        int(row.reaction_points_today),
    )


class Ledger:
    """The points feature's balances and its batch's writes.

    Balances are kept between batches (``limit`` at most), so a batch reads only those never
    seen: this process is the only one earning points for its groups (see
    docs/operations.md). A batch's changes join them only once it commits."""

    def __init__(self, limit: int) -> None:
        self._pending: Pending | None = None
        self._kept = KeptRows(points_balances, _balance_of, limit)

    # -- a batch, and the transaction around it ---------------------------------------------
    def begin(self) -> None:
        self._pending = Pending()

    def end(self, ctx: BatchContext) -> None:
        """Write the batch's changes; they are kept for the next batches once it commits."""
        self.flush(ctx)
        for key, bal in self.batch().balances.items():
            self._kept.stage(key, bal.kept())

    def close(self) -> None:
        self._pending = None

    def committed(self) -> None:
        self._kept.committed()

    def rolled_back(self) -> None:
        self._kept.rolled_back()

    def batch(self) -> Pending:
        """What the running handle() has changed and not written yet (all earning happens
        inside handle(): its end writes it)."""
        assert self._pending is not None, "points are earned inside handle() only"
        return self._pending

    # -- reading balances ---------------------------------------------------------------------
    def load_group(self, conn: Connection, gid: int) -> None:
        self._kept.load_group(conn, gid)

    def prefetch(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        """The balances of the batch's authors, kept or read at once (features.kept)."""
        balances = self.batch().balances
        wanted: dict[tuple[int, int], None] = {}  # in the batch's order
        for item in batch:
            if (
                item.group is not None
                and item.member_id is not None
                and item.event.kind in (EventKind.MESSAGE, EventKind.CHECKED_IN)
            ):
                key = (item.group.id, item.member_id)
                if key not in balances:
                    wanted[key] = None
        for key, bal in self._kept.read(ctx.conn, wanted).items():
            balances[key] = bal if bal is not None else Balance(*key, new=True)

    def balance(self, ctx: BatchContext, group_id: int, member_id: int) -> Balance:
        balances = self.batch().balances
        key = (group_id, member_id)
        bal = balances.get(key)
        if bal is None:
            bal = self._kept.read_one(ctx.conn, key) or Balance(*key, new=True)
            balances[key] = bal
        bal.touched = True
        return bal

    # -- writing -------------------------------------------------------------------------------
    def flush_months(self, ctx: BatchContext) -> None:
        """Write the batch's month sums so far: all that the 积分 and 积分榜 commands and the
        top 3 read (balances come from the batch itself, the ledger is not read by them)."""
        p = self.batch()
        if p.months:
            _add_months(ctx.conn, [_month_row(k, v) for k, v in p.months.items()])
            p.months = {}

    def flush(self, ctx: BatchContext) -> None:
        """Write what the batch changed so far (before anything reads the points tables)."""
        p = self.batch()
        new = [b for b in p.balances.values() if b.new and (b.touched or b.dirty)]
        changed = [b for b in p.balances.values() if b.dirty and not b.new]
        if new:
            _NEW_BALANCES.run(ctx.conn, [b.row() for b in new])
        if changed:
            _UPDATE_BALANCES.run(ctx.conn, [b.params() for b in changed])
        if p.ledger:
            _NEW_LEDGER.run(ctx.conn, p.ledger)
            p.ledger = []
        if p.new_reactions:
            _NEW_REACTIONS.run(ctx.conn, p.new_reactions)
            p.new_reactions = []
        self.flush_months(ctx)
        for b in p.balances.values():
            if b.new and (b.touched or b.dirty):
                b.new = False
            b.dirty = False

    def award(
        self,
        ctx: BatchContext,
        group: GroupInfo,
        member_id: int,
        points: int,
        reason: str,
        *,
        at: datetime,
        cause_seq: int | None,
        name: str,
        s: PointsSettings,
        row: Any = None,
        also: Sequence[tuple[int, str]] = (),
        **balance: Any,
    ) -> None:
        """Write one award to the ledger, move the balance, announce a new level. ``row`` is
        the member's balance row when the caller has just read it. ``also``: more awards of
        the same event, ``(points, reason)`` each (a check-in's streak gift), each its own
        ledger line: a level they reach is announced once, with the total after them all."""
        if row is None:
            row = self.balance(ctx, group.id, member_id)
        before = int(row.level)
        total, level = int(row.points), before
        for part, why in ((points, reason), *also):
            if part:
                entry = {
                    "group_id": group.id,
                    "member_id": member_id,
                    "points": part,
                    "reason": why,
                    "at": at,
                    "cause_seq": cause_seq,
                }
                p = self.batch()
                p.ledger.append(entry)
                if why not in NOT_RACED:
                    race = (group.id, month_of(at, group.timezone), member_id)
                    month = p.months.setdefault(race, [0, at])
                    month[0] += part
                    month[1] = max(month[1], at)
            total += part
            level = max(level, level_of(s.levels, total))
        row.points, row.level = total, level
        for key, value in balance.items():
            setattr(row, key, value)
        row.dirty = True
        if level > before and s.announce_levels:
            t = ctx.gettext(group)
            text = ctx.templates.render(
                t(LEVEL_UP),
                {"name": name, "level": t(s.levels[level].name), "points": str(total)},
                where="points.levels",
            )
            # because of the event that paid: withdrawn if moderation removes its message and
            # the level is lost with its points (earning.take_back_removed)
            data = {OWN_WITHDRAWAL: True, LEVEL_UP_DATA: {"from": before, "to": level}}
            action = Action(ActionKind.SEND, group.source, group.chat_id, text=text, data=data)
            ctx.emit_for_group(action, group, cause_seq)

    # -- forgetting a member ---------------------------------------------------------------
    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        conn.execute(delete(points_ledger).where(points_ledger.c.member_id == member_id))
        conn.execute(delete(points_months).where(_m.member_id == member_id))
        conn.execute(delete(points_reactions).where(points_reactions.c.member_id == member_id))
        conn.execute(delete(points_balances).where(points_balances.c.member_id == member_id))
        self._kept.forget_member(member_id)
