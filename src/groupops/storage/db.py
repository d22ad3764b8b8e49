"""Database engine: SQLite (WAL) by default, PostgreSQL through GROUPOPS_DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool

DEFAULT_URL = "sqlite:///var/groupops.db"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("GROUPOPS_DATABASE_URL") or DEFAULT_URL


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, poolclass=NullPool if path == ":memory:" else None)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy drive transactions (BEGIN issued below), not pysqlite.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # take the write lock at once: no deadlock between two writers upgrading
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


@contextmanager
def driver_cursor(conn: Connection) -> Iterator[Any]:
    """A cursor of the database driver itself, inside ``conn``'s open transaction: for the few
    hot statements where SQLAlchemy's per-statement work costs more than the statement
    (SQLite's bulk inserts, savepoints). Closed at the end of the block."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    finally:
        cursor.close()
