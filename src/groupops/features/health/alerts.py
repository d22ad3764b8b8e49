"""The day's look at every group's health, and the owner task that tells the operator a group
has started dying.

Once a day per group, at the first tick from ``hour`` on (the group's own time zone), the
group is judged as ``groupops health`` judges it (:func:`groupops.report.health.lifecycle_of`
on its last twelve weeks, :func:`~groupops.report.health.concerns_of` for what needs the
operator). What was told is kept as feature marks (``feature_marks``, feature ``health``):

- ``day:YYYY-MM-DD``: the group's last look, on that local day (one a group: the older one
  is replaced), so a second tick of the day, or a restart, looks no second time;
- ``told:…``: the group needs the operator and they were told (what, e.g.
  ``told:warning+declining``). While it stays, nothing more is told; the first look that
  finds the group needing nobody (of what the settings tell about) removes it, and the next
  fall is told again.

A look costs ~12 ms a group (the life cycle's read): a tick looks at the groups due until
:data:`TICK_SECONDS` are spent (at least one), and the next ticks go on where it stopped, so a
workspace of 1,000 groups all due at 9:00 is looked at over the next minutes, a fraction of a
second a tick, and the live loop never waits ~12 s."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError
from groupops.domain.time import zone
from groupops.engine.context import BatchContext, GroupInfo, Named
from groupops.features.base import tick_settings
from groupops.features.health.settings import HealthSettings
from groupops.i18n import N_
from groupops.storage.tables import feature_marks

#: the most a tick spends on looks (seconds; at least one group is looked at)
TICK_SECONDS = 0.5
#: ``Action.data`` key of the task: what the task is made from (``tasks list`` says it again
#: in the reader's language, :func:`alert_said`)
DATA_KEY = "health"
DAY, TOLD = "day:", "told:"

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


def daily_look(ctx: BatchContext, feature: Named, now: datetime, budget: float) -> int:
    """At a tick: look at the groups due (their hour reached today, not looked at today),
    those not looked at for longest first, until ``budget`` seconds are spent (at least one);
    write a task for each group that newly needs the operator. Returns the groups looked at."""
    due: list[tuple[GroupInfo, HealthSettings, str]] = []
    for group in ctx.all_groups():
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
        kind = DAY if mark.startswith(DAY) else TOLD if mark.startswith(TOLD) else None
        if kind is not None:
            marks.setdefault(int(group_id), {})[kind] = str(mark)
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
    elif not concerns and told is not None:
        _unmark(ctx, feature, group, told)
    if DAY in marks:
        _unmark(ctx, feature, group, marks[DAY])
    _mark(ctx, feature, group, day, now)


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
