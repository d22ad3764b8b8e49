"""What the demo reports: counted from what the engine really stored and did.

Events from the events table (check-ins are the ``checked_in`` events the check-in feature
derived), moderation steps from the moderation log, gate outcomes from the gate's challenges,
delivered actions from the outbox. Nothing here trusts what the simulator meant to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, select

from groupops.domain.events import EventKind
from groupops.features.gate.tables import gate_challenges
from groupops.features.moderation.tables import moderation_decisions
from groupops.storage.tables import events, groups, memberships, outbox, owner_tasks

#: the per-group numbers, in the order the live table shows them
GROUP_FIELDS = (
    "members",
    "joins",
    "leaves",
    "messages",
    "replies",
    "reactions",
    "checkins",
    "warnings",
    "mutes",
    "kicks",
    "gate_passed",
    "gate_removed",
)
_KINDS = {
    EventKind.MEMBER_JOINED.value: "joins",
    EventKind.MEMBER_LEFT.value: "leaves",
    EventKind.MESSAGE.value: "messages",
    EventKind.REACTION.value: "reactions",
    EventKind.CHECKED_IN.value: "checkins",
}
#: the join gate's removals: a wrong or missing answer, and a newcomer refused in a raid
#: (which leaves no challenge behind): each is a member_kicked the gate derived ("gate:...")
GATE_REMOVED = and_(
    events.c.kind == EventKind.MEMBER_KICKED.value, events.c.event_id.like("gate:%")
)
_STEPS = {"warn": "warnings", "mute": "mutes", "kick": "kicks", "ban": "bans"}


def _groups(conn: Connection, source: str, chats: Iterable[str]) -> dict[int, str]:
    wanted = list(chats)
    rows = conn.execute(
        select(groups.c.id, groups.c.chat_id).where(
            groups.c.source == source, groups.c.chat_id.in_(wanted)
        )
    ).all()
    found = {int(r.id): str(r.chat_id) for r in rows}
    order = {c: i for i, c in enumerate(wanted)}
    return dict(sorted(found.items(), key=lambda kv: order[kv[1]]))


def group_totals(db: Engine, source: str, chats: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per chat: members now, joins, leaves, messages, replies, reactions, check-ins, and the
    moderation and gate outcomes."""
    with db.connect() as conn:
        ids = _groups(conn, source, chats)
        out: dict[str, dict[str, int]] = {
            chat: dict.fromkeys(GROUP_FIELDS, 0) for chat in ids.values()
        }
        if not ids:
            conn.rollback()
            return out
        e = events.c
        for gid, kind, n in conn.execute(
            select(e.group_id, e.kind, func.count())
            .where(e.group_id.in_(ids), e.kind.in_(list(_KINDS)))
            .group_by(e.group_id, e.kind)
        ):
            out[ids[gid]][_KINDS[kind]] += int(n)
        for gid, n in conn.execute(
            select(e.group_id, func.count())
            .where(
                e.group_id.in_(ids), e.kind == EventKind.MESSAGE.value, e.reply_to_message_id != ""
            )
            .group_by(e.group_id)
        ):
            out[ids[gid]]["replies"] += int(n)
        d = moderation_decisions.c
        for gid, step, n in conn.execute(
            select(d.group_id, d.step, func.count())
            .where(d.group_id.in_(ids), d.undone_at.is_(None))
            .group_by(d.group_id, d.step)
        ):
            key = _STEPS.get(step)
            if key == "bans":
                key = "kicks"  # the live table shows removals; totals keep bans apart
            if key is not None:
                out[ids[gid]][key] += int(n)
        g = gate_challenges.c
        for gid, n in conn.execute(
            select(g.group_id, func.count())
            .where(g.group_id.in_(ids), g.status == "passed")
            .group_by(g.group_id)
        ):
            out[ids[gid]]["gate_passed"] += int(n)
        for gid, n in conn.execute(
            select(e.group_id, func.count())
            .where(GATE_REMOVED, e.group_id.in_(ids))
            .group_by(e.group_id)
        ):
            out[ids[gid]]["gate_removed"] += int(n)
        m = memberships.c
        for gid, n in conn.execute(
            select(m.group_id, func.count())
            .where(m.group_id.in_(ids), m.status == "active")
            .group_by(m.group_id)
        ):
            out[ids[gid]]["members"] = int(n)
        conn.rollback()
    return out


def totals(db: Engine, source: str, chats: Iterable[str]) -> dict[str, Any]:
    """Everything the demo reports, from the database. Keys are stable; the JSON output sorts
    them."""
    chats = list(chats)
    per_group = group_totals(db, source, chats)
    with db.connect() as conn:
        e = events.c
        by_kind = {
            str(kind): int(n)
            for kind, n in conn.execute(select(e.kind, func.count()).group_by(e.kind))
        }
        replies = conn.execute(
            select(func.count()).where(
                e.kind == EventKind.MESSAGE.value, e.reply_to_message_id != ""
            )
        ).scalar_one()
        d = moderation_decisions.c
        steps = {
            str(step): int(n)
            for step, n in conn.execute(
                select(d.step, func.count()).where(d.undone_at.is_(None)).group_by(d.step)
            )
        }
        rules = {
            str(rule): int(n)
            for rule, n in conn.execute(
                select(d.rule, func.count()).where(d.undone_at.is_(None)).group_by(d.rule)
            )
        }
        o = outbox.c
        delivered = {
            str(kind): int(n)
            for kind, n in conn.execute(
                select(o.kind, func.count()).where(o.status == "delivered").group_by(o.kind)
            )
        }
        statuses = {
            str(status): int(n)
            for status, n in conn.execute(select(o.status, func.count()).group_by(o.status))
        }
        kicked = conn.execute(
            select(func.count()).select_from(
                select(d.group_id, d.member_id)
                .where(d.step.in_(("kick", "ban")), d.undone_at.is_(None))
                .distinct()
                .subquery()
            )
        ).scalar_one()
        tasks = conn.execute(select(func.count()).select_from(owner_tasks)).scalar_one()
        g = gate_challenges.c
        gate = {
            str(status): int(n)
            for status, n in conn.execute(select(g.status, func.count()).group_by(g.status))
        }
        gate_removed = conn.execute(select(func.count()).where(GATE_REMOVED)).scalar_one()
        conn.rollback()
    return {
        "events": sum(by_kind.values()),
        "events_by_kind": dict(sorted(by_kind.items())),
        "joins": by_kind.get(EventKind.MEMBER_JOINED.value, 0),
        "leaves": by_kind.get(EventKind.MEMBER_LEFT.value, 0),
        "messages": by_kind.get(EventKind.MESSAGE.value, 0),
        "replies": int(replies),
        "reactions": by_kind.get(EventKind.REACTION.value, 0),
        "checkins": by_kind.get(EventKind.CHECKED_IN.value, 0),
        "ticks": by_kind.get(EventKind.TICK.value, 0),
        "warnings": steps.get("warn", 0),
        "mutes": steps.get("mute", 0),
        "kicks": steps.get("kick", 0),
        "bans": steps.get("ban", 0),
        # (group, person) pairs removed and not let back: a person kicked twice in one group
        # (their ad's kick, then the blacklist's) counts once, one removed from two groups twice
        "members_kicked": int(kicked),
        "removed_messages": delivered.get("delete", 0),
        "moderation_by_rule": dict(sorted(rules.items())),
        "gate_passed": gate.get("passed", 0),
        "gate_removed": int(gate_removed),
        "actions_delivered": statuses.get("delivered", 0),
        "actions_by_kind": dict(sorted(delivered.items())),
        "actions_pending": statuses.get("pending", 0) + statuses.get("sending", 0),
        "actions_dead": statuses.get("dead", 0),
        "owner_tasks": int(tasks),
        "members_now": sum(g["members"] for g in per_group.values()),
        "groups": per_group,
    }
