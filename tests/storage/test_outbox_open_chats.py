"""engine.outbox.open_chats, read at every live batch, goes through the partial index on the
unfinished actions (ix_outbox_unfinished, migration 0014) on SQLite and PostgreSQL, and
finds what the plain ``SELECT DISTINCT`` found: the chats with an action pending or being
sent, or None once OPEN_SCAN_LIMIT of them wait."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, insert, text

from groupops.engine import outbox as engine_outbox
from groupops.engine.outbox import OPEN_SCAN_LIMIT, open_chats
from groupops.storage.tables import outbox
from tests.conftest import T0

STATUSES = ["pending", "sending", "delivered", "dead", "rerouted"]
#: the query open_chats was (what it must still find)
DISTINCT = text(
    "SELECT DISTINCT source, chat_id FROM outbox WHERE status IN ('pending', 'sending')"
)


def row(source: str, chat: str, status: str) -> dict[str, Any]:
    return {
        "created_at": T0,
        "source": source,
        "chat_id": chat,
        "kind": "send",
        "payload": {"kind": "send"},
        "status": status,
        "attempts": 0,
        "next_attempt_at": T0,
    }


def queue(db: Engine, rows: list[dict[str, Any]]) -> None:
    with db.begin() as conn:
        conn.execute(delete(outbox))
        conn.execute(insert(outbox), rows)


def plan(conn: Connection) -> list[str]:
    """How the database reads the outbox in open_chats' query: one line a table access."""
    if conn.dialect.name == "sqlite":
        lines = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + engine_outbox._SQLITE_OPEN_CHATS).all()
        return [str(r[3]) for r in lines if re.search(r"\b(SCAN|SEARCH) (x|outbox)\b", str(r[3]))]
    # run (ANALYZE): a plain EXPLAIN leaves out some of the recursive steps' subplans
    sql = "EXPLAIN (ANALYZE, COSTS OFF) " + str(engine_outbox._OPEN_CHATS)
    lines = conn.execute(text(sql)).all()
    return [str(r[0]) for r in lines if re.search(r"\bon outbox\b", str(r[0]))]


def test_open_chats_reads_the_partial_index_of_unfinished_actions(db: Engine) -> None:
    """Every read of the outbox in the query goes through ix_outbox_unfinished (the plain
    DISTINCT took the status index and sorted every unfinished row on SQLite; on PostgreSQL a
    bound status list cannot use a partial index at all)."""
    rows = [row(f"s{i % 3}", f"c{i % 40}", STATUSES[i % 5]) for i in range(2_000)]
    queue(db, rows)
    with db.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE outbox"))
        accesses = plan(conn)
        # the first source, the next ones, a source's first chat, its next ones
        assert len(accesses) == 4, accesses
        assert all("ix_outbox_unfinished" in line for line in accesses), accesses
        conn.rollback()


@pytest.mark.parametrize("seed", range(8))
def test_open_chats_finds_what_the_distinct_query_found(db: Engine, seed: int) -> None:
    """Random queues over a few sources: the same chats, every one of them."""
    rnd = random.Random(seed)
    sources = [f"telegram:bot{n}" for n in range(rnd.randint(1, 4))]
    rows = [
        row(rnd.choice(sources), str(-1000 - rnd.randint(0, 60)), rnd.choice(STATUSES))
        for _ in range(rnd.randint(0, 400))
    ]
    queue(db, rows)
    with db.connect() as conn:
        want = {(str(s), str(c)) for s, c in conn.execute(DISTINCT)}
        assert open_chats(conn) == want
        conn.rollback()


@pytest.mark.parametrize(
    ("waiting", "found"), [(OPEN_SCAN_LIMIT - 1, True), (OPEN_SCAN_LIMIT, False)]
)
def test_open_chats_gives_up_at_the_scan_limit(db: Engine, waiting: int, found: bool) -> None:
    """OPEN_SCAN_LIMIT chats waiting, over two sources: None, as before; one fewer: all of
    them."""
    rows = [row(f"s{n % 2}", f"c{n}", "pending") for n in range(waiting)]
    rows += [row("s0", f"d{n}", "delivered") for n in range(50)]
    queue(db, rows)
    with db.connect() as conn:
        chats = open_chats(conn)
        if found:
            assert chats == {(f"s{n % 2}", f"c{n}") for n in range(waiting)}
        else:
            assert chats is None
        conn.rollback()
