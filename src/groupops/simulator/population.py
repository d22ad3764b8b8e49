"""The simulated world's people and where they stand: the queue of acts to come (and the
helpers that schedule them in the local day), each person's seat in each group, and what they
see of moderation (who the platform now says is removed or muted)."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from datetime import UTC, datetime, time, timedelta
from typing import Any

from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.simulator.eyes import Prompt, restrained
from groupops.simulator.model import HOUR_WEIGHTS, SLICE, ZONE, Act, DemoOptions, Seat
from groupops.simulator.people import Person


class Population:
    """The state of :class:`~groupops.simulator.world.Simulation` (set up in its
    ``__init__``) and what every behaviour needs of it."""

    app: App
    clock: ManualClock
    options: DemoOptions
    chats: list[tuple[str, str]]
    chat_ids: list[str]
    rng: random.Random
    start: datetime
    end: datetime
    queue: list[Act]
    _order: itertools.count[int]
    people: dict[str, Person]
    seats: dict[tuple[str, str], Seat]
    present: dict[str, dict[str, None]]
    recent: dict[str, deque[tuple[str, str]]]
    prompts_seen: dict[str, int]
    prompts: dict[tuple[str, str], Prompt]
    tick_slices: list[datetime]
    gate_on: bool

    # -- scheduling ------------------------------------------------------------------------
    def at(self, when: datetime, kind: str, uid: str = "", chat: str = "", **kw: Any) -> None:
        if when < self.end:
            heapq.heappush(self.queue, Act(when, next(self._order), kind, uid, chat, **kw))

    def local_day_start(self, when: datetime) -> datetime:
        local = when.astimezone(ZONE)
        return datetime.combine(local.date(), time(0), ZONE).astimezone(UTC)

    def random_time(self, day_start: datetime, after: datetime | None = None) -> datetime | None:
        """A moment of the local day that starts at ``day_start``, weighted by the hour."""
        hour = self.rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        when = day_start + timedelta(hours=hour, seconds=self.rng.uniform(0, 3600))
        if after is not None and when <= after:
            return None
        return when

    def _slice_of(self, when: datetime) -> datetime:
        step = int(SLICE.total_seconds())
        offset = int((when - self.start).total_seconds()) // step * step
        return self.start + timedelta(seconds=offset)

    # -- what the people see of moderation ---------------------------------------------------
    def _sync_all(self) -> None:
        """Read who the platform now says is removed or muted (the bot's actions landed)."""
        muted: set[tuple[str, str]] = set()
        for row in restrained(self.app.db, self.app.sandbox.source, self.clock.now()):
            seat = self.seats.get((row.user_id, row.chat_id))
            if seat is None:
                continue
            if row.status != "active":
                if seat.status in ("in", "gate"):
                    self._gone(row.user_id, row.chat_id, row.status)
            elif seat.status == "in":
                seat.muted_until = row.muted_until
                muted.add((row.user_id, row.chat_id))
        for key, seat in self.seats.items():
            if seat.muted_until is not None and key not in muted:
                seat.muted_until = None  # the mute ended or was lifted

    def _gone(self, uid: str, chat: str, why: str) -> None:
        seat = self.seats.setdefault((uid, chat), Seat())
        person = self.people.get(uid)
        was_gated = seat.status == "gate"
        seat.status = "gone"
        self.present[chat].pop(uid, None)
        # a real person removed by the raid lock-out may try again later
        if (
            person is not None
            and person.kind in ("regular", "lurker")
            and was_gated
            and why == "kicked"
            and seat.tries < 2
            and self.rng.random() < 0.5
        ):
            self.at(self.clock.now() + timedelta(hours=self.rng.uniform(1, 4)), "join", uid, chat)

    def _sync_one(self, uid: str, chat: str) -> None:
        status = self.app.sandbox.member_status(chat, uid)
        if status is None or status["status"] != "active":
            self._gone(uid, chat, str(status["status"]) if status else "left")
            return
        seat = self.seats.setdefault((uid, chat), Seat())
        seat.muted_until = status["muted_until"]

    def _can_talk(self, uid: str, chat: str) -> bool:
        seat = self.seats.get((uid, chat))
        if seat is None or seat.status != "in":
            return False
        return seat.muted_until is None or seat.muted_until <= self.clock.now()
