"""The deliverer's fair read of the queue (engine.delivery_order.read_queue) through the outbox's
partial indexes (migration 0014), on SQLite and PostgreSQL: it reads what 7638cee's window
query read, row for row, and what it costs does not grow with a chat's backlog (the window
query sorted every unfinished row at every read)."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from alembic import command
from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    case,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.sql import Select

from groupops.domain.actions import ADDRESSES
from groupops.engine import delivery_order
from groupops.engine.delivery_order import OVERTAKES, QueueRead, read_queue
from groupops.storage.migrate import alembic_config, current, upgrade
from groupops.storage.tables import outbox
from tests.conftest import T0

_o = outbox.c
_PROTECTS = _o.kind.in_(sorted(OVERTAKES))
_CHAT = (_o.source, _o.chat_id)
_RANKED = (
    select(
        _o.id.label("oid"),
        func.row_number().over(partition_by=_CHAT, order_by=_o.id).label("rn"),
        case(
            (
                _PROTECTS,
                func.sum(case((_PROTECTS, 1), else_=0)).over(
                    partition_by=_CHAT, order_by=_o.id, rows=(None, 0)
                ),
            ),
            else_=func.row_number().over(partition_by=_CHAT, order_by=_o.id),
        ).label("rank"),
    )
    .where(_o.status.in_(("pending", "sending")))
    .subquery("ranked")
)
_WINDOWS = (
    select(_RANKED)
    .where(_RANKED.c.rank <= bindparam("k"))
    .order_by(_RANKED.c.rank, _RANKED.c.oid)
    .limit(bindparam("n"))
    .subquery("windows")
)
#: the read as 7638cee defined it (the order of its rows made explicit): every unfinished row
#: ranked in its chat, the windows taken round robin. The reference the read must match, and
#: bench/outbox_read.py's "before"
WINDOW_QUERY: Select[Any] = (
    select(outbox, _WINDOWS.c.rn, _WINDOWS.c.rank)
    .join(_WINDOWS, _WINDOWS.c.oid == _o.id)
    .order_by(_WINDOWS.c.rank, _WINDOWS.c.oid)
)

KINDS = ["send", "send", "reply", "ask", "pin", "mute", "kick", "ban", "delete", "unmute"]
STATUSES = ["pending"] * 6 + ["sending", "delivered", "dead"]


def rows(chats: dict[str, list[tuple[str, str]]], order: list[str]) -> list[dict[str, Any]]:
    """Outbox rows of ``chats`` (chat -> [(kind, status)]), queued in ``order`` (chat names):
    payloads naming a few messages and members, as a gate's questions, replies, removals do."""
    out: list[dict[str, Any]] = []
    left = {chat: list(items) for chat, items in chats.items()}
    for chat in order:
        kind, status = left[chat].pop(0)
        n = len(out) % 4
        payload: dict[str, Any] = {"kind": kind, "data": {}, "message_id": None, "user_id": None}
        if kind in ("reply", "pin", "delete"):
            payload["message_id"] = f"m{n}"
        if kind == "ask":
            payload["data"] = {ADDRESSES: f"u{n}"}
        if kind in ("kick", "ban", "mute", "unmute"):
            payload["user_id"] = f"u{n}"
        out.append(
            {
                "created_at": T0,
                "source": "telegram:bot" if chat < "c5" else "matrix:bot",
                "chat_id": chat,
                "kind": kind,
                "payload": payload,
                "feature": "",
                "status": status,
                "attempts": 0,
                "next_attempt_at": T0,
                "last_error": "",
            }
        )
    return out


def queue(conn: Connection, batch: list[dict[str, Any]]) -> None:
    conn.execute(delete(outbox))
    conn.execute(insert(outbox), batch)


def window_rows(conn: Connection, per_chat: int, budget: int) -> list[tuple[int, int, int]]:
    """The read's rows (id, place, rank) in the order it takes them, new and old."""
    got = delivery_order._read_windows(conn, per_chat + 1, budget + 1)
    return [(r.id, r.rn, r.rank) for r in got]


def test_the_read_takes_what_the_window_query_took(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random queues (chats of up to 40 actions, protective ones and what they name among
    them, finished ones between), windows and budgets small enough to cut them: the same rows
    in the same order with the same ranks, and read_queue decides the same from them."""
    rnd = random.Random(7)
    for _ in range(40):
        chats = {
            f"c{i}": [(rnd.choice(KINDS), rnd.choice(STATUSES)) for _ in range(rnd.randint(1, 40))]
            for i in rnd.sample(range(8), rnd.randint(1, 6))
        }
        order = [chat for chat, items in chats.items() for _ in items]
        rnd.shuffle(order)
        with db.begin() as conn:
            queue(conn, rows(chats, order))
        for per_chat, budget in ((1, 3), (2, 5), (3, 12), (5, 40), (50, 4000)):
            with db.connect() as conn:
                new_rows = window_rows(conn, per_chat, budget)
                new = read_queue(conn, budget, per_chat)
                with monkeypatch.context() as m:
                    m.setattr(delivery_order, "_WINDOWS", WINDOW_QUERY)
                    m.setattr(delivery_order, "_WINDOWS_SQLITE", WINDOW_QUERY)
                    old_rows = window_rows(conn, per_chat, budget)
                    old = read_queue(conn, budget, per_chat)
                conn.rollback()
            assert [(i, rank) for i, _, rank in new_rows] == [(i, r) for i, _, r in old_rows]
            # a place is the same up to twice the window (read_queue compares no further)
            for (_, place, _), (_, was, _) in zip(new_rows, old_rows, strict=True):
                assert place == was or min(place, was) > 2 * per_chat
            assert _decided(new) == _decided(old)


def _decided(read: QueueRead) -> tuple[list[int], dict[tuple[str, str], int], bool]:
    return [int(r.id) for r in read.rows], read.horizons, read.complete


def _cost(conn: Connection) -> int:
    """What one read of the queue (50 a chat, 4,000 at most) costs the database: virtual
    machine steps on SQLite, buffer pages touched on PostgreSQL."""
    if conn.dialect.name == "sqlite":
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        raw = conn.connection.driver_connection
        raw.set_progress_handler(count, 100)  # type: ignore[union-attr]
        try:
            read_queue(conn, 4000, 50)
        finally:
            raw.set_progress_handler(None, 0)  # type: ignore[union-attr]
        return steps[0]
    plan = conn.execute(
        text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(delivery_order._WINDOWS)),
        {"k": 51, "m": 102, "n": 4001},
    ).scalar_one()
    top = plan[0]["Plan"]
    return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])


def test_a_read_costs_no_more_with_a_longer_backlog(db: Engine) -> None:
    """One chat's backlog ten times as long (3,000, then 27,000 more queued) among 30 chats
    with a few actions: the read costs about the same. Sorting the queue, it cost ten times
    as much and more."""
    chats = {f"c{i}": [("send", "pending"), ("mute", "pending")] for i in range(1, 8)}
    chats |= {f"d{i}": [("send", "pending")] * 3 for i in range(23)}
    chats["c0"] = [("send", "pending")] * 3_000
    order = [chat for chat, items in chats.items() for _ in items]
    random.Random(3).shuffle(order)
    costs = []
    for batch in (
        rows(chats, order),
        rows({"c0": [("send", "pending")] * 27_000}, ["c0"] * 27_000),
    ):
        with db.begin() as conn:
            conn.execute(insert(outbox), batch)
        with db.connect() as conn:
            assert len(read_queue(conn, 4000, 50).rows) == 50 + 7 * 2 + 23 * 3
            costs.append(_cost(conn))
            conn.rollback()
    assert costs[1] < costs[0] * 1.3, costs


def _predicate(conn: Connection, name: str) -> set[str]:
    """The values an index's condition names, as the database keeps it."""
    if conn.dialect.name == "sqlite":
        sql = conn.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"), {"n": name}
        ).scalar_one()
    else:
        sql = conn.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}
        ).scalar_one()
    return set(re.findall(r"'(\w+)'", sql.split("WHERE", 1)[1]))


def test_the_partial_indexes_hold_the_unfinished_and_the_protective_kinds(db: Engine) -> None:
    """The migrated indexes' conditions name the statuses and the kinds delivery_order reads
    (a kind added to OVERTAKES needs a migration: SQLite then refuses the read, told to use
    an index whose condition it does not write)."""
    with db.connect() as conn:
        assert _predicate(conn, "ix_outbox_unfinished") == {"pending", "sending"}
        assert _predicate(conn, "ix_outbox_unfinished_overtaking") == {"pending", "sending"} | {
            *OVERTAKES
        }
        conn.rollback()


def test_migration_0014_goes_down_and_up_with_a_queue(db: Engine) -> None:
    new = {"ix_outbox_unfinished", "ix_outbox_unfinished_overtaking"}
    with db.begin() as conn:
        queue(conn, rows({"c1": [("send", "pending"), ("kick", "pending")]}, ["c1", "c1"]))
    command.downgrade(alembic_config(db), "0013")
    assert not new & {ix["name"] for ix in inspect(db).get_indexes("outbox")}
    upgrade(db, "0014")
    assert current(db) == "0014"
    assert new <= {ix["name"] for ix in inspect(db).get_indexes("outbox")}
    upgrade(db)
    with db.connect() as conn:
        assert [r.kind for r in read_queue(conn, 10, 5).rows] == ["send", "kick"]
        conn.rollback()
