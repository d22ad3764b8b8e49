"""What every metric area reads: :class:`Context` (a frame's derived arrays, computed once),
the calendar in the analysis' zone (day numbers, ISO weeks, months, UTC offsets), and how a
message text is quoted in the figures.

Calendar figures (days, weeks, months, the hour x weekday map, the times shown) are in the zone
the analysis runs in (``Context.zone``, UTC by default); durations ("the last 28 days") are
counted back from "now" and need no zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import numpy as np
import numpy.typing as npt

from groupops.analytics.frame import JOINED, LEFT, MESSAGE, Frame
from groupops.domain.text import clip

DAY = 86400
WEEK = 7 * DAY

# a message text quoted in the figures (examples, unanswered questions) is cut to this many
# characters, with an ellipsis: a pasted blob must not be copied whole into the report
QUOTE_CHARS = 200

IntArray = npt.NDArray[np.int64]


def _day(t: IntArray | int) -> Any:
    return np.floor_divide(t, DAY)


def _date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


def _week_start(day: IntArray | int) -> Any:
    """The Monday (as a day number) of each day's ISO week (1970-01-01 was a Thursday)."""
    return day - np.mod(np.asarray(day) + 3, 7)


def _week_label(monday: int) -> str:
    y, w, _ = _date(monday).isocalendar()
    return f"{y}-W{w:02d}"


def _iso(t: int, zone: tzinfo = UTC) -> str:
    return datetime.fromtimestamp(int(t), tz=zone).isoformat()


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` as the figures quote it: at most ``limit`` characters, the last an ellipsis
    when it was cut."""
    return clip(text, limit)


def zone_of(tz: str | tzinfo | None) -> tzinfo:
    """The zone named ``tz`` (a name, a tzinfo, or None for UTC)."""
    if tz is None:
        return UTC
    if isinstance(tz, tzinfo):
        return tz
    from groupops.domain.time import zone

    return UTC if tz.upper() == "UTC" else zone(tz)


def zone_name(z: tzinfo) -> str:
    return "UTC" if z is UTC else str(getattr(z, "key", None) or z.tzname(None) or z)


def utc_offsets(t: IntArray, z: tzinfo) -> IntArray:
    """The zone's offset from UTC (seconds) at each time of ``t``. One look-up per UTC day the
    times fall on (the offset at its start and at the next day's start); only on a day whose
    offset changes (daylight saving) is each time looked up on its own."""
    t = np.asarray(t, dtype=np.int64)
    if z is UTC or t.shape[0] == 0:
        return np.zeros(t.shape, dtype=np.int64)

    def offset(s: int) -> int:
        off = datetime.fromtimestamp(s, tz=z).utcoffset()
        return int(off.total_seconds()) if off is not None else 0

    days, inv = np.unique(np.floor_divide(t, DAY), return_inverse=True)
    inv = inv.reshape(t.shape)
    edges: dict[int, int] = {}
    for d in days.tolist():
        for e in (d, d + 1):
            if e not in edges:
                edges[e] = offset(e * DAY)
    start = np.asarray([edges[d] for d in days.tolist()], dtype=np.int64)
    end = np.asarray([edges[d + 1] for d in days.tolist()], dtype=np.int64)
    out = start[inv]
    changing = np.flatnonzero(start != end)
    if changing.shape[0]:
        rows = np.flatnonzero(np.isin(inv, changing))
        out[rows] = [offset(s) for s in t[rows].tolist()]
    return np.asarray(out, dtype=np.int64)


def _month_key(days: IntArray) -> IntArray:
    """Months since 1970-01 for each day number."""
    d64 = days.astype("datetime64[D]")
    return np.asarray(d64.astype("datetime64[M]").astype(np.int64), dtype=np.int64)


def _month_label(m: int) -> str:
    return f"{1970 + m // 12:04d}-{m % 12 + 1:02d}"


@dataclass(frozen=True, slots=True)
class Earlier:
    """What a frame of a recent window leaves out of the group's history before it: the
    life cycle of a live group read from its last weeks only (``groupops health``: a few
    index steps a group instead of its whole history) is the same as of its whole history
    with these three times (unix seconds; None: nothing of the kind before the window)."""

    first_message: int | None  # the group's first message
    last_message: int | None  # its last message before the window
    born: int | None  # its first message or join


class Context:
    """Shared derived arrays, computed once."""

    def __init__(
        self,
        frame: Frame,
        now: int,
        tz: str | tzinfo | None = None,
        earlier: Earlier | None = None,
    ) -> None:
        self.f = frame
        self.now = now
        self.earlier = earlier
        self.zone = zone_of(tz)
        self.msg = frame.kind == MESSAGE
        self.n_people = len(frame.names)
        self.mt = frame.time[self.msg]
        self.ma = frame.author[self.msg]
        # the messages' times in the zone's wall-clock seconds: their days and hours
        self.mlocal = self.mt + utc_offsets(self.mt, self.zone)
        self.mday = _day(self.mlocal)
        n = self.n_people
        big = np.iinfo(np.int64).max
        self.first_msg = np.full(n, big, dtype=np.int64)
        np.minimum.at(self.first_msg, self.ma, self.mt)
        self.last_msg = np.full(n, -1, dtype=np.int64)
        np.maximum.at(self.last_msg, self.ma, self.mt)
        self.msg_count = np.bincount(self.ma, minlength=n).astype(np.int64)
        joined = frame.kind == JOINED
        self.first_join = np.full(n, big, dtype=np.int64)
        np.minimum.at(self.first_join, frame.author[joined], frame.time[joined])
        left = frame.kind == LEFT
        self.last_left = np.full(n, -1, dtype=np.int64)
        np.maximum.at(self.last_left, frame.author[left], frame.time[left])
        last_join = np.full(n, -1, dtype=np.int64)
        np.maximum.at(last_join, frame.author[joined], frame.time[joined])
        self.joined_at = np.minimum(self.first_join, self.first_msg)
        # bots (posts flagged by the importer) post messages but are no members: the figures
        # that count or rank people read ``pt``/``pa``/``pday``, the messages of people
        self.bot = np.zeros(n, dtype=np.bool_)
        if frame.bots:
            self.bot[np.fromiter(frame.bots, dtype=np.int64, count=len(frame.bots))] = True
            human = ~self.bot[self.ma]
            self.pt, self.pa, self.pday = self.mt[human], self.ma[human], self.mday[human]
        else:
            self.pt, self.pa, self.pday = self.mt, self.ma, self.mday
        seen = (self.joined_at < big) & ~self.bot
        # someone whose latest membership change is a departure (and who said nothing after)
        self.gone = (
            (self.last_left >= 0)
            & (self.last_left >= last_join)
            & (self.last_left >= self.last_msg)
        )
        self.seen = seen
        # authors that are system placeholders (no join, no message) are not members
        self.member = seen & ~self.gone

    def name(self, i: int) -> str:
        return self.f.names[i] if 0 <= i < len(self.f.names) else "?"

    def local_day(self, t: IntArray | int) -> Any:
        """The day number (days since 1970-01-01) of each time of ``t`` in the zone."""
        arr = np.asarray(t, dtype=np.int64)
        return _day(arr + utc_offsets(arr.reshape(-1), self.zone).reshape(arr.shape))

    def iso(self, t: int) -> str:
        """A time as ISO 8601 in the zone (with its offset)."""
        return _iso(t, self.zone)
