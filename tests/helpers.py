"""Waiting in tests: on a condition with a deadline, never for a fixed time.

A fixed sleep is too short on a busy machine and wasted time on an idle one, and a sleep
followed by "nothing happened" passes whenever the thing is merely late. Wait for what must
happen with :func:`until` (inside an event loop) or :func:`wait_until` (in a plain test); for
what must *not* happen, wait for the round of the loop that would have done it, then assert.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: how often a condition is asked again (seconds)
EVERY = 0.02


def _timed_out(what: str, timeout: float) -> AssertionError:
    return AssertionError(f"timed out after {timeout:g}s waiting for {what}")


async def until(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Return as soon as ``predicate()`` is true, letting the event loop run in between;
    AssertionError naming ``what`` (or the predicate) after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise _timed_out(what or repr(predicate), timeout)
        await asyncio.sleep(EVERY)


def wait_until(predicate: Callable[[], T], timeout: float = 20.0, what: str = "") -> T:
    """:func:`until` for a test without an event loop of its own (the loops run in another
    thread, as under FastAPI's TestClient, or in another process); returns what ``predicate``
    last gave, the first true value."""
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        if time.monotonic() > deadline:
            raise _timed_out(what or repr(predicate), timeout)
        time.sleep(EVERY)
    return found
