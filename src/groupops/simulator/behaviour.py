"""What the simulated people do, apart from talking: each act in the queue is done by its
``_do_<kind>`` method; a day is planned for everyone present (how chatty, check-ins, floods);
newcomers join, meet the gate (press its buttons, or not), arrive, and leave."""

from __future__ import annotations

import heapq
import math
from datetime import datetime, timedelta

from groupops.domain.events import Event
from groupops.platforms.sandbox.platform import SandboxRefused
from groupops.simulator import texts
from groupops.simulator.eyes import new_prompts
from groupops.simulator.model import GATE_PATIENCE, TICKS_AFTER_JOIN, ZONE, Act, Seat
from groupops.simulator.people import Person, owner_of
from groupops.simulator.population import Population


class Behaviour(Population):
    """The acts of joining, the gate, arriving and leaving, and the day's plan (part of
    :class:`~groupops.simulator.world.Simulation`)."""

    # -- acts ------------------------------------------------------------------------------
    def perform(self, act: Act) -> list[Event]:
        handler = getattr(self, f"_do_{act.kind}")
        try:
            result: list[Event] = handler(act)
        except SandboxRefused:
            self._sync_one(act.uid, act.chat)
            return []
        return result

    def _do_day(self, act: Act) -> list[Event]:
        """Plan the local day that starts now: everyone present gets their day."""
        day_start = self.local_day_start(self.clock.now())
        for chat in self.chat_ids:
            owner_uid, _ = owner_of(chat)
            self.at(
                day_start + timedelta(hours=9, minutes=self.rng.randint(0, 5)),
                "owner",
                owner_uid,
                chat,
            )
            if self.rng.random() < 0.5:
                self.at(
                    day_start + timedelta(hours=20, minutes=self.rng.randint(0, 30)),
                    "owner",
                    owner_uid,
                    chat,
                )
            for uid in list(self.present[chat]):
                self._plan_day(uid, chat, day_start, None)
        return []

    def _engagement(self, person: Person, seat: Seat, when: datetime) -> float:
        joined = seat.joined_at or when
        age = (when - joined).total_seconds() / 86400
        novelty = 1.0 + 0.7 * math.exp(-age / 3)
        drift = 1.0
        if person.stays_days:
            drift = max(0.25, 1.0 - 0.7 * min(1.0, age / person.stays_days))
        weekend = when.astimezone(ZONE).weekday() >= 5
        return novelty * drift * (1.1 if weekend else 1.0)

    def _poisson(self, mean: float) -> int:
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def _plan_day(self, uid: str, chat: str, day_start: datetime, after: datetime | None) -> None:
        person = self.people[uid]
        seat = self.seats[(uid, chat)]
        eng = self._engagement(person, seat, day_start + timedelta(hours=12))
        share = 0.75 if chat == person.groups[0] else 0.35
        if person.kind == "spammer":
            return  # they plan their own business
        for _ in range(self._poisson(person.chattiness * eng * share)):
            when = self.random_time(day_start, after)
            if when is not None:
                roll = self.rng.random()
                kind = "question" if roll < 0.12 else "link" if roll < 0.125 else "chat"
                self.at(when, kind, uid, chat)
        if person.checkin_habit and self.rng.random() < person.checkin_habit * min(1.0, eng):
            morning = self.rng.random() < 0.65
            hour = self.rng.uniform(6.5, 10) if morning else self.rng.uniform(19, 23.5)
            when = day_start + timedelta(hours=hour)
            if after is None or when > after:
                self.at(when, "checkin", uid, chat)
                if self.rng.random() < 0.04:  # forgot they did
                    self.at(when + timedelta(hours=self.rng.uniform(1, 8)), "checkin", uid, chat)
                if self.rng.random() < 0.05:
                    self.at(
                        when + timedelta(minutes=self.rng.uniform(1, 30)),
                        "post",
                        uid,
                        chat,
                        text="签到排行",
                    )
        if person.flood_prone and self.rng.random() < 0.05 * eng:
            when = self.random_time(day_start, after)
            if when is not None:
                count = self.rng.randint(6, 8)
                for n, line in enumerate(texts.flood(self.rng, person.lang, count)):
                    self.at(
                        when + timedelta(seconds=n * self.rng.uniform(0.6, 1.4)),
                        "post",
                        uid,
                        chat,
                        text=line,
                    )

    # joining, the gate, arriving --------------------------------------------------------
    def _do_join(self, act: Act) -> list[Event]:
        person = self.people[act.uid]
        seat = self.seats.setdefault((act.uid, act.chat), Seat())
        if seat.status in ("in", "gate") or (seat.status == "gone" and seat.tries >= 3):
            return []
        seat.tries += 1
        try:
            event = self.app.sandbox.join(act.chat, act.uid, person.name)
        except SandboxRefused:
            seat.status = "gone"  # banned
            return []
        seat.status = "gate" if self.gate_on else "in"
        seat.joined_at = event.occurred_at
        seat.muted_until = None
        for delay in TICKS_AFTER_JOIN:
            heapq.heappush(self.tick_slices, self._slice_of(event.occurred_at + delay))
        now = event.occurred_at
        if not self.gate_on:
            self._arrived(act.uid, act.chat)
        elif person.kind == "bot":
            if self.rng.random() < 0.35:  # a bot that clicks blindly
                self.at(
                    now + timedelta(seconds=self.rng.uniform(70, 120)),
                    "press",
                    act.uid,
                    act.chat,
                    arg=-1,
                )
                self.at(
                    now + timedelta(seconds=self.rng.uniform(130, 200)),
                    "press",
                    act.uid,
                    act.chat,
                    arg=-1,
                )
        elif self.rng.random() < 0.97:  # most people answer; a few never look at their phone
            wrong_first = self.rng.random() < 0.08
            first = now + timedelta(seconds=self.rng.uniform(65, 170))
            if wrong_first:
                self.at(first, "press", act.uid, act.chat, arg=-1)
                first += timedelta(seconds=self.rng.uniform(15, 60))
            self.at(first, "press", act.uid, act.chat, arg=1)
        return [event]

    def _read_prompts(self, chat: str) -> None:
        """Look at the bot's new messages with buttons in the chat (a person reads them)."""
        found = new_prompts(self.app.db, self.app.sandbox.source, chat, self.prompts_seen[chat])
        for prompt in found:
            self.prompts_seen[chat] = max(self.prompts_seen[chat], int(prompt.message_id))
            for uid in self._gated(chat):
                if prompt.addressed_to(self.people[uid].name):
                    self.prompts[(uid, chat)] = prompt

    def _gated(self, chat: str) -> list[str]:
        return [uid for (uid, c), seat in self.seats.items() if c == chat and seat.status == "gate"]

    def _do_press(self, act: Act) -> list[Event]:
        seat = self.seats.get((act.uid, act.chat))
        if seat is None or seat.status != "gate":
            return []
        if (act.uid, act.chat) not in self.prompts:
            self._read_prompts(act.chat)
        prompt = self.prompts.get((act.uid, act.chat))
        if prompt is None:
            self._sync_one(act.uid, act.chat)  # removed meanwhile (a raid lock-out)?
            seat = self.seats[(act.uid, act.chat)]
            waited = self.clock.now() - (seat.joined_at or self.clock.now())
            if seat.status == "gate" and waited < GATE_PATIENCE:  # not there yet: look again
                later = self.clock.now() + timedelta(seconds=self.rng.uniform(30, 60))
                self.at(later, "press", act.uid, act.chat, arg=act.arg)
            elif seat.status == "gate" and act.arg > 0:
                self._arrived(act.uid, act.chat)  # no question came: this group has no gate
            return []
        choice = prompt.choose(self.rng, right=act.arg > 0)
        event = self.app.sandbox.press(act.chat, act.uid, prompt.message_id, choice)
        if prompt.is_right(choice):
            self.prompts.pop((act.uid, act.chat), None)
            self.at(
                self.clock.now() + timedelta(seconds=self.rng.uniform(70, 150)),
                "arrive",
                act.uid,
                act.chat,
            )
        return [event]

    def _do_arrive(self, act: Act) -> list[Event]:
        seat = self.seats.get((act.uid, act.chat))
        if seat is None or seat.status != "gate":
            return []
        self._sync_one(act.uid, act.chat)
        if seat.status == "gate":
            self._arrived(act.uid, act.chat)
        return []

    def _arrived(self, uid: str, chat: str) -> None:
        """Through the gate: the person is in the group and starts their life there."""
        seat = self.seats[(uid, chat)]
        seat.status = "in"
        self.present[chat][uid] = None
        person = self.people[uid]
        now = self.clock.now()
        if person.kind == "spammer":
            if chat == person.groups[0]:  # one round of ads at a time, from the home group
                self.at(now + timedelta(hours=self.rng.uniform(2, 40)), "ad", uid, chat)
            return
        if person.kind == "regular" and self.rng.random() < 0.6:
            self.at(
                now + timedelta(seconds=self.rng.uniform(40, 600)),
                "post",
                uid,
                chat,
                text=texts.intro(self.rng, person.lang, person.name),
            )
        self._plan_day(uid, chat, self.local_day_start(now), now)

    def _do_leave(self, act: Act) -> list[Event]:
        seat = self.seats.get((act.uid, act.chat))
        if seat is None or seat.status != "in":
            return []
        seat.status = "gone"
        self.present[act.chat].pop(act.uid, None)
        return [self.app.sandbox.leave(act.chat, act.uid)]
