"""The accelerated demo: a month of community life in seconds, through the real engine.

Simulated people act on the sandbox platform (join, post, react, press the gate's buttons,
leave) at precise simulated times; each slice of simulated time (four minutes) with something
going on becomes one engine batch (with the clock's TICK when scheduled work may be due), and
the outbox is delivered back to the sandbox, where the people see it: a kicked member is gone,
a muted one waits, a newcomer answers the gate's question.

Everything random comes from one ``random.Random(seed)`` and the engine is deterministic for the
same inputs, so the same seed on a fresh database gives the same month.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from groupops.domain.errors import GroupopsError, InvalidSettings, NotFound
from groupops.domain.events import Event, EventKind
from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.core import TICK_SOURCE
from groupops.i18n import N_
from groupops.platforms.sandbox.platform import SandboxRefused
from groupops.simulator import texts
from groupops.simulator.eyes import Prompt, new_prompts, restrained
from groupops.simulator.people import Person, make_people, owner_of
from groupops.web.chat import ensure_groups

log = logging.getLogger(__name__)

ZONE = ZoneInfo("Asia/Shanghai")
DEFAULT_START = date(2026, 11, 1)
#: the hour of the first simulated morning (local time)
START_HOUR = 6
#: how long the gate gives a newcomer (set below), and how long they wait for its question
GATE_TIMEOUT = 600
GATE_PATIENCE = timedelta(seconds=GATE_TIMEOUT)
#: simulated time is cut in slices: what people do in one slice is one engine batch, and
#: the bot's answers reach them at its end
SLICE = timedelta(minutes=4)
#: the clock ticks at least this often (scheduled work runs on ticks: month-end top 3 ...)
HEARTBEAT = timedelta(minutes=60)
#: after a join the clock also ticks when the combined welcome of a burst is due and when
#: the gate's time for an answer is up
TICKS_AFTER_JOIN = (timedelta(minutes=2), timedelta(seconds=GATE_TIMEOUT + 60))
#: people per day of the local clock: quiet nights, peaks at 9:00, lunch and 21:00
# fmt: off
HOUR_WEIGHTS = (
    0.25, 0.08, 0.03, 0.02, 0.02, 0.05, 0.3, 0.8, 1.2, 1.6, 1.1, 1.0,
    1.4, 1.2, 1.0, 0.8, 0.8, 0.9, 1.0, 1.2, 1.6, 1.9, 1.4, 0.7,
)
# fmt: on

RULES: dict[str, str] = {
    "course": "1. 只聊学习相关内容\n2. 禁止广告和外链\n3. 提问前先搜索，回答请友善",
    "brand": "1. 欢迎分享咖啡体验\n2. 禁止广告、拉群和私下交易\n3. 每天签到领积分",
    "creators": "1. 分享原创作品，尊重版权\n2. 禁止广告和刷屏\n3. 点评请对事不对人",
}


def start_instant(day: date) -> datetime:
    """The demo's first moment: ``START_HOUR`` local time on ``day``, in UTC."""
    return datetime.combine(day, time(START_HOUR), ZONE).astimezone(UTC)


class DemoError(GroupopsError):
    code = "demo_error"


@dataclass(frozen=True)
class DemoOptions:
    days: float = 30.0
    seed: int = 1
    members: int = 300
    start: date = DEFAULT_START
    #: bots that rush into one group at once, a third of the way in (raid mode's business)
    raid_bots: int = 12

    def check(self) -> None:
        if not 0 < self.days <= 366:
            raise InvalidSettings(
                N_("--days {days} must be above 0 and at most 366"), where="demo", days=self.days
            )
        if not 10 <= self.members <= 5000:
            raise InvalidSettings(
                N_("--members {members} must be 10 to 5000"), where="demo", members=self.members
            )


@dataclass(order=True)
class Act:
    at: datetime
    order: int
    kind: str = field(compare=False)
    uid: str = field(compare=False, default="")
    chat: str = field(compare=False, default="")
    text: str = field(compare=False, default="")
    reply_to: str = field(compare=False, default="")
    arg: int = field(compare=False, default=0)


@dataclass
class Seat:
    """One person in one group, as they themselves see it."""

    status: str = "out"  # out gate in gone
    joined_at: datetime | None = None
    muted_until: datetime | None = None
    tries: int = 0


@dataclass
class Progress:
    """Where the month is: passed to the progress callback after every slice."""

    app: App
    now: datetime
    start: datetime
    end: datetime
    slices: int


class Simulation:
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

    def _slice_of(self, when: datetime) -> datetime:
        step = int(SLICE.total_seconds())
        offset = int((when - self.start).total_seconds()) // step * step
        return self.start + timedelta(seconds=offset)

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

    # -- acts ------------------------------------------------------------------------------
    def perform(self, act: Act) -> list[Event]:
        handler = getattr(self, f"_do_{act.kind}")
        try:
            result: list[Event] = handler(act)
        except SandboxRefused:
            self._sync_one(act.uid, act.chat)
            return []
        return result

    def _can_talk(self, uid: str, chat: str) -> bool:
        seat = self.seats.get((uid, chat))
        if seat is None or seat.status != "in":
            return False
        return seat.muted_until is None or seat.muted_until <= self.clock.now()

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

    # talking ------------------------------------------------------------------------------
    def _post(self, uid: str, chat: str, text: str, reply_to: str = "") -> list[Event]:
        if not self._can_talk(uid, chat):
            return []
        event = self.app.sandbox.post(chat, uid, text, reply_to=reply_to)
        return [event]

    def _after_post(self, event: Event, *, question: bool = False, reply: bool = True) -> None:
        """Others may react, reply, or answer a question."""
        chat, now = event.chat_id, event.occurred_at
        present = list(self.present[chat])
        if not present:
            return
        if question:
            helpers = [
                u for u in self.rng.sample(present, min(12, len(present))) if u != event.user_id
            ]
            answered = 0
            for uid in helpers:
                if answered < 2 and self.rng.random() < self.people[uid].helpfulness:
                    answered += 1
                    self.at(
                        now + timedelta(minutes=self.rng.uniform(0.5, 25)),
                        "answer",
                        uid,
                        chat,
                        reply_to=event.message_id,
                    )
            if not answered and self.rng.random() < 0.5:
                self.at(
                    now + timedelta(minutes=self.rng.uniform(2, 40)),
                    "answer",
                    owner_of(chat)[0],
                    chat,
                    reply_to=event.message_id,
                )
        if self.rng.random() < 0.11:
            for _ in range(self.rng.randint(1, 2)):
                uid = self.rng.choice(present)
                if uid != event.user_id:
                    self.at(
                        now + timedelta(minutes=self.rng.uniform(0.5, 90)),
                        "react",
                        uid,
                        chat,
                        reply_to=event.message_id,
                    )
        if reply and self.rng.random() < 0.1:
            uid = self.rng.choice(present)
            if uid != event.user_id:
                self.at(
                    now + timedelta(minutes=self.rng.uniform(0.5, 20)),
                    "reply",
                    uid,
                    chat,
                    reply_to=event.message_id,
                )
        self.recent[chat].append((event.message_id, event.user_id))

    def _do_chat(self, act: Act) -> list[Event]:
        person = self.people[act.uid]
        out = self._post(act.uid, act.chat, texts.chat_line(self.rng, act.chat, person.lang))
        for event in out:
            self._after_post(event)
        return out

    def _do_question(self, act: Act) -> list[Event]:
        person = self.people[act.uid]
        out = self._post(act.uid, act.chat, texts.question(self.rng, act.chat, person.lang))
        for event in out:
            self._after_post(event, question=True)
        return out

    def _do_link(self, act: Act) -> list[Event]:
        person = self.people[act.uid]
        return self._post(act.uid, act.chat, texts.innocent_link(self.rng, person.lang))

    def _do_answer(self, act: Act) -> list[Event]:
        person = self.people.get(act.uid)
        if person is None:  # the owner
            owner = self.app.sandbox.post(
                act.chat, act.uid, texts.answer(self.rng, act.chat, "zh"), reply_to=act.reply_to
            )
            return [owner]
        out = self._post(
            act.uid, act.chat, texts.answer(self.rng, act.chat, person.lang), act.reply_to
        )
        for event in out:
            self._after_post(event, reply=False)
        return out

    def _do_reply(self, act: Act) -> list[Event]:
        person = self.people[act.uid]
        line = texts.chat_line(self.rng, act.chat, person.lang)
        out = self._post(act.uid, act.chat, line, act.reply_to)
        for event in out:
            self._after_post(event, reply=False)
        return out

    def _do_react(self, act: Act) -> list[Event]:
        if not self._can_talk(act.uid, act.chat):
            return []
        emoji = self.rng.choice(texts.REACTIONS)
        try:
            return [self.app.sandbox.react(act.chat, act.uid, act.reply_to, emoji)]
        except NotFound:
            return []

    def _do_checkin(self, act: Act) -> list[Event]:
        person = self.people[act.uid]
        return self._post(act.uid, act.chat, texts.checkin(self.rng, act.chat, person.lang))

    def _do_post(self, act: Act) -> list[Event]:
        return self._post(act.uid, act.chat, act.text, act.reply_to)

    def _do_owner(self, act: Act) -> list[Event]:
        event = self.app.sandbox.post(act.chat, act.uid, texts.owner_post(self.rng, act.chat))
        self._after_post(event, reply=False)
        return [event]

    def _do_ad(self, act: Act) -> list[Event]:
        """An advertiser's round: the same ad in every group they are in, minutes apart."""
        person = self.people[act.uid]
        seat = self.seats.get((act.uid, act.chat))
        if seat is None or seat.status != "in":
            return []
        now = self.clock.now()
        if seat.muted_until is not None and seat.muted_until > now:
            self.at(
                seat.muted_until + timedelta(minutes=self.rng.uniform(5, 120)),
                "ad",
                act.uid,
                act.chat,
            )
            return []
        text = act.text or texts.ad(self.rng, person.lang)
        out = self._post(act.uid, act.chat, text)
        if act.arg == 0:  # the first group of the round: the others follow, then the next round
            for n, chat in enumerate(c for c in person.groups if c != act.chat):
                self.at(
                    now + timedelta(minutes=(n + 1) * self.rng.uniform(1, 3)),
                    "ad",
                    act.uid,
                    chat,
                    text=text,
                    arg=1,
                )
            self.at(now + timedelta(hours=self.rng.uniform(2, 9)), "ad", act.uid, act.chat)
        return out
