"""What one read of the deliverer's queue costs with a long backlog, before and after 0014.

    .venv/bin/python bench/outbox_read.py [--backlogs 10000,100000] [--chats 200] [--reads 7]
                                          [--databases sqlite,postgresql] [--analyze] [--seed 1]

The queue: one group with ``--backlogs`` actions queued (a raid's welcomes), and ``--chats``
other groups with 1 to 3 actions each (a third of them protective: mutes and kicks), queued
among the backlog's. Each size is queued in a fresh database at revision 0013, where the
deliverer's read as 7638cee wrote it is timed (its window query, ``WINDOW_QUERY`` in
tests/storage/test_outbox_read.py: every unfinished row ranked in its chat, the queue sorted
at every read; then read_queue's work on what it read). Then the database is upgraded to the
head (0014: the partial indexes) and the read as the deliverer does it now
(``delivery_order.read_queue``: through the indexes) is timed on the same rows. Both with the
deliverer's sizes (50 a chat, 4,000 at most), each the median of ``--reads`` reads after one
not counted; both must take the same rows. The ratio is before / after, measured in the same
run.

SQLite: a WAL file in a temporary directory, without statistics (groupops never runs
ANALYZE). PostgreSQL (on 127.0.0.1:5432, as the tests reach it; skipped when nothing
answers): a database made for the run and dropped after, read as queued (autovacuum may not
have analysed it yet), or after ``VACUUM ANALYZE`` with ``--analyze``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import Connection, Engine, Row, insert, text  # noqa: E402
from tests.storage.test_outbox_read import WINDOW_QUERY  # noqa: E402

from groupops.engine import delivery_order  # noqa: E402
from groupops.storage.db import make_engine  # noqa: E402
from groupops.storage.migrate import upgrade  # noqa: E402
from groupops.storage.pgcheck import PG_ADMIN_URL, reachable  # noqa: E402
from groupops.storage.tables import outbox  # noqa: E402

T0 = datetime(2026, 11, 24, tzinfo=UTC)
BUDGET, PER_CHAT = 4000, 50  # what the deliverer reads: limit 200 x 20, 50 a chat


def queue_rows(backlog: int, chats: int, seed: int) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    small = [
        (f"-{2000 + c}", rnd.choice(("send", "send", "mute", "kick")))
        for c in range(chats)
        for _ in range(rnd.randint(1, 3))
    ]
    at = sorted(rnd.randrange(backlog + 1) for _ in small)  # where each goes in the backlog
    order: list[tuple[str, str]] = []
    for i in range(backlog + 1):
        while at and at[0] == i:
            at.pop(0)
            order.append(small.pop(0))
        if i < backlog:
            order.append(("-1000", "send"))
    return [
        {
            "created_at": T0,
            "source": "telegram:bot",
            "chat_id": chat,
            "kind": kind,
            "payload": {"kind": kind, "text": "welcome", "user_id": "u1", "data": {}},
            "feature": "welcome",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": T0,
            "last_error": "",
        }
        for chat, kind in order
    ]


def timed(
    db: Engine, read: Callable[[Connection], list[int]], reads: int
) -> tuple[float, list[int]]:
    """The median of ``reads`` reads (one before them not counted), in seconds, and what the
    last one took."""
    times: list[float] = []
    taken: list[int] = []
    for i in range(reads + 1):
        with db.connect() as conn:
            start = time.perf_counter()
            taken = read(conn)
            if i:
                times.append(time.perf_counter() - start)
            conn.rollback()
    return statistics.median(times), taken


def windows_7638cee(conn: Connection, k: int, n: int) -> Sequence[Row[Any]]:
    return conn.execute(WINDOW_QUERY, {"k": k, "n": n}).all()


def before(conn: Connection) -> list[int]:
    """read_queue as 7638cee has it: its window query, then the same work on what it read."""
    real = delivery_order._read_windows
    delivery_order._read_windows = windows_7638cee
    try:
        return after(conn)
    finally:
        delivery_order._read_windows = real


def after(conn: Connection) -> list[int]:
    return sorted(int(r.id) for r in delivery_order.read_queue(conn, BUDGET, PER_CHAT).rows)


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    import psycopg

    name = f"groupops_bench_outbox_{random.randrange(10**9)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def analyze(db: Engine) -> None:
    with db.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlogs", default="10000,100000")
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--reads", type=int, default=7)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--analyze", action="store_true", help="PostgreSQL: VACUUM ANALYZE")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"one read: {PER_CHAT} a chat, {BUDGET} at most; median of {args.reads} reads")
    head = ("database", "backlog", "rows", "read", "before", "after")
    print("{:<11} {:>8} {:>8} {:>5} {:>10} {:>10} ratio".format(*head))
    for kind in args.databases.split(","):
        if kind == "postgresql" and not reachable():
            print(f"{kind:<11} skipped: nothing answers at {PG_ADMIN_URL}")
            continue
        for backlog in (int(b) for b in args.backlogs.split(",")):
            with database(kind) as url:
                db = make_engine(url)
                try:
                    upgrade(db, "0013")
                    batch = queue_rows(backlog, args.chats, args.seed)
                    with db.begin() as conn:
                        conn.execute(insert(outbox), batch)
                    if kind == "postgresql" and args.analyze:
                        analyze(db)
                    old, old_ids = timed(db, before, args.reads)
                    upgrade(db)
                    if kind == "postgresql" and args.analyze:
                        analyze(db)
                    new, new_ids = timed(db, after, args.reads)
                finally:
                    db.dispose()
            if old_ids != new_ids:
                raise SystemExit(f"{kind} {backlog}: the two reads took different rows")
            print(
                f"{kind:<11} {backlog:>8,} {len(batch):>8,} {len(new_ids):>5}"
                f" {old * 1000:>8.1f}ms {new * 1000:>8.2f}ms {old / new:5.1f}x"
            )


if __name__ == "__main__":
    main()
