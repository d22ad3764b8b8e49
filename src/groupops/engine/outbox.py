"""Writing actions: to the outbox, or as an owner task where the platform cannot do them.

One function for every writer: the engine's batches and operators' actions (an undo) alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from groupops.domain.actions import Action, ActionKind
from groupops.engine.context import Emitted
from groupops.platforms.base import Capabilities
from groupops.storage.bulk import Bulk
from groupops.storage.tables import outbox, owner_tasks

_OUTBOX, _TASKS = Bulk(insert(outbox)), Bulk(insert(owner_tasks))


def describe(action: Action) -> str:
    """Plain words for an owner task: what to do, to whom, why."""
    who = f" user {action.user_id}" if action.user_id else ""
    until = f" until {action.until.isoformat()}" if action.until else ""
    why = f" — {action.reason}" if action.reason else ""
    return f"Please {action.kind.value}{who} in chat {action.chat_id}{until}{why}"


def write_actions(
    conn: Connection,
    items: Sequence[Emitted],
    *,
    now: datetime,
    capabilities_of: Callable[[str], Capabilities],
    workspace_of: Callable[[Emitted], int],
    want_ids: bool = False,
) -> tuple[list[int], list[int]]:
    """Queue ``items`` in ``conn``'s transaction. Returns (outbox ids, owner task ids); without
    ``want_ids`` a batch writes its rows in one statement and the ids are all 0."""
    rows: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    for item in items:
        action = item.action
        if action.kind == ActionKind.OWNER_TASK or not capabilities_of(action.source).can(
            action.kind
        ):
            text = action.text if action.kind == ActionKind.OWNER_TASK else describe(action)
            tasks.append(
                {
                    "workspace_id": workspace_of(item),
                    "group_id": item.group_id,
                    "source": action.source,
                    "chat_id": action.chat_id,
                    "action": action.to_json(),
                    "text": text,
                    "feature": item.feature,
                    "status": "open",
                    "created_at": now,
                }
            )
            continue
        rows.append(
            {
                "created_at": now,
                "source": action.source,
                "chat_id": action.chat_id,
                "group_id": item.group_id,
                "kind": action.kind.value,
                "payload": action.to_json(),
                "feature": item.feature,
                "cause_seq": item.cause_seq,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "last_error": "",
            }
        )
    if not want_ids:
        if rows:
            _OUTBOX.run(conn, rows)
        if tasks:
            _TASKS.run(conn, tasks)
        return [0] * len(rows), [0] * len(tasks)
    outbox_ids = [
        int(conn.execute(insert(outbox).values(**r).returning(outbox.c.id)).scalar_one())
        for r in rows
    ]
    task_ids = [
        int(conn.execute(insert(owner_tasks).values(**t).returning(owner_tasks.c.id)).scalar_one())
        for t in tasks
    ]
    return outbox_ids, task_ids
