"""The accelerated demo: a month of community life in seconds, through the real engine.

Simulated people act on the sandbox platform (join, post, react, press the gate's buttons,
leave) at precise simulated times; each slice of simulated time (four minutes) with something
going on becomes one engine batch (with the clock's TICK when scheduled work may be due), and
the outbox is delivered back to the sandbox, where the people see it: a kicked member is gone,
a muted one waits, a newcomer answers the gate's question.

Everything random comes from one ``random.Random(seed)`` and the engine is deterministic for the
same inputs, so the same seed on a fresh database gives the same month.

The month is put together from :mod:`.model` (its clock, options and records),
:mod:`.population` (the people, their seats, the queue of acts), :mod:`.behaviour` (joining,
the gate, the day's plan) and :mod:`.talk` (what people say); this module sets it up and runs
the slices.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from groupops.domain.events import Event, EventKind
from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.core import TICK_SOURCE
from groupops.simulator.behaviour import Behaviour
from groupops.simulator.eyes import Prompt
from groupops.simulator.model import (
    DEFAULT_START,
    GATE_PATIENCE,
    GATE_TIMEOUT,
    HEARTBEAT,
    HOUR_WEIGHTS,
    RULES,
    SLICE,
    START_HOUR,
    TICKS_AFTER_JOIN,
    ZONE,
    Act,
    DemoError,
    DemoOptions,
    Progress,
    Seat,
    start_instant,
)
from groupops.simulator.people import Person, make_people, owner_of
from groupops.simulator.talk import Talk
from groupops.web.chat import ensure_groups

__all__ = [
    "DEFAULT_START",
    "GATE_PATIENCE",
    "GATE_TIMEOUT",
    "HEARTBEAT",
    "HOUR_WEIGHTS",
    "RULES",
    "SLICE",
    "START_HOUR",
    "TICKS_AFTER_JOIN",
    "ZONE",
    "Act",
    "DemoError",
    "DemoOptions",
    "Progress",
    "Seat",
    "Simulation",
    "start_instant",
]

log = logging.getLogger(__name__)


class Simulation(Behaviour, Talk):
    """A simulated month on one App (with a ManualClock) and its sandbox groups."""

    def __init__(
        self,
        app: App,
        options: DemoOptions,
        chats: list[tuple[str, str]],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        if not isinstance(app.clock, ManualClock):
            raise DemoError("the accelerated demo needs an App with a ManualClock", where="demo")
        options.check()
        self.app = app
        self.clock: ManualClock = app.clock
        self.options = options
        self.chats = chats
        self.chat_ids = [c for c, _ in chats]
        self.rng = random.Random(options.seed)
        self.start = start_instant(options.start)
        self.end = self.start + timedelta(days=options.days)
        self.on_progress = on_progress
        self.queue: list[Act] = []
        self._order = itertools.count()
        self.people: dict[str, Person] = {}
        self.seats: dict[tuple[str, str], Seat] = {}
        self.present: dict[str, dict[str, None]] = {c: {} for c in self.chat_ids}
        self.recent: dict[str, deque[tuple[str, str]]] = {
            c: deque(maxlen=25) for c in self.chat_ids
        }
        self.prompts_seen: dict[str, int] = {c: 0 for c in self.chat_ids}
        self.prompts: dict[tuple[str, str], Prompt] = {}
        self.tick_slices: list[datetime] = []  # a heap of slices that end with a tick
        self.slices = 0
        #: actions queued and not yet seen delivered (throttled ones go out later)
        self.owed = 0
        self.gate_on = "gate" in app.registry.by_name

    # -- set-up ----------------------------------------------------------------------------
    def setup(self) -> None:
        app = self.app
        self.clock.set(self.start - timedelta(minutes=30))
        ensure_groups(app.sandbox, tuple(self.chats))
        owners = [app.sandbox.join(c, *owner_of(c), is_admin=True) for c in self.chat_ids]
        app.handle(owners)
        for chat_id in self.chat_ids:
            ref = f"{app.sandbox.source}:{chat_id}"
            self._set(ref, "welcome", "rules", RULES.get(chat_id, RULES["course"]))
            self._set(ref, "gate", "enabled", True)
            # newcomers get ten minutes to answer: longer than a slice plus a slow reader
            self._set(ref, "gate", "timeout_seconds", GATE_TIMEOUT)
        app.engine.directory.invalidate()
        people = make_people(self.rng, self.options.members, self.chat_ids, self.options.days)
        for person in people:
            self.people[person.uid] = person
            for n, chat in enumerate(person.groups):
                when = self.start + timedelta(
                    days=person.join_day, minutes=n * self.rng.uniform(1, 40)
                )
                if person.kind != "bot" and when >= self.start + timedelta(hours=6):
                    # outside the launch, people join when people are awake
                    when = self.random_time(self.local_day_start(when)) or when
                    when = max(when, self.start)
                self.at(when, "join", person.uid, chat)
                if person.stays_days is not None:
                    self.at(when + timedelta(days=person.stays_days), "leave", person.uid, chat)
        self._plan_raid()
        day = self.local_day_start(self.start)
        while day < self.end:
            self.at(max(day, self.start), "day")
            day += timedelta(days=1)

    def _set(self, ref: str, feature: str, key: str, value: Any) -> None:
        if feature in self.app.registry.by_name:
            settings_admin.set_setting(
                self.app.db, self.app.registry, feature=feature, key=key, value=value, group_ref=ref
            )

    def _plan_raid(self) -> None:
        if self.options.raid_bots <= 0:
            return
        chat = self.chat_ids[-1]
        when = self.start + timedelta(days=self.options.days / 3, minutes=self.rng.randint(0, 50))
        base = len(self.people)
        for n in range(self.options.raid_bots):
            prefix = self.rng.choice(("Promo", "Airdrop", "Earn", "VIP", "福利"))
            name = f"{prefix}_{self.rng.randint(100, 999)}_{n}"
            person = Person(
                f"sim{base + n:04d}", name, "en", "bot", [chat], 0.0, 0.0, 0.0, 0.0, None
            )
            self.people[person.uid] = person
            self.at(when + timedelta(seconds=n * self.rng.uniform(2, 5)), "join", person.uid, chat)

    # -- the main loop ---------------------------------------------------------------------
    async def run(self) -> None:
        """Slice simulated time: each slice with something going on is one engine batch (with
        the clock's tick when one is due), then the outbox goes out to the sandbox."""
        self.setup()
        at = self.start
        next_beat = self.start
        while True:
            candidates = [next_beat]
            if self.queue:
                candidates.append(self._slice_of(self.queue[0].at))
            while self.tick_slices and self.tick_slices[0] < at:
                heapq.heappop(self.tick_slices)
            if self.tick_slices:
                candidates.append(self.tick_slices[0])
            at = max(min(candidates), at)
            if at >= self.end:
                break
            slice_end = at + SLICE
            events: list[Event] = []
            while self.queue and self.queue[0].at < slice_end:
                act = heapq.heappop(self.queue)
                self.clock.set(max(act.at, self.clock.now()))
                events.extend(self.perform(act))
            self.clock.set(slice_end)
            heartbeat = at >= next_beat
            if heartbeat:
                next_beat = self._slice_of(at + HEARTBEAT)
            tick = heartbeat or bool(self.tick_slices and self.tick_slices[0] == at)
            await self._commit(events, slice_end if tick else None, heartbeat)
            at = slice_end
            if self.on_progress is not None:
                self.on_progress(
                    Progress(self.app, self.clock.now(), self.start, self.end, self.slices)
                )
        self.clock.set(max(self.end, self.clock.now()))
        await self._commit([], self.end.replace(second=0, microsecond=0), True)

    async def _commit(self, events: list[Event], tick_at: datetime | None, deliver: bool) -> None:
        if tick_at is not None:
            events = [
                *events,
                Event(TICK_SOURCE, f"tick:{tick_at.isoformat()}", EventKind.TICK, tick_at),
            ]
        if not events:
            return
        self.slices += 1
        result = self.app.handle(events)
        self.owed += result.actions
        if result.actions or (deliver and self.owed):
            delivered = await self.app.deliver()
            self.owed = max(0, self.owed - delivered)
            if delivered:
                self._sync_all()
