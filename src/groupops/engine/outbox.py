"""Writing actions: to the outbox, or as an owner task where the platform cannot do them.

One function for every writer: the engine's batches and operators' actions (an undo) alike.
A live engine's batches also hand their actions straight to the running deliverer
(:func:`write_and_hand_off`): claimed in the batch's own transaction, so the deliverer neither
reads the queue nor commits a claim before sending them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    false,
    insert,
    or_,
    select,
    text,
    update,
)

from groupops.domain.actions import Action, ActionKind
from groupops.engine.context import Emitted
from groupops.engine.deadletters import NOT_IN_GROUP
from groupops.platforms.base import Capabilities, RateLimits
from groupops.storage.bulk import Bulk
from groupops.storage.db import driver_cursor
from groupops.storage.tables import OUTBOX_UNFINISHED, groups, outbox, owner_tasks

_OUTBOX, _TASKS = Bulk(insert(outbox)), Bulk(insert(owner_tasks))
#: without a running App we cannot ask the platform: queue everything, and the deliverer
#: dead-letters what the platform refuses
_ANY = Capabilities("any", frozenset(ActionKind) - {ActionKind.OWNER_TASK}, RateLimits())
_o = outbox.c
#: more chats than this with unfinished actions: nothing is handed off (see open_chats)
OPEN_SCAN_LIMIT = 1000


def unfinished_chats_cte(sqlite: bool, most: int | None = None) -> str:
    """The ``sources(source)`` and ``chats(source, chat_id, n)`` parts of a ``WITH
    RECURSIVE``: every source, then each source's chats with an unfinished action (at most
    ``most`` chats in all), found one after the other through the partial index on them
    (ix_outbox_unfinished, migration 0014), one step in the index each (the next one after
    the last found), so a read costs what the chats waiting are, not what is queued. Rows
    whose ``chat_id`` is NULL end a source's steps. The condition is written as the index
    writes it (tables.OUTBOX_UNFINISHED): a database uses a partial index only for a query
    that writes its values (PostgreSQL's plan for a bound ``status IN ($1, $2)`` read the
    whole table through ix_outbox_chat once psycopg prepared it). SQLite is told the index
    (INDEXED BY): without statistics it would take the status index and sort. Shared by
    :func:`open_chats` and engine.delivery_order's read of the queue."""
    every = " INDEXED BY ix_outbox_unfinished" if sqlite else ""
    u = OUTBOX_UNFINISHED
    bound = "" if most is None else f" AND c.n < {int(most)}"
    return f"""sources(source) AS (
  SELECT (SELECT x.source FROM outbox AS x{every} WHERE {u} ORDER BY x.source LIMIT 1)
  UNION ALL
  SELECT (SELECT x.source FROM outbox AS x{every}
          WHERE {u} AND x.source > s.source ORDER BY x.source LIMIT 1)
  FROM sources AS s WHERE s.source IS NOT NULL
),
chats(source, chat_id, n) AS (
  SELECT s.source, (SELECT x.chat_id FROM outbox AS x{every}
                    WHERE {u} AND x.source = s.source ORDER BY x.chat_id LIMIT 1), 1
  FROM sources AS s WHERE s.source IS NOT NULL
  UNION ALL
  SELECT c.source, (SELECT x.chat_id FROM outbox AS x{every}
                    WHERE {u} AND x.source = c.source AND x.chat_id > c.chat_id
                    ORDER BY x.chat_id LIMIT 1), c.n + 1
  FROM chats AS c WHERE c.chat_id IS NOT NULL{bound}
)"""


def _open_chats_sql(sqlite: bool) -> str:
    """The first OPEN_SCAN_LIMIT chats with an unfinished action (see
    :func:`unfinished_chats_cte`)."""
    return f"""
WITH RECURSIVE
{unfinished_chats_cte(sqlite, OPEN_SCAN_LIMIT)}
SELECT source, chat_id FROM chats WHERE chat_id IS NOT NULL LIMIT {OPEN_SCAN_LIMIT}
"""


_OPEN_CHATS, _SQLITE_OPEN_CHATS = text(_open_chats_sql(sqlite=False)), _open_chats_sql(sqlite=True)


@dataclass(frozen=True, slots=True)
class Handed:
    """An action handed to the deliverer by the batch that queued it, already claimed: the
    outbox row's fields the deliverer reads (as a row of ``select(outbox)`` has them, with
    ``attempts`` as they were before the claim)."""

    id: int
    created_at: datetime
    source: str
    chat_id: str
    group_id: int | None
    kind: str
    payload: dict[str, Any]
    feature: str
    cause_seq: int | None
    status: str
    attempts: int
    next_attempt_at: datetime
    claimed_until: datetime | None


#: the fields a Handed takes from its outbox row as written (the id comes from the insert;
#: attempts are as they were before the claim)
_HANDED_FROM_ROW = tuple(f for f in Handed.__slots__ if f not in ("id", "attempts"))


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
    away: Collection[tuple[str, str]] = (),
) -> tuple[list[int], list[int]]:
    """Queue ``items`` in ``conn``'s transaction. Returns (outbox ids, owner task ids); without
    ``want_ids`` a batch writes its rows in one statement and the ids are all 0. An action
    for a chat in ``away`` (source, chat_id: the bot is not in it) is written as a dead letter
    saying so, never sent, but for a private message: the member's private chat does not need
    the group (should the platform refuse it, the deliverer's post in the group instead is a
    dead letter too). Owner tasks are written as usual."""
    rows, tasks = _rows(items, now, capabilities_of, workspace_of, away)
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


def queue_actions(
    conn: Connection,
    actions: Sequence[tuple[Action, int | None]],
    *,
    workspace_id: int,
    now: datetime,
    feature: str,
    capabilities_of: Callable[[str], Capabilities] | None = None,
) -> tuple[list[int], list[int]]:
    """Actions written outside a batch (an operator's undo, a broadcast): ``(action,
    group_id)`` pairs to the outbox in ``conn``'s transaction; with ``capabilities_of``, what
    the platform cannot do becomes an owner task. Returns the new outbox ids and owner task
    ids. Those for a group the bot is not in are dead letters at once (:func:`write_actions`)."""
    g = groups.c
    chats = {(a.source, a.chat_id) for a, _gid in actions}
    away = (
        {
            (str(src), str(chat))
            for src, chat in conn.execute(
                select(g.source, g.chat_id).where(g.bot_in_chat.is_(False))
            )
        }
        & chats
        if chats
        else set()
    )
    return write_actions(
        conn,
        [Emitted(action, feature, None, group_id) for action, group_id in actions],
        now=now,
        capabilities_of=capabilities_of or (lambda _source: _ANY),
        workspace_of=lambda _item: workspace_id,
        want_ids=True,
        away=away,
    )


def failure_text(exc: BaseException) -> str:
    """How an action's failure is stored (``outbox.last_error``): the error's type and its
    words, at most 2,000 characters."""
    return f"{type(exc).__name__}: {exc}"[:2000]


def queue_dead_letter(
    conn: Connection,
    action: Action,
    group_id: int | None,
    *,
    workspace_id: int,
    now: datetime,
    feature: str,
    error: BaseException,
    attempts: int = 1,
) -> list[int]:
    """An action that failed for good outside the deliverer (a platform adapter's own work,
    such as lifting a timed mute) written as a dead letter saying why, as the deliverer leaves
    one the platform refused: ``groupops outbox`` lists it and ``outbox retry`` sends it.
    ``attempts``: how many times the adapter tried it. Returns its outbox ids (a group the bot
    is not in keeps :func:`queue_actions`' reason)."""
    ids, _tasks = queue_actions(
        conn, [(action, group_id)], workspace_id=workspace_id, now=now, feature=feature
    )
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids), outbox.c.status == "pending")
        .values(status="dead", attempts=attempts, last_error=failure_text(error))
    )
    return ids


def write_and_hand_off(
    conn: Connection,
    items: Sequence[Emitted],
    *,
    now: datetime,
    until: datetime,
    capabilities_of: Callable[[str], Capabilities],
    workspace_of: Callable[[Emitted], int],
    away: Collection[tuple[str, str]] = (),
) -> tuple[int, int, list[Handed]]:
    """Queue ``items`` as :func:`write_actions` does, and claim for the live deliverer (status
    'sending', the attempt counted, leased ``until``) the actions of every chat that has no
    unfinished action before them: the deliverer sends those straight from memory once the
    transaction commits. A chat with an action still pending or being sent queues behind it
    as usual (the deliverer reads it from the queue), so a chat's actions still go in order.
    Returns (actions queued, owner tasks, the handed actions in queue order); an action for a
    chat in ``away`` is a dead letter (:func:`write_actions`), never handed."""
    rows, tasks = _rows(items, now, capabilities_of, workspace_of, away)
    if tasks:
        _TASKS.run(conn, tasks)
    if not rows:
        return 0, len(tasks), []
    open_ = open_chats(conn)
    any_claimed = False
    for row in rows:
        row["claimed_until"] = None  # every row the same keys (one statement)
        if (
            open_ is not None
            and row["status"] == "pending"
            and (row["source"], row["chat_id"]) not in open_
        ):
            row.update(status="sending", attempts=1, claimed_until=until)
            any_claimed = True
    if not any_claimed:
        _OUTBOX.run(conn, rows)
        return len(rows), len(tasks), []
    handed = [
        Handed(id=oid, attempts=0, **{f: row[f] for f in _HANDED_FROM_ROW})
        for oid, row in zip(_insert_with_ids(conn, rows), rows, strict=True)
        if row["status"] == "sending"
    ]
    return len(rows), len(tasks), handed


def open_chats(conn: Connection) -> set[tuple[str, str]] | None:
    """The chats with an action still pending or being sent, read in ``conn``'s transaction
    (a write transaction holds the queue still on SQLite); None when the queue holds more than
    OPEN_SCAN_LIMIT of them (a platform down for a while: the deliverer's own reads take it)."""
    if conn.dialect.name == "sqlite":
        with driver_cursor(conn) as cursor:
            found = cursor.execute(_SQLITE_OPEN_CHATS).fetchall()
    else:
        found = conn.execute(_OPEN_CHATS).all()
    if len(found) >= OPEN_SCAN_LIMIT:
        return None
    return {(str(source), str(chat)) for source, chat in found}


def _insert_with_ids(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in one statement; their ids in order."""
    if conn.dialect.name != "sqlite":
        stmt = insert(outbox).returning(outbox.c.id, sort_by_parameter_order=True)
        return [int(r[0]) for r in conn.execute(stmt, rows)]
    # a write transaction holds SQLite's lock: the ids above the old maximum are exactly the
    # rows this statement added, in its order (AUTOINCREMENT never hands out a smaller one)
    with driver_cursor(conn) as cursor:
        before = cursor.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0]
        _OUTBOX.run(conn, rows)
        ids = [r[0] for r in cursor.execute("SELECT id FROM outbox WHERE id > ?", (before,))]
    if len(ids) != len(rows):  # cannot happen under the lock; never guess which id is whose
        raise RuntimeError(f"outbox ids: {len(ids)} new rows for {len(rows)} actions")
    return ids


def _rows(
    items: Sequence[Emitted],
    now: datetime,
    capabilities_of: Callable[[str], Capabilities],
    workspace_of: Callable[[Emitted], int],
    away: Collection[tuple[str, str]] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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
        if (
            away
            and action.kind != ActionKind.DIRECT_MESSAGE  # the member's own chat: no group
            and (action.source, action.chat_id) in away
        ):
            rows[-1].update(status="dead", last_error=NOT_IN_GROUP)
    return rows, tasks


def aimed_at(payload: Any, source: Any, people: Collection[tuple[str, str]]) -> ColumnElement[bool]:
    """Whether an action (its JSON ``payload`` and ``source`` column) is aimed at one of
    ``people`` (``(source, user_id)`` pairs)."""
    return or_(
        false(),
        *(and_(source == src, payload["user_id"].as_string() == uid) for src, uid in people),
    )


def remove_actions_about(
    conn: Connection,
    people: Collection[tuple[str, str]],
    causes: Select[tuple[int]],
) -> list[int]:
    """Delete, in ``conn``'s transaction, the actions about one person (``forget``): outbox rows
    aimed at them or caused by their events (``causes``: those events' seqs), whatever their
    state (an action not sent yet is not sent: nothing is said or done about someone
    forgotten), and the owner tasks aimed at them. What was said to others and only mentions
    them by name (a leaderboard someone else asked for) stays, as other people's messages
    that mention them do: a name is no proof of who is meant (two members may share one, or
    a name may be part of a word or of the group's title). Returns the outbox ids deleted."""
    theirs = or_(aimed_at(_o.payload, _o.source, people), _o.cause_seq.in_(causes))
    ids = [int(r[0]) for r in conn.execute(select(_o.id).where(theirs))]
    for start in range(0, len(ids), _CHUNK):
        conn.execute(delete(outbox).where(_o.id.in_(ids[start : start + _CHUNK])))
    t = owner_tasks.c
    conn.execute(delete(owner_tasks).where(aimed_at(t.action, t.source, people)))
    return ids


_CHUNK = 500
