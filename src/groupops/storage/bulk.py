"""Many rows through one statement, at the driver's speed on SQLite.

SQLAlchemy prepares every parameter set of an ``executemany`` with its general machinery,
~7-10 us a row; a batch of a thousand events writes a few thousand rows (ledger, balances,
copies, days ...). :class:`Bulk` compiles the statement once per dialect and, on SQLite, hands
the driver's ``executemany`` the rows as tuples with exactly the bind processors SQLAlchemy
would have applied (UTC timestamps as text, dates, JSON). Other databases go through
SQLAlchemy unchanged. The rows run in the caller's transaction either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Executable

Processor = Callable[[Any], Any] | None
Plan = tuple[str, list[tuple[str, Processor]]]


class Bulk:
    """A statement run with many rows whose keys are the same (the first row's keys)."""

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._compiled: dict[tuple[str, ...], Plan | None] = {}

    def run(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            conn.execute(self.stmt, list(rows))
            return
        keys = tuple(rows[0])
        if keys not in self._compiled:
            self._compiled[keys] = self._plan(conn, keys)
        plan = self._compiled[keys]
        if plan is None:  # a parameter the rows do not carry (a column default): SQLAlchemy's
            conn.execute(self.stmt, list(rows))
            return
        sql, order = plan
        params = [
            tuple(p(row[name]) if p is not None else row[name] for name, p in order) for row in rows
        ]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, params)
        finally:
            cursor.close()

    def _plan(self, conn: Connection, keys: tuple[str, ...]) -> Plan | None:
        compiled: Any = self.stmt.compile(dialect=conn.dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        order = list(compiled.positiontup or [])
        if any(name not in keys for name in order):
            return None
        processors = compiled._bind_processors
        return compiled.string, [(name, processors.get(name)) for name in order]
