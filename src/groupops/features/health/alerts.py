"""The day's look at every group's health, and the owner task that tells the operator a group
has started dying.

Once a day per group, at the first tick from ``hour`` on (the group's own time zone), the
group is judged as ``groupops health`` judges it (:func:`groupops.report.health.lifecycle_of`
on its last twelve weeks, :func:`~groupops.report.health.concerns_of` for what needs the
operator). What was told is kept as feature marks (``feature_marks``, feature ``health``):

- ``day:YYYY-MM-DD``: the group's last look, on that local day (one a group: the older one
  is replaced), so a second tick of the day, or a restart, looks no second time;
- ``told:…``: the group needs the operator and they were told (what, e.g.
  ``told:warning+declining``). While it stays, nothing more is told;
- ``fine:YYYY-MM-DD``: beside ``told:``, the first local day of the looks in a row that found
  the group needing nobody (of what the settings tell about). A look that finds it needing
  the operator again removes it (the same fall goes on: nothing is told); once the looks have
  found it fine for ``recovery_days`` days, ``told:`` and ``fine:`` go, and the next fall is
  told again. A group hovering around a threshold (declining one day, not the next) is told
  once, not at every crossing.

Only the groups a bot runs are looked at: not imported history (``groupops import``: it is
over, nothing can be done there), not a group the bot is no longer in. When the bot is
removed from a group or leaves it, the group's marks go and its open health task is dismissed
with the reason (:func:`bot_gone`, on the ``bot_rights_changed`` event); the day's look drops
the marks of any other group it no longer looks at (deleted, the bot gone while this feature
was off there, imported history told by an earlier version), in the same way
(:func:`_sweep`).

A look costs ~12 ms a group (the life cycle's read): a tick looks at the groups due until
:data:`TICK_SECONDS` are spent (at least one), and the next ticks go on where it stopped, so a
workspace of 1,000 groups all due at 9:00 is looked at over the next minutes, a fraction of a
second a tick, and the live loop never waits ~12 s."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError
from groupops.domain.events import EventKind, is_imported
from groupops.domain.time import zone
from groupops.engine.context import BatchContext, GroupInfo, Incoming, Named
from groupops.features.base import tick_settings
from groupops.features.health.settings import HealthSettings
from groupops.i18n import N_
from groupops.storage.tables import feature_marks, groups, owner_tasks

#: the most a tick spends on looks (seconds; at least one group is looked at)
TICK_SECONDS = 0.5
#: ``Action.data`` key of the task: what the task is made from (``tasks list`` says it again
#: in the reader's language, :func:`alert_said`)
DATA_KEY = "health"
DAY, TOLD, FINE = "day:", "told:", "fine:"
#: ``owner_tasks.reason`` of an open health task groupops dismissed: the bot is not in the
#: group any more (removed, or it left), or it runs no such group (imported history, deleted)
BOT_GONE = N_("dismissed by groupops: the bot is no longer in this group")
NOT_RUN = N_("dismissed by groupops: the bot does not run this group (imported history)")

ALERT = N_(
    "Group {group} needs you: {why}. Messages: {messages_before} in the 28 days before,"
    " {messages_last} in the last 28; members who wrote: {active_before} before,"
    " {active_last} in the last 28; {quiet}. `groupops health --group {id}` shows the figures."
)
#: the parts of {why}
WHY_STAGE = N_("it is {stage}")
WHY_WARNING = N_("early warning: {reasons}")
WHY_APART = N_("; ")
#: {quiet}
QUIET = N_("the last message was {days} days ago")
NEVER = N_("nobody has written yet")

_m = feature_marks.c


def runs(group: GroupInfo) -> bool:
    """Whether the health of ``group`` is watched: a group a bot runs and is in (not imported
    history, not a group the bot was removed from or left)."""
    return group.bot_in_chat and not is_imported(group.source)


def daily_look(ctx: BatchContext, feature: Named, now: datetime, budget: float) -> int:
    """At a tick: look at the groups due (their hour reached today, not looked at today),
    those not looked at for longest first, until ``budget`` seconds are spent (at least one);
    write a task for each group that newly needs the operator. Returns the groups looked at."""
    run = [g for g in ctx.all_groups() if runs(g)]
    due: list[tuple[GroupInfo, HealthSettings, str]] = []
    for group in run:
        try:
            local = now.astimezone(zone(group.timezone))
        except GroupopsError:
            continue
        s = tick_settings(ctx, feature, group, HealthSettings)
        if s is None or not s.enabled or local.hour < s.hour:
            continue
        due.append((group, s, DAY + local.date().isoformat()))
    if not due:
        return 0
    marks: dict[int, dict[str, str]] = {}
    rows = ctx.conn.execute(select(_m.group_id, _m.mark).where(_m.feature == feature.name)).all()
    for group_id, mark in rows:
        kind = next((k for k in (DAY, TOLD, FINE) if mark.startswith(k)), None)
        if kind is not None:
            marks.setdefault(int(group_id), {})[kind] = str(mark)
    _sweep(ctx, feature, set(marks) - {g.id for g in run}, now)
    todo = [d for d in due if marks.get(d[0].id, {}).get(DAY) != d[2]]
    todo.sort(key=lambda d: (marks.get(d[0].id, {}).get(DAY, ""), d[0].id))
    started = time.monotonic()
    looked = 0
    for group, s, day in todo:
        if looked and time.monotonic() - started >= budget:
            break
        _look(ctx, feature, group, s, now, day, marks.get(group.id, {}))
        looked += 1
    return looked


def _look(
    ctx: BatchContext,
    feature: Named,
    group: GroupInfo,
    s: HealthSettings,
    now: datetime,
    day: str,
    marks: Mapping[str, str],
) -> None:
    from groupops.report.health import concerns_of, lifecycle_of

    found = lifecycle_of(ctx.conn, group.id, group.timezone, now)
    wanted = s.alerts() if not nobody_yet(found) else frozenset()
    concerns = [c for c in concerns_of(found["stage"], found["warning"]) if c in wanted]
    told = marks.get(TOLD)
    if concerns and told is None:
        data = {
            "group": group.title or group.chat_id,
            "group_id": group.id,
            "concerns": concerns,
            "stage": found["stage"],
            "warning": found["warning"],
            "figures": found["figures"],
        }
        text = alert_said(data, ctx.gettext(group))
        action = Action(
            ActionKind.OWNER_TASK, group.source, group.chat_id, text=text, data={DATA_KEY: data}
        )
        ctx.emit_for_group(action, group)
        _mark(ctx, feature, group, TOLD + "+".join(concerns), now)
    fine = marks.get(FINE)
    if concerns or told is None:  # still falling (or never told): no recovery under way
        if fine is not None:
            _unmark(ctx, feature, group, fine)
    elif _fine_days(fine or FINE + day[len(DAY) :], day) >= s.recovery_days:
        _unmark(ctx, feature, group, told)  # recovered: the next fall is told again
        if fine is not None:
            _unmark(ctx, feature, group, fine)
    elif fine is None:
        _mark(ctx, feature, group, FINE + day[len(DAY) :], now)
    if DAY in marks:
        _unmark(ctx, feature, group, marks[DAY])
    _mark(ctx, feature, group, day, now)


def _fine_days(fine: str, day: str) -> int:
    """The local days from a ``fine:`` mark's day to the ``day:`` mark's, both counted."""
    first = date.fromisoformat(fine[len(FINE) :])
    return (date.fromisoformat(day[len(DAY) :]) - first).days + 1


def bot_gone(ctx: BatchContext, feature: Named, batch: Sequence[Incoming]) -> None:
    """The ``bot_rights_changed`` events of ``batch`` that leave the bot out of their group
    (removed, banned, it left; the engine has kept it on the group before the features run):
    the group's marks go and its open health task is dismissed, saying why. The bot back in
    the group later, it is looked at afresh (a fall then is told again)."""
    said = [i.group for i in batch if i.event.kind == EventKind.BOT_RIGHTS_CHANGED and i.group]
    if not said:
        return
    present = {g.id for g in ctx.all_groups()}
    gone = {group.id: group for group in said if group.id not in present}
    for group in gone.values():
        _forget_group(ctx, feature, group.id, ctx.gettext(group)(BOT_GONE), ctx.now)


def _sweep(ctx: BatchContext, feature: Named, ids: set[int], now: datetime) -> None:
    """The marks of the groups ``ids``, which the day's look no longer looks at, go, and their
    open health tasks are dismissed: a group the bot is not in (:data:`BOT_GONE`), one it does
    not run (:data:`NOT_RUN`: imported history, or deleted)."""
    if not ids:
        return
    g = groups.c
    found = {
        int(r.id): r
        for r in ctx.conn.execute(
            select(g.id, g.source, g.bot_in_chat, g.language).where(g.id.in_(sorted(ids)))
        )
    }
    for group_id in sorted(ids):
        row = found.get(group_id)
        t = ctx.catalogs.gettext(str(row.language) if row is not None else "")
        gone = row is not None and not row.bot_in_chat and not is_imported(str(row.source))
        _forget_group(ctx, feature, group_id, t(BOT_GONE if gone else NOT_RUN), now)


def _forget_group(
    ctx: BatchContext, feature: Named, group_id: int, reason: str, now: datetime
) -> None:
    """Drop what this feature keeps of group ``group_id``; dismiss its open health tasks with
    ``reason``."""
    ctx.conn.execute(
        delete(feature_marks).where(_m.feature == feature.name, _m.group_id == group_id)
    )
    t = owner_tasks.c
    ctx.conn.execute(
        update(owner_tasks)
        .where(t.group_id == group_id, t.feature == feature.name, t.status == "open")
        .values(status="dismissed", done_at=now, reason=reason)
    )


def nobody_yet(found: Mapping[str, Any]) -> bool:
    """Whether a group's life cycle (``lifecycle``'s dict) is of a group where nobody has
    joined or written yet (the bot has just been added, or a chat made and not used): the
    life cycle calls it dead, but there is nothing to tell the operator about."""
    figures = found["figures"]
    return figures["days_since_last_message"] is None and figures["age_days"] == 0


def _mark(ctx: BatchContext, feature: Named, group: GroupInfo, mark: str, now: datetime) -> None:
    ctx.conn.execute(
        insert(feature_marks).values(
            feature=feature.name, group_id=group.id, mark=mark, created_at=now
        )
    )


def _unmark(ctx: BatchContext, feature: Named, group: GroupInfo, mark: str) -> None:
    ctx.conn.execute(
        delete(feature_marks).where(
            _m.feature == feature.name, _m.group_id == group.id, _m.mark == mark
        )
    )


def alert_said(data: Mapping[str, Any], t: Callable[[str], str]) -> str:
    """The task's text from what it is made of (``Action.data[DATA_KEY]``), in the language of
    ``t``: the group, why it needs the operator (its stage, its early warning's reasons), and
    the figures behind it (``lifecycle``'s)."""
    from groupops.report.areas_activity import warning_text
    from groupops.report.labels import STAGES

    why: list[str] = []
    for concern in data.get("concerns") or []:
        if concern == "warning":
            why.append(t(WHY_WARNING).format(reasons=warning_text(data.get("warning") or {}, t)))
        elif concern in STAGES:
            why.append(t(WHY_STAGE).format(stage=t(STAGES[concern])))
    f = data.get("figures") or {}
    quiet = f.get("days_since_last_message")
    return t(ALERT).format(
        group=data.get("group", ""),
        id=data.get("group_id", ""),
        why=t(WHY_APART).join(why),
        messages_before=f.get("messages_prev_28d", 0),
        messages_last=f.get("messages_last_28d", 0),
        active_before=f.get("active_prev_28d", 0),
        active_last=f.get("active_last_28d", 0),
        quiet=t(NEVER) if quiet is None else t(QUIET).format(days=f"{quiet:g}"),
    )


def alert_of(action: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """What a stored owner task's action (``owner_tasks.action``) was made from, when it is a
    health alert; else None."""
    data = action.get("data")
    found = data.get(DATA_KEY) if isinstance(data, Mapping) else None
    return found if isinstance(found, Mapping) else None
