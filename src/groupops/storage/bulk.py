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
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Date
from sqlalchemy.sql import Executable

from groupops.storage.db import driver_cursor
from groupops.storage.types import UTCDateTime

Getter = Callable[[Mapping[str, Any]], Any]
#: the SQL, a getter of a row's values in the statement's order, the processors by position
Plan = tuple[str, Getter, list[tuple[int, Callable[[Any], Any]]]]


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
        sql, get, processors = plan
        params: list[Any]
        if processors:
            params = []
            for row in rows:
                values = list(get(row))
                for i, process in processors:
                    values[i] = process(values[i])
                params.append(values)
        else:
            params = [get(row) for row in rows]
        with driver_cursor(conn) as cursor:
            cursor.executemany(sql, params)

    def _plan(self, conn: Connection, keys: tuple[str, ...]) -> Plan | None:
        compiled: Any = self.stmt.compile(dialect=conn.dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        names = tuple(compiled.positiontup or ())
        if any(name not in keys for name in names):
            return None
        processors = compiled._bind_processors
        # one C-level getter for the values in the statement's order; only the values that
        # need it (timestamps, dates, JSON) go through their processor
        get: Getter = (
            itemgetter(*names) if len(names) > 1 else lambda row: tuple(row[n] for n in names)
        )
        needed = [
            (i, _faster(compiled.binds[n].type, processors[n]))
            for i, n in enumerate(names)
            if processors.get(n)
        ]
        return compiled.string, get, needed


def _faster(kind: Any, process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` (SQLAlchemy's processor for a value of type ``kind`` on SQLite), with the
    common values done directly: a tz-aware ``datetime`` of a UTCDateTime and a plain ``date``
    of a Date, to the very text SQLAlchemy writes (~4 us a timestamp through its TypeDecorator
    and storage format, most of a ledger row's cost). Anything else (None, a naive datetime,
    a wrong type) goes to ``process`` itself: the same value, or the same error."""
    if isinstance(kind, UTCDateTime):

        def utc_text(value: Any) -> Any:
            if type(value) is datetime and value.tzinfo is not None:
                return (
                    value.astimezone(UTC)
                    .replace(tzinfo=None)
                    .isoformat(sep=" ", timespec="microseconds")
                )
            return process(value)

        return utc_text
    if type(kind) is Date:  # SQLite's DATE in its default storage format

        def date_text(value: Any) -> Any:
            if type(value) is date:
                return value.isoformat()
            return process(value)

        return date_text
    return process
