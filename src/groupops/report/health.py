"""``groupops health``: every group the bot runs, judged as the report judges one — its
life-cycle stage, the early warning, and the figures behind them — in one list that puts the
groups needing the operator first.

An operator with dozens or thousands of groups does not run ``analyze --group`` on each to
learn which are dying. The stage and the warning are the analytics' own
(:func:`groupops.analytics.metrics.lifecycle`), on the group's last twelve weeks of events
(the weeks the life cycle reads) plus three times from before them
(:class:`~groupops.analytics.context.Earlier`): the same answer as from the group's whole
history, in a few index steps a group (``ix_events_group_kind_time``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select

from groupops.domain.events import EventKind, is_imported
from groupops.domain.time import utc
from groupops.storage.tables import events, groups, workspaces

#: the weeks of events read: all that the life cycle looks at (its list of the last 12 weeks;
#: its rules read 8 at most)
WINDOW_WEEKS = 12
_WEEK = 7 * 86_400

#: the order the list is in: the groups an operator can still save first (an early warning,
#: then declining), then the dead, then the rest (within a rank: the steepest fall first)
CONCERN = {"declining": 1, "dead": 2, "new": 3, "mature": 3, "growing": 4}
#: the stages that need the operator (``--concerns`` lists them; the health feature tells them)
NEEDS_YOU = ("declining", "dead")
#: what makes a group need the operator: its early warning, or one of the stages of NEEDS_YOU
WARNING = "warning"

_e = events.c
_FIRST = select(func.min(_e.occurred_at)).where(
    _e.group_id == bindparam("g"), _e.kind.in_(bindparam("kinds", expanding=True))
)
_LAST_BEFORE = select(func.max(_e.occurred_at)).where(
    _e.group_id == bindparam("g"),
    _e.kind == EventKind.MESSAGE.value,
    _e.occurred_at < bindparam("since"),
)
_MESSAGE = [EventKind.MESSAGE.value]
_BORN = [EventKind.MESSAGE.value, EventKind.MEMBER_JOINED.value]


def _seconds(value: datetime | None) -> int | None:
    """A stored time as the analytics' frame holds it (whole unix seconds)."""
    return None if value is None else int(utc(value).timestamp())


def _earlier(conn: Connection, group_id: int, since: datetime) -> Any:
    from groupops.analytics.context import Earlier

    first = conn.execute(_FIRST, {"g": group_id, "kinds": _MESSAGE}).scalar()
    born = conn.execute(_FIRST, {"g": group_id, "kinds": _BORN}).scalar()
    last = conn.execute(_LAST_BEFORE, {"g": group_id, "since": since}).scalar()
    return Earlier(_seconds(first), _seconds(last), _seconds(born))


def lifecycle_of(conn: Connection, group_id: int, timezone: str, now: datetime) -> dict[str, Any]:
    """The life cycle of one live group as of ``now`` (``metrics.lifecycle``'s dict)."""
    from groupops.analytics import load_group_activity
    from groupops.analytics.context import Context
    from groupops.analytics.metrics import lifecycle

    now_s = int(utc(now).timestamp())
    # whole seconds, as the frame's times: a window of exactly the weeks read
    since = datetime.fromtimestamp(now_s - WINDOW_WEEKS * _WEEK, UTC)
    frame = load_group_activity(conn, group_id, since)
    context = Context(frame, now_s, timezone, _earlier(conn, group_id, since))
    return lifecycle(context)


def as_of(db: Engine, now: datetime) -> datetime:
    """The moment ``groupops health`` judges at: ``now``, or the latest stored event when
    the database's clock ran ahead of the machine's (``groupops demo``'s simulated days,
    ``serve --movable-clock``): judged at the present, such a group would have its last
    message days in the future."""
    with db.connect() as conn:
        latest = conn.execute(select(func.max(events.c.occurred_at))).scalar()
        conn.rollback()
    return max(utc(now), utc(latest)) if latest is not None else utc(now)


def group_health(
    db: Engine, *, now: datetime | None = None, only: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Every group's health as of ``now`` (default: the present), those needing the operator
    first (an early warning, then :data:`CONCERN`), or
    only the groups of ``only`` (ids). Each row: the group (``id``, ``workspace``, ``source``,
    ``chat_id``, ``title``), ``stage``, ``rule``, ``evidence``, ``warning`` (the life cycle's,
    as the report shows them), its figures (``messages_last_28d`` ...), ``imported``:
    whether it is imported history (``groupops import``), which no bot runs, and ``bot_left``:
    whether the bot left it or was removed: both judged all the same, listed after the groups
    the bot runs, never needing the operator (no ``--concerns``, no health alert)."""
    when = utc(now) if now is not None else datetime.now(UTC)
    g = groups.c
    q = (
        select(
            g.id,
            workspaces.c.slug.label("workspace"),
            g.source,
            g.chat_id,
            g.title,
            g.timezone,
            g.bot_in_chat,
        )
        .join(workspaces, workspaces.c.id == g.workspace_id)
        .order_by(g.id)
    )
    if only is not None:
        q = q.where(g.id.in_(list(only)))
    rows: list[dict[str, Any]] = []
    with db.connect() as conn:
        for group in conn.execute(q).all():
            found = lifecycle_of(conn, int(group.id), group.timezone, when)
            imported = is_imported(str(group.source))
            fields = dict(group._mapping)
            in_chat = bool(fields.pop("bot_in_chat"))
            rows.append(
                {
                    **fields,
                    "stage": found["stage"],
                    "rule": found["rule"],
                    "evidence": found["evidence"],
                    "warning": found["warning"],
                    **found["figures"],
                    "imported": imported,
                    "bot_left": not imported and not in_chat,
                }
            )
        conn.rollback()
    rows.sort(key=_concern)
    return rows


def concerns_of(stage: str, warning: Mapping[str, Any]) -> list[str]:
    """Why a group with this life-cycle ``stage`` and early ``warning`` (``lifecycle``'s)
    needs the operator, in this order: :data:`WARNING` when its early warning is raised, then
    its stage when it is one of :data:`NEEDS_YOU`; [] when it needs nobody."""
    found = [WARNING] if warning.get("active") else []
    if stage in NEEDS_YOU:
        found.append(stage)
    return found


def _concern(row: dict[str, Any]) -> tuple[bool, int, float, int]:
    warning = row["warning"]
    rank = 0 if warning.get("active") else CONCERN.get(row["stage"], 3)
    return (not runs(row), rank, float(warning.get("weekly_change", 0.0)), int(row["id"]))


def runs(row: Mapping[str, Any]) -> bool:
    """Whether a row of :func:`group_health` is of a group a bot runs: not imported history,
    and the bot still in it (a group it left or was removed from is listed, but nothing can
    be done there through the bot: ``groupops groups`` shows it as left)."""
    return not row["imported"] and not row["bot_left"]


def needs_you(row: Mapping[str, Any]) -> bool:
    """Whether a row of :func:`group_health` is of a group needing the operator (what
    ``--concerns`` lists; what the health alerts tell, as their settings choose): an early
    warning, declining or dead, in a group a bot runs (imported history is over; a group the
    bot left is the bot's own owner task, "add the bot back")."""
    return runs(row) and bool(concerns_of(row["stage"], row["warning"]))
