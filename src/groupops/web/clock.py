"""The movable clock of ``groupops serve --movable-clock``: real time plus an offset that only
grows, so an operator trying the sandbox can let an hour, a day or a month pass and see what
the bot does then (a second day's check-in, a streak, the month's top 3, a gate time-out).

It keeps running between moves, as real time does: message cooldowns and flood windows behave
as they would. It never goes back, not even if the machine's own clock does.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from groupops.engine.clock import Clock, RealClock

#: how far the page's buttons move it
STEPS = ("hour", "day", "month")


class MovableClock:
    def __init__(self, real: Clock | None = None) -> None:
        self._real = real or RealClock()
        self._offset = timedelta(0)
        self._last: datetime | None = None
        self._lock = threading.Lock()

    @property
    def offset(self) -> timedelta:
        """How far ahead of real time it is."""
        return self._offset

    def now(self) -> datetime:
        with self._lock:
            now = self._real.now() + self._offset
            if self._last is not None and now < self._last:
                now = self._last
            self._last = now
            return now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (more than nothing); the new time."""
        if delta <= timedelta(0):
            raise ValueError(f"the clock only moves forward, not by {delta}")
        with self._lock:
            self._offset += delta
        return self.now()


def step_target(now: datetime, step: str, zone: str) -> datetime:
    """Where ``step`` takes the clock from ``now``: an hour or a day later, or the start of the
    next month in ``zone`` (the group whose month it is)."""
    if step == "hour":
        return now + timedelta(hours=1)
    if step == "day":
        return now + timedelta(days=1)
    if step != "month":
        raise ValueError(f"unknown step {step!r}")
    local = now.astimezone(ZoneInfo(zone))
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=ZoneInfo(zone))
