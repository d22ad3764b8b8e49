"""Rows a feature keeps in memory across batches, to read them from storage only once.

Storage is always written (write-through): memory only saves reads. What a batch reads or
writes is staged, and kept for the next batches once the engine has committed the batch
(``committed``); a rolled back batch's staged rows are dropped (``rolled_back``). A group
read whole (``load_group``) is complete: a key of it that memory does not hold has no row.

This relies on the process being the only one writing these rows for its groups (one
``groupops serve`` per workspace's groups, docs/operations.md). At most ``limit`` rows are
kept; past it memory starts again empty.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from sqlalchemy import Connection, Table, bindparam, select

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R", bound="DataclassInstance")


class Kept(Generic[K, V]):
    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._known: dict[K, V] = {}
        self._staged: dict[K, V] = {}
        self._complete: set[int] = set()
        self._complete_staged: set[int] = set()
        #: groups with more rows than the limit allows: read key by key
        self._too_big: set[int] = set()
        #: what the running handle() call noted (see :meth:`note`)
        self._call: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        """The row as this process last wrote or read it (callers change a copy), if held."""
        if self._call and key in self._call:
            return self._call[key]
        if key in self._staged:
            return self._staged[key]
        return self._known.get(key)

    def complete(self, group: int) -> bool:
        """Whether every row of ``group`` is held (a key not held has no row)."""
        return group in self._complete or group in self._complete_staged

    def stage(self, key: K, value: V) -> None:
        """What the running batch has read or written for ``key`` (not to be changed after)."""
        self._staged[key] = value

    # -- one handle() call's rows: staged only when the call ends well ---------------------
    def begin_call(self) -> None:
        """A feature's ``handle()`` call starts: what a call that raised noted is dropped (the
        engine runs that call's events again one by one)."""
        self._call.clear()

    def note(self, key: K, value: V) -> None:
        """What the running ``handle()`` call decided for ``key``: :meth:`get` answers it at
        once, :meth:`end_call` stages it."""
        self._call[key] = value

    def end_call(self) -> None:
        """The ``handle()`` call ended well: what it noted is staged with its batch."""
        self._staged.update(self._call)
        self._call.clear()

    def load_group(self, group: int, read: Callable[[int], Sequence[tuple[K, V]]]) -> None:
        """Read a group's rows at once the first time (``read(n)``: at most n rows), if they
        fit; they are kept with the running batch's (read inside its transaction)."""
        if self.complete(group) or group in self._too_big:
            return
        room = self.limit - len(self._known) - len(self._staged)
        rows = read(max(room, 0) + 1)
        if len(rows) > room:
            self._too_big.add(group)
            return
        for key, value in rows:
            self._staged.setdefault(key, value)
        self._complete_staged.add(group)

    def forget(self, match: Callable[[K], bool]) -> None:
        """Drop the rows whose key matches (their rows were deleted)."""
        for held in (self._known, self._staged, self._call):
            for key in [k for k in held if match(k)]:
                del held[key]

    def committed(self) -> None:
        if len(self._known) + len(self._staged) > self.limit:
            self._known.clear()
            self._complete.clear()
            self._complete_staged.clear()
        self._known.update(self._staged)
        self._staged.clear()
        self._complete |= self._complete_staged
        self._complete_staged.clear()

    def rolled_back(self) -> None:
        self._call.clear()
        self._staged.clear()
        self._complete_staged.clear()


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def _copy(row: R) -> R:
    """``dataclasses.replace(row)`` (a copy made through ``__init__``), with the class's init
    fields looked up once instead of at every copy (a kept row per paid event)."""
    cls = type(row)
    names = _INIT_FIELDS.get(cls)
    if names is None:
        names = _INIT_FIELDS[cls] = tuple(f.name for f in fields(row) if f.init)
    return cls(**{name: getattr(row, name) for name in names})


class KeptRows(Generic[R]):
    """A member's row in a feature's table keyed by (``group_id``, ``member_id``) (points'
    balances, check-in summaries), kept between batches (:class:`Kept`): a batch takes the rows
    of its members from memory, and reads only those memory cannot answer, in one query per
    ``CHUNK`` members. Each group is read whole the first time it is seen, if it fits; then a
    member memory does not hold has no row.

    ``convert`` turns a stored row into the feature's row (a dataclass: callers get a copy to
    change). What a batch wrote is handed back with :meth:`stage`; it is kept once the batch
    commits."""

    CHUNK: ClassVar[int] = 500

    def __init__(self, table: Table, convert: Callable[[Any], R], limit: int = 200_000) -> None:
        self.kept: Kept[tuple[int, int], R] = Kept(limit)
        self._convert = convert
        c = table.c
        self._group = select(table).where(c.group_id == bindparam("g")).limit(bindparam("n"))
        self._one = select(table).where(c.group_id == bindparam("g"), c.member_id == bindparam("m"))
        #: the chunk's groups and members at once (a member of two of them brings a row more)
        self._many = select(table).where(
            c.group_id.in_(bindparam("gids", expanding=True)),
            c.member_id.in_(bindparam("mids", expanding=True)),
        )

    def load_group(self, conn: Connection, gid: int) -> None:
        """Every row of the group, the first time (see :meth:`Kept.load_group`)."""

        def read(n: int) -> list[tuple[tuple[int, int], R]]:
            rows = conn.execute(self._group, {"g": gid, "n": n}).all()
            return [((gid, int(r.member_id)), self._convert(r)) for r in rows]

        self.kept.load_group(gid, read)

    def remembered(self, conn: Connection, key: tuple[int, int]) -> tuple[bool, R | None]:
        """(True, a copy to change) when memory holds the row; (True, None) when it holds the
        whole group and the member has no row; (False, None) when the row must be read."""
        self.load_group(conn, key[0])
        row = self.kept.get(key)
        if row is not None:
            return True, _copy(row)
        return self.kept.complete(key[0]), None

    def read(
        self, conn: Connection, keys: Iterable[tuple[int, int]]
    ) -> dict[tuple[int, int], R | None]:
        """The rows of ``keys`` (None: no row), from memory or read ``CHUNK`` members a query."""
        found: dict[tuple[int, int], R | None] = {}
        wanted = []
        for key in keys:
            known, row = self.remembered(conn, key)
            if known:
                found[key] = row
            else:
                wanted.append(key)
        if not wanted:
            return found
        gids = sorted({g for g, _ in wanted})
        mids = sorted({m for _, m in wanted})
        rows: dict[tuple[int, int], Any] = {}
        for start in range(0, len(mids), self.CHUNK):
            params = {"gids": gids, "mids": mids[start : start + self.CHUNK]}
            for got in conn.execute(self._many, params):
                rows[(int(got.group_id), int(got.member_id))] = got
        for key in wanted:
            stored = rows.get(key)
            found[key] = None if stored is None else self._convert(stored)
        return found

    def read_one(self, conn: Connection, key: tuple[int, int]) -> R | None:
        """The row of ``key`` (None: no row), from memory or read."""
        known, row = self.remembered(conn, key)
        if known:
            return row
        stored = conn.execute(self._one, {"g": key[0], "m": key[1]}).first()
        return None if stored is None else self._convert(stored)

    def stage(self, key: tuple[int, int], row: R) -> None:
        """What the running batch wrote for ``key`` (not to be changed after)."""
        self.kept.stage(key, row)

    def forget_member(self, member_id: int) -> None:
        self.kept.forget(lambda key: key[1] == member_id)

    def committed(self) -> None:
        self.kept.committed()

    def rolled_back(self) -> None:
        self.kept.rolled_back()
