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

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.sql import Executable

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._known: dict[K, V] = {}
        self._staged: dict[K, V] = {}
        self._complete: set[int] = set()
        self._complete_staged: set[int] = set()
        #: groups with more rows than the limit allows: read key by key
        self._too_big: set[int] = set()

    def get(self, key: K) -> V | None:
        """The row as this process last wrote or read it (callers change a copy), if held."""
        if key in self._staged:
            return self._staged[key]
        return self._known.get(key)

    def complete(self, group: int) -> bool:
        """Whether every row of ``group`` is held (a key not held has no row)."""
        return group in self._complete or group in self._complete_staged

    def stage(self, key: K, value: V) -> None:
        """What the running batch has read or written for ``key`` (not to be changed after)."""
        self._staged[key] = value

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
        for held in (self._known, self._staged):
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
        self._staged.clear()
        self._complete_staged.clear()


def load_members_of_group(
    kept: Kept[tuple[int, int], V],
    conn: Connection,
    gid: int,
    query: Executable,
    convert: Callable[[Any], V],
) -> None:
    """:meth:`Kept.load_group` for rows keyed by (group, member): ``query`` takes the group as
    ``g`` and the most rows as ``n`` and returns rows with a ``member_id``."""

    def read(n: int) -> list[tuple[tuple[int, int], V]]:
        rows = conn.execute(query, {"g": gid, "n": n}).all()
        return [((gid, int(r.member_id)), convert(r)) for r in rows]

    kept.load_group(gid, read)
