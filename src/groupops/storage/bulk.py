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
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Date
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from groupops.storage.db import driver_cursor
from groupops.storage.types import UTCDateTime, sqlite_text

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
                return sqlite_text(value)
            return process(value)

        return utc_text
    if type(kind) is Date:  # SQLite's DATE in its default storage format

        def date_text(value: Any) -> Any:
            if type(value) is date:
                return value.isoformat()
            return process(value)

        return date_text
    return process


#: a SELECT's or RETURNING's SQL, the parameter names in order, the processors of the
#: parameters and of the result's columns (by position)
OnePlan = tuple[
    str,
    tuple[str, ...],
    list[tuple[int, Callable[[Any], Any]]],
    list[tuple[int, Callable[[Any], Any]]],
]


class One:
    """A statement run very often with one set of parameters (a look-up or an insert per new
    member, join or offence). SQLAlchemy spends ~15-30 us preparing each run and its result; on
    SQLite this compiles the statement once per set of keys and runs it on the driver's own
    cursor, with SQLAlchemy's own processors for the parameters and the result's columns
    (timestamps, dates, booleans, JSON). Rows come back as plain tuples, on every database;
    errors as SQLAlchemy's. Other databases, and a statement the plan cannot take (a
    parameter the caller leaves to a column default, an expanding IN), go through SQLAlchemy."""

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._plans: dict[tuple[str, ...], OnePlan | None] = {}

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return self._run(conn, params, one=False)

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self._run(conn, params, one=True)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row; None without a row."""
        row = self.first(conn, params)
        return row[0] if row is not None else None

    def _run(
        self, conn: Connection, params: Mapping[str, Any], *, one: bool
    ) -> list[tuple[Any, ...]]:
        plan = None
        if conn.dialect.name == "sqlite":
            keys = tuple(params)
            if keys not in self._plans:
                self._plans[keys] = self._plan(conn, keys)
            plan = self._plans[keys]
        if plan is None:
            result = conn.execute(self.stmt, dict(params))
            if not result.returns_rows:
                return []
            if one:
                first = result.first()
                return [tuple(first)] if first is not None else []
            return [tuple(r) for r in result.all()]
        sql, names, processors, results = plan
        values = [params[n] for n in names]
        for i, process in processors:
            values[i] = process(values[i])
        dbapi = conn.dialect.loaded_dbapi
        try:
            with driver_cursor(conn) as cursor:
                cursor.execute(sql, values)
                rows: list[tuple[Any, ...]] = (
                    cursor.fetchall() if cursor.description is not None else []
                )
        except dbapi.Error as exc:
            raise DBAPIError.instance(sql, values, exc, dbapi.Error) from exc
        if one:
            rows = rows[:1]
        if not results:
            return rows
        out = []
        for row in rows:
            converted = list(row)
            for i, process in results:
                converted[i] = process(converted[i])
            out.append(tuple(converted))
        return out

    def _plan(self, conn: Connection, keys: tuple[str, ...]) -> OnePlan | None:
        dialect = conn.dialect
        compiled: Any = self.stmt.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
        names = tuple(compiled.positiontup or ())
        if any(name not in keys for name in names) or any(
            b.expanding for b in compiled.binds.values()
        ):
            return None
        processors = compiled._bind_processors
        needed = [
            (i, _faster(compiled.binds[n].type, processors[n]))
            for i, n in enumerate(names)
            if processors.get(n)
        ]
        results = []
        for i, column in enumerate(compiled._result_columns):
            process = column[3].dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                results.append((i, process))
        return compiled.string, names, needed, results
