"""Moderation's memory between batches (flood windows, notices posted), following the
transaction like features/kept.py does for points and check-in.

A batch changes copies of the deques it touches; they replace the kept ones only when the
engine commits the batch (``committed``). A batch rolled back and handed again (event by event,
on PostgreSQL with new seqs) then counts its messages and notices once, not twice, and a
finding it rolled back does not empty a window. Within a batch, a ``handle()`` that raises is
forgotten too (``call_failed``): the engine runs it again event by event in the same
transaction, and those runs must not count what the failed one counted.

Kept deques are in the order of their latest change (a changed one moves to the end), so the
tick finds the stale ones at the front.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class StagedDeques(Generic[K, T]):
    def __init__(self) -> None:
        #: what committed batches left (read-only while a batch runs, but for drop/forget)
        self.known: dict[K, deque[T]] = {}
        #: what the running transaction's finished handle() calls changed
        self._batch: dict[K, deque[T]] = {}
        #: what the running handle() call changed
        self._call: dict[K, deque[T]] = {}

    def change(self, key: K) -> deque[T]:
        """The deque of ``key`` for the running handle() to change (a copy of the kept one,
        empty if none), moved to the end."""
        held = self._call.pop(key, None)
        if held is None:
            before = self._batch.get(key)
            if before is None:
                before = self.known.get(key)
            held = deque(before) if before is not None else deque()
        self._call[key] = held
        return held

    def get(self, key: K) -> deque[T] | None:
        """The deque of ``key`` as the running handle() sees it (not to be changed)."""
        for held in (self._call, self._batch, self.known):
            found = held.get(key)
            if found is not None:
                return found
        return None

    def __iter__(self) -> Iterator[K]:
        """The kept keys (those of committed batches)."""
        return iter(self.known)

    # -- the handle() call and the transaction ---------------------------------------------
    def call_done(self) -> None:
        for key, held in self._call.items():
            self._batch.pop(key, None)
            self._batch[key] = held
        self._call.clear()

    def call_failed(self) -> None:
        self._call.clear()

    def committed(self) -> None:
        self.call_done()
        for key, held in self._batch.items():
            self.known.pop(key, None)
            self.known[key] = held
        self._batch.clear()

    def rolled_back(self) -> None:
        self._call.clear()
        self._batch.clear()

    # -- dropping --------------------------------------------------------------------------
    def drop_stale(self, stale: Callable[[deque[T]], bool]) -> None:
        """Forget the kept deques at the front (oldest change first) for which ``stale`` holds,
        up to the first that is not."""
        gone = []
        for key, held in self.known.items():
            if not stale(held):
                break
            gone.append(key)
        for key in gone:
            del self.known[key]

    def forget(self, match: Callable[[K], bool]) -> None:
        """Drop every deque whose key matches, kept or staged."""
        for held in (self.known, self._batch, self._call):
            for key in [k for k in held if match(k)]:
                del held[key]
