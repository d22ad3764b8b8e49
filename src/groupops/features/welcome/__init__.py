"""welcome: greet newcomers by name, push the rules, ask for a self-introduction, and
during a join burst send one combined welcome instead of one per member."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.commands import is_command
from groupops.features.welcome.settings import WelcomeSettings
from groupops.features.welcome.tables import welcome_bursts
from groupops.i18n import N_
from groupops.storage.tables import events, memberships

DEFAULT_TEMPLATE = N_("Welcome {{ name }} to {{ group }}! 🎉")
DEFAULT_INTRO = N_("Please introduce yourself in a few words: who you are and why you joined.")
DEFAULT_BURST = N_("Welcome to our {{ count }} new members: {{ names }}! 🎉")
RULES_HEADER = N_("The rules of {{ group }}:")
MAX_NAMES = 20

_w, _e, _ms = welcome_bursts.c, events.c, memberships.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_SELECT_BURSTS = select(welcome_bursts).order_by(_w.group_id)  # the same order on every database
_INSERT_BURST = insert(welcome_bursts)
_UPDATE_BURST = (
    update(welcome_bursts)
    .where(_w.group_id == bindparam("g"))
    .values(
        names=bindparam("b_names"), count=bindparam("b_count"), last_join_at=bindparam("b_last")
    )
)
_DELETE_BURST = delete(welcome_bursts).where(_w.group_id == bindparam("g"))
#: joins of one kind in a group shortly before a join (uses ix_events_group_kind_time)
_RECENT_JOINS = (
    select(func.count())
    .select_from(events)
    .where(
        _e.group_id == bindparam("g"),
        _e.kind == bindparam("kind"),
        _e.occurred_at > bindparam("since", type_=_e.occurred_at.type),
        _e.occurred_at <= bindparam("until", type_=_e.occurred_at.type),
        _e.seq < bindparam("seq"),
    )
)
_INTRODUCED = (
    update(memberships)
    .where(
        _ms.group_id == bindparam("g"),
        _ms.member_id == bindparam("m"),
        _ms.introduced_at.is_(None),
    )
    .values(introduced_at=bindparam("b_when"))
)


@dataclass
class _Burst:
    """A group's held-back joins (welcome_bursts) while a batch runs."""

    group_id: int
    names: list[str]
    count: int
    started_at: datetime
    last_join_at: datetime
    new: bool = False  # not stored yet
    dirty: bool = False  # changed since it was read


@dataclass
class _Batch:
    """What one ``handle`` call reads once and writes once: the bursts (read at the first
    join, written at the end or before a tick flushes them) and the introductions."""

    conn: Connection
    bursts: dict[int, _Burst] | None = None
    #: (group, member) -> when: the first long message of a newcomer in this batch
    intros: dict[tuple[int, int], datetime] = field(default_factory=dict)

    def burst_of(self, group_id: int) -> _Burst | None:
        if self.bursts is None:
            self.bursts = {
                int(r.group_id): _Burst(
                    int(r.group_id),
                    list(r.names),
                    int(r._mapping["count"]),
                    r.started_at,
                    r.last_join_at,
                )
                for r in self.conn.execute(_SELECT_BURSTS)
            }
        return self.bursts.get(group_id)

    def write_bursts(self) -> None:
        if not self.bursts:
            return
        new = [b for b in self.bursts.values() if b.new]
        changed = [b for b in self.bursts.values() if b.dirty and not b.new]
        if new:
            self.conn.execute(
                _INSERT_BURST,
                [
                    {
                        "group_id": b.group_id,
                        "names": b.names,
                        "count": b.count,
                        "started_at": b.started_at,
                        "last_join_at": b.last_join_at,
                    }
                    for b in new
                ],
            )
        if changed:
            self.conn.execute(
                _UPDATE_BURST,
                [
                    {
                        "g": b.group_id,
                        "b_names": b.names,
                        "b_count": b.count,
                        "b_last": b.last_join_at,
                    }
                    for b in changed
                ],
            )
        for b in self.bursts.values():
            b.new = b.dirty = False

    def write(self) -> None:
        self.write_bursts()
        if self.intros:
            self.conn.execute(
                _INTRODUCED,
                [{"g": g, "m": m, "b_when": when} for (g, m), when in self.intros.items()],
            )
            self.intros = {}


class WelcomeFeature:
    name: ClassVar[str] = "welcome"
    order: ClassVar[int] = 20
    settings_model: ClassVar[type[WelcomeSettings]] = WelcomeSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {EventKind.MEMBER_JOINED, EventKind.MEMBER_ADMITTED, EventKind.MESSAGE, EventKind.TICK}
    )

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        b = _Batch(ctx.conn)
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                b.write_bursts()
                b.bursts = None  # flushed ones are gone: read again at the next join
                self._flush_bursts(ctx, item.event.occurred_at)
            elif item.group is None:
                continue
            elif kind in (EventKind.MEMBER_JOINED, EventKind.MEMBER_ADMITTED):
                # member_admitted: the join gate let a gated newcomer in
                self._joined(ctx, b, item, item.group)
            elif kind == EventKind.MESSAGE:
                self._maybe_intro(ctx, b, item, item.group)
        b.write()

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        """Introductions live on the membership row, which the core forgets. A join of theirs
        held back for a combined welcome leaves it: the burst counts one less and no longer
        shows their name (as they joined under it), and goes when nobody is left."""
        joins = conn.execute(
            select(_e.group_id, _e.occurred_at, _e.payload["user_name"].as_string()).where(
                _e.member_id == member_id,
                _e.kind.in_((EventKind.MEMBER_JOINED.value, EventKind.MEMBER_ADMITTED.value)),
            )
        ).all()
        for group_id, joined_at, name in joins:
            row = conn.execute(select(welcome_bursts).where(_w.group_id == group_id)).first()
            if row is None or joined_at < row.started_at:
                continue
            names = list(row.names)
            if name in names:
                names.remove(name)
            count = int(row._mapping["count"]) - 1
            if count <= 0:
                conn.execute(delete(welcome_bursts).where(_w.group_id == group_id))
            else:
                conn.execute(
                    update(welcome_bursts)
                    .where(_w.group_id == group_id)
                    .values(names=names, count=count)
                )

    # -- joins -----------------------------------------------------------------------------
    def _settings(self, ctx: BatchContext, group: GroupInfo) -> WelcomeSettings:
        return ctx.settings(self, group, WelcomeSettings)

    def _vars(self, ctx: BatchContext, group: GroupInfo, s: WelcomeSettings) -> dict[str, str]:
        return {"group": group.title, "rules": s.rules}

    def _joined(self, ctx: BatchContext, b: _Batch, item: Incoming, group: GroupInfo) -> None:
        s = self._settings(ctx, group)
        event = item.event
        t = ctx.gettext(group)
        when = event.occurred_at
        burst = b.burst_of(group.id)
        name = event.user_name or event.user_id
        if burst is not None or self._recent(ctx, item, group, s) + 1 >= s.burst_threshold:
            self._hold(b, group, burst, name, when)
            return
        variables = {**self._vars(ctx, group, s), "name": name}
        text = ctx.templates.render(
            s.template or t(DEFAULT_TEMPLATE), variables, where="welcome.template"
        )
        if s.intro_prompt:
            text += "\n" + t(DEFAULT_INTRO)
        ctx.emit(Action(ActionKind.SEND, event.source, event.chat_id, text=text), item)
        if s.rules:
            header = ctx.templates.render(t(RULES_HEADER), variables, where="welcome.rules")
            rules = f"{header}\n{s.rules}"
            if s.rules_private and ctx.capabilities(event.source).can(ActionKind.DIRECT_MESSAGE):
                ctx.emit(
                    Action(
                        ActionKind.DIRECT_MESSAGE,
                        event.source,
                        event.chat_id,
                        user_id=event.user_id,
                        text=rules,
                    ),
                    item,
                )
            else:
                ctx.emit(Action(ActionKind.SEND, event.source, event.chat_id, text=rules), item)

    @staticmethod
    def _recent(ctx: BatchContext, item: Incoming, group: GroupInfo, s: WelcomeSettings) -> int:
        """Joins of the same kind stored before this one within the burst window."""
        when = item.event.occurred_at
        return int(
            ctx.conn.execute(
                _RECENT_JOINS,
                {
                    "g": group.id,
                    "kind": item.event.kind.value,
                    "since": when - timedelta(seconds=s.burst_window_seconds),
                    "until": when,
                    "seq": item.seq,
                },
            ).scalar_one()
        )

    def _hold(
        self, b: _Batch, group: GroupInfo, burst: _Burst | None, name: str, when: datetime
    ) -> None:
        if burst is None:
            assert b.bursts is not None
            b.bursts[group.id] = _Burst(group.id, [name], 1, when, when, new=True)
            return
        if len(burst.names) < MAX_NAMES:
            burst.names = [*burst.names, name]
        burst.count += 1
        burst.last_join_at = max(when, burst.last_join_at)
        burst.dirty = True

    def _flush_bursts(self, ctx: BatchContext, now: datetime) -> None:
        rows = ctx.conn.execute(_SELECT_BURSTS).all()
        if not rows:
            return
        groups = {g.id: g for g in ctx.all_groups()}
        for row in rows:
            group = groups.get(row.group_id)
            if group is None:
                continue
            s = self._settings(ctx, group)
            if not s.enabled:  # turned off while joins were held back: welcome no one
                ctx.conn.execute(_DELETE_BURST, {"g": row.group_id})
                continue
            if now - row.last_join_at < timedelta(seconds=s.burst_window_seconds):
                continue  # still arriving: wait for the burst to calm down
            t = ctx.gettext(group)
            shown = list(row.names)
            names = "、".join(shown) if group.language.startswith("zh") else ", ".join(shown)
            if row._mapping["count"] > len(shown):
                names += " …"
            count = str(row._mapping["count"])
            variables = {**self._vars(ctx, group, s), "names": names, "count": count}
            text = ctx.templates.render(
                s.burst_template or t(DEFAULT_BURST), variables, where="welcome.burst_template"
            )
            if s.intro_prompt:
                text += "\n" + t(DEFAULT_INTRO)
            if s.rules:
                header = ctx.templates.render(t(RULES_HEADER), variables, where="welcome.rules")
                text += f"\n\n{header}\n{s.rules}"
            ctx.emit_for_group(
                Action(ActionKind.SEND, group.source, group.chat_id, text=text), group
            )
            ctx.conn.execute(_DELETE_BURST, {"g": row.group_id})

    # -- introductions ---------------------------------------------------------------------
    def _maybe_intro(self, ctx: BatchContext, b: _Batch, item: Incoming, group: GroupInfo) -> None:
        if item.joined_at is None or item.member_id is None:
            return
        s = self._settings(ctx, group)
        when = item.event.occurred_at
        if when - item.joined_at > timedelta(hours=s.intro_window_hours):
            return
        if len(item.event.text.strip()) < s.intro_min_chars:
            return
        if is_command(ctx, group, item.event.text):
            return  # "/checkin read 20 pages" is a check-in, not who they are
        # the first one counts (introduced_at is set once): written with the batch's others
        b.intros.setdefault((group.id, item.member_id), when)
