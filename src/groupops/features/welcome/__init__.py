"""welcome: greet newcomers by name, push the rules, ask for a self-introduction, and
during a join burst send one combined welcome instead of one per member."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Connection, delete, func, insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.welcome.settings import WelcomeSettings
from groupops.features.welcome.tables import welcome_bursts
from groupops.i18n import N_
from groupops.storage.tables import events, memberships

DEFAULT_TEMPLATE = N_("Welcome {{ name }} to {{ group }}! 🎉")
DEFAULT_INTRO = N_("Please introduce yourself in a few words: who you are and why you joined.")
DEFAULT_BURST = N_("Welcome to our {{ count }} new members: {{ names }}! 🎉")
RULES_HEADER = N_("The rules of {{ group }}:")
MAX_NAMES = 20


class WelcomeFeature:
    name: ClassVar[str] = "welcome"
    order: ClassVar[int] = 20
    settings_model: ClassVar[type[WelcomeSettings]] = WelcomeSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {EventKind.MEMBER_JOINED, EventKind.MEMBER_ADMITTED, EventKind.MESSAGE, EventKind.TICK}
    )

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                self._flush_bursts(ctx, item.event.occurred_at)
            elif item.group is None:
                continue
            elif kind in (EventKind.MEMBER_JOINED, EventKind.MEMBER_ADMITTED):
                # member_admitted: the join gate let a gated newcomer in
                self._joined(ctx, item, item.group)
            elif kind == EventKind.MESSAGE:
                self._maybe_intro(ctx, item, item.group)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        # introductions live on the membership row, which the core forgets; bursts hold
        # display names only until they are flushed
        return None

    # -- joins -----------------------------------------------------------------------------
    def _settings(self, ctx: BatchContext, group: GroupInfo) -> WelcomeSettings:
        return ctx.settings(self, group, WelcomeSettings)

    def _vars(self, ctx: BatchContext, group: GroupInfo, s: WelcomeSettings) -> dict[str, str]:
        return {"group": group.title, "rules": s.rules}

    def _joined(self, ctx: BatchContext, item: Incoming, group: GroupInfo) -> None:
        s = self._settings(ctx, group)
        event = item.event
        t = ctx.gettext(group)
        when = event.occurred_at
        burst = ctx.conn.execute(
            select(welcome_bursts).where(welcome_bursts.c.group_id == group.id)
        ).first()
        window_start = when - timedelta(seconds=s.burst_window_seconds)
        recent = ctx.conn.execute(
            select(func.count())
            .select_from(events)
            .where(
                events.c.group_id == group.id,
                events.c.kind == event.kind.value,
                events.c.occurred_at > window_start,
                events.c.occurred_at <= when,
                events.c.seq < item.seq,
            )
        ).scalar_one()
        name = event.user_name or event.user_id
        if burst is not None or recent + 1 >= s.burst_threshold:
            self._hold(ctx, group, burst, name, when)
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

    def _hold(
        self, ctx: BatchContext, group: GroupInfo, burst: Any, name: str, when: datetime
    ) -> None:
        if burst is None:
            ctx.conn.execute(
                insert(welcome_bursts).values(
                    group_id=group.id, names=[name], count=1, started_at=when, last_join_at=when
                )
            )
            return
        names = list(burst.names)
        if len(names) < MAX_NAMES:
            names.append(name)
        ctx.conn.execute(
            update(welcome_bursts)
            .where(welcome_bursts.c.group_id == group.id)
            .values(
                names=names,
                count=burst._mapping["count"] + 1,
                last_join_at=max(when, burst.last_join_at),
            )
        )

    def _flush_bursts(self, ctx: BatchContext, now: datetime) -> None:
        rows = ctx.conn.execute(select(welcome_bursts)).all()
        if not rows:
            return
        groups = {g.id: g for g in ctx.all_groups()}
        for row in rows:
            group = groups.get(row.group_id)
            if group is None:
                continue
            s = self._settings(ctx, group)
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
            ctx.conn.execute(
                delete(welcome_bursts).where(welcome_bursts.c.group_id == row.group_id)
            )

    # -- introductions ---------------------------------------------------------------------
    def _maybe_intro(self, ctx: BatchContext, item: Incoming, group: GroupInfo) -> None:
        if item.joined_at is None or item.member_id is None:
            return
        s = self._settings(ctx, group)
        when = item.event.occurred_at
        if when - item.joined_at > timedelta(hours=s.intro_window_hours):
            return
        if len(item.event.text.strip()) < s.intro_min_chars:
            return
        ctx.conn.execute(
            update(memberships)
            .where(
                memberships.c.group_id == group.id,
                memberships.c.member_id == item.member_id,
                memberships.c.introduced_at.is_(None),
            )
            .values(introduced_at=when)
        )
