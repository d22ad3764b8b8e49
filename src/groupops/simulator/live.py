"""Live mode: the demo community lives on in real time beside a running App.

``groupops serve --demo`` runs :func:`run_live` as a companion of the live App (real clock, its
loops already started). Every few seconds a simulated person does something in one of the
sandbox groups: talks, asks or answers, reacts, checks in, joins (and answers the join gate's
question when the group has one), now and then advertises or leaves. Each act goes through the
sandbox platform and is handed to the App with ``app.submit``; the people see the bot's actions
on the platform (a kicked member is gone, a muted one waits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select

from groupops.domain.errors import GroupopsError
from groupops.domain.events import Event
from groupops.domain.time import local_day
from groupops.engine import settings_admin, settings_read
from groupops.engine.app import App
from groupops.platforms.sandbox.platform import SandboxRefused
from groupops.platforms.sandbox.tables import sandbox_members
from groupops.simulator import texts
from groupops.simulator.eyes import Prompt, last_message_id, new_prompts, restrained
from groupops.simulator.model import RULES
from groupops.simulator.people import Person, make_people, owner_of
from groupops.web.chat import DEMO_GROUPS

log = logging.getLogger(__name__)

T = TypeVar("T")

#: user ids of the live community start with this (the accelerated demo's are "sim…")
PREFIX = "live"
#: seconds between two acts on average, at pace 1
MEAN_GAP = 3.0
#: a group with fewer people present than this gets newcomers quickly
WARM = 8
#: the welcome feature's burst window where a group's settings cannot be read yet (seconds)
BURST_WINDOW = 60.0
#: two joins of the demo in one group (the owner's, a newcomer's, an advertiser's) are at least
#: the group's welcome burst window and this much apart (seconds, at pace 1): the demo alone
#: never has two joins in one window, so a person who joins from the web chat makes no burst
#: with them (welcome's default: 3 joins) and is welcomed at once, on their own; the margin
#: covers newcomers the join gate lets in a little sooner or later than they joined
JOIN_MARGIN = 15.0
#: how long a newcomer looks for the gate's question before deciding there is none (seconds)
GATE_LOOK = 20.0


@dataclass
class LiveSeat:
    status: str = "out"  # out gate in gone
    since: datetime | None = None
    muted_until: datetime | None = None
    checked_in: date | None = None


class LiveCommunity:
    def __init__(self, app: App, *, seed: int, pace: float, people: int) -> None:
        self.app = app
        self.rng = random.Random(seed)
        self.pace = max(0.001, pace)
        known = [str(c["chat_id"]) for c in app.sandbox.chats()]
        demo = [c for c, _ in DEMO_GROUPS if c in known]
        self.chats = demo or known
        self.people: dict[str, Person] = {}
        for person in make_people(self.rng, people, self.chats or ["course"], 30.0):
            person.uid = PREFIX + person.uid.removeprefix("sim")
            self.people[person.uid] = person
        self.seats: dict[tuple[str, str], LiveSeat] = {}
        self.present: dict[str, list[str]] = {c: [] for c in self.chats}
        self.recent: dict[str, deque[tuple[str, str, bool]]] = {
            c: deque(maxlen=20) for c in self.chats
        }
        self.seen: dict[str, int] = {}
        self.gated: dict[str, bool] = {}
        self.prompts: dict[tuple[str, str], Prompt] = {}
        #: when the demo's last join in each group was
        self.last_join: dict[str, datetime] = {}
        #: each group's welcome burst window (seconds; read with the gate's setting)
        self.window: dict[str, float] = {}
        self.steps = 0
        #: groups whose rules are settled (the demo's given, or the operator's own kept)
        self.ruled: set[str] = set()

    # -- helpers ---------------------------------------------------------------------------
    async def _io(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Platform and database calls run in a worker thread: the App's loops keep going."""
        return await asyncio.to_thread(fn, *args, **kw)

    def _submit(self, event: Event | None) -> None:
        if event is not None:
            self.app.submit(event)

    def _seat(self, uid: str, chat: str) -> LiveSeat:
        return self.seats.setdefault((uid, chat), LiveSeat())

    def _now(self) -> datetime:
        return self.app.clock.now()

    def _can_talk(self, uid: str, chat: str) -> bool:
        seat = self.seats.get((uid, chat))
        if seat is None or seat.status != "in":
            return False
        return seat.muted_until is None or seat.muted_until <= self._now()

    def _talkers(self, chat: str) -> list[str]:
        return [u for u in self.present[chat] if self._can_talk(u, chat)]

    # -- start -----------------------------------------------------------------------------
    def _resume(self) -> None:
        """People of an earlier run who are still in a group carry on there."""
        m = sandbox_members.c
        with self.app.db.connect() as conn:
            rows = conn.execute(
                select(m.chat_id, m.user_id, m.status, m.muted_until).where(
                    m.source == self.app.sandbox.source, m.user_id.startswith(PREFIX)
                )
            ).all()
            conn.rollback()
        for row in rows:
            if row.user_id not in self.people or row.chat_id not in self.present:
                continue
            seat = self._seat(row.user_id, row.chat_id)
            if row.status == "active":
                seat.status = "in"
                seat.muted_until = row.muted_until
                self.present[row.chat_id].append(row.user_id)
            else:
                seat.status = "gone"

    def _look(self, chat: str) -> tuple[bool, float]:
        """Whether the group has the join gate on, and its welcome burst window."""
        try:
            settings = settings_read.effective_settings(
                self.app.db, self.app.registry, f"{self.app.sandbox.source}:{chat}"
            )
        except (GroupopsError, ValueError):
            # not seen by the engine yet (default settings: no gate), or settings that no
            # longer validate (the engine reports those itself)
            return False, BURST_WINDOW
        gate = "gate" in self.app.registry.by_name and settings.get("gate", {}).get("enabled")
        window = settings.get("welcome", {}).get("burst_window_seconds", BURST_WINDOW)
        return bool(gate), float(window)

    async def _refresh(self, chat: str) -> None:
        self.gated[chat], self.window[chat] = await self._io(self._look, chat)

    def _give_rules(self, chat: str) -> bool:
        """The demo group's rules, as ``groupops demo`` gives them, unless the operator set
        rules (for the group or the workspace, even empty ones): pushed to every newcomer.
        False while the engine has not seen the group yet."""
        if "welcome" not in self.app.registry.by_name:
            return True
        ref = f"{self.app.sandbox.source}:{chat}"
        try:
            view = settings_read.settings_view(self.app.db, self.app.registry, ref)
            defaults = settings_read.workspace_view(self.app.db, self.app.registry, view.workspace)
        except (GroupopsError, ValueError):
            return False
        if "rules" in view.own.get("welcome", {}) or "rules" in defaults.own.get("welcome", {}):
            return True
        settings_admin.set_setting(
            self.app.db,
            self.app.registry,
            feature="welcome",
            key="rules",
            value=RULES.get(chat, RULES["course"]),
            group_ref=ref,
        )
        return True

    async def start(self) -> None:
        await self._io(self._resume)
        for chat in self.chats:
            self.seen[chat] = await self._io(
                last_message_id, self.app.db, self.app.sandbox.source, chat
            )
            uid, name = owner_of(chat)
            status = await self._io(self.app.sandbox.member_status, chat, uid)
            if status is None or status["status"] != "active":
                event = await self._io(self.app.sandbox.join, chat, uid, name, is_admin=True)
                self.last_join[chat] = event.occurred_at  # newcomers wait their turn after it
                self._submit(event)
            await self._refresh(chat)

    # -- one step --------------------------------------------------------------------------
    async def step(self) -> None:
        self.steps += 1
        if self.steps % 15 == 0:
            await self._sync()
        if self.steps % 40 == 0:
            for chat in self.chats:
                await self._refresh(chat)
        await self._answer_gates()
        for chat in self.chats:
            if chat not in self.ruled and await self._io(self._give_rules, chat):
                self.ruled.add(chat)
        if not self.chats:
            return
        # a group with few people fills up first, as fast as joins may come (see JOIN_MARGIN)
        cold = [c for c in self.chats if len(self.present[c]) < WARM and self._may_join(c)]
        if cold and self.rng.random() < 0.7:
            await self._join(min(cold, key=lambda c: len(self.present[c])))
            return
        chat = self.rng.choice(self.chats)
        roll = self.rng.random()
        if roll < 0.55:
            await self._talk(chat)
        elif roll < 0.63:
            await self._ask(chat)
        elif roll < 0.71:
            await self._answer(chat)
        elif roll < 0.79:
            await self._react(chat)
        elif roll < 0.87:
            await self._checkin(chat)
        elif roll < 0.93:
            await self._join(chat)
        elif roll < 0.95:
            await self._owner(chat)
        elif roll < 0.97:
            await self._leave(chat)
        else:
            await self._advertise(chat)

    async def _post(self, uid: str, chat: str, text: str, reply_to: str = "") -> Event | None:
        if not self._can_talk(uid, chat):
            return None
        try:
            event = await self._io(self.app.sandbox.post, chat, uid, text, reply_to=reply_to)
        except SandboxRefused:
            await self._sync()
            return None
        self.app.submit(event)
        return event

    async def _pick(self, chat: str) -> str | None:
        talkers = [u for u in self._talkers(chat) if self.people[u].kind in ("regular", "lurker")]
        if not talkers:
            return None
        weights = [self.people[u].chattiness + 0.05 for u in talkers]
        return self.rng.choices(talkers, weights=weights)[0]

    async def _talk(self, chat: str) -> None:
        uid = await self._pick(chat)
        if uid is None:
            return
        person = self.people[uid]
        reply_to = ""
        recent = [r for r in self.recent[chat] if r[1] != uid]
        if recent and self.rng.random() < 0.15:
            reply_to = self.rng.choice(recent)[0]
        event = await self._post(uid, chat, texts.chat_line(self.rng, chat, person.lang), reply_to)
        if event is not None:
            self.recent[chat].append((event.message_id, uid, False))

    async def _ask(self, chat: str) -> None:
        uid = await self._pick(chat)
        if uid is None:
            return
        event = await self._post(uid, chat, texts.question(self.rng, chat, self.people[uid].lang))
        if event is not None:
            self.recent[chat].append((event.message_id, uid, True))

    async def _answer(self, chat: str) -> None:
        questions = [r for r in self.recent[chat] if r[2]]
        uid = await self._pick(chat)
        if not questions or uid is None:
            return
        message_id, asker, _ = questions[-1]
        if asker == uid:
            return
        line = texts.answer(self.rng, chat, self.people[uid].lang)
        event = await self._post(uid, chat, line, reply_to=message_id)
        if event is not None:
            self.recent[chat].append((event.message_id, uid, False))

    async def _react(self, chat: str) -> None:
        uid = await self._pick(chat)
        recent = [r for r in self.recent[chat] if r[1] != uid]
        if uid is None or not recent:
            return
        message_id = self.rng.choice(recent)[0]
        emoji = self.rng.choice(texts.REACTIONS)
        try:
            event = await self._io(self.app.sandbox.react, chat, uid, message_id, emoji)
        except GroupopsError:
            return
        self.app.submit(event)

    async def _checkin(self, chat: str) -> None:
        today = local_day(self._now(), "Asia/Shanghai")
        candidates = [
            u
            for u in self._talkers(chat)
            if self.people[u].checkin_habit > 0 and self._seat(u, chat).checked_in != today
        ]
        if not candidates:
            return
        uid = self.rng.choice(candidates)
        self._seat(uid, chat).checked_in = today
        await self._post(uid, chat, texts.checkin(self.rng, chat, self.people[uid].lang))

    async def _owner(self, chat: str) -> None:
        uid, _ = owner_of(chat)
        try:
            event = await self._io(
                self.app.sandbox.post, chat, uid, texts.owner_post(self.rng, chat)
            )
        except SandboxRefused:
            return
        self.app.submit(event)

    async def _leave(self, chat: str) -> None:
        stayers = [u for u in self.present[chat] if self.people[u].stays_days is not None]
        if len(self.present[chat]) <= WARM or not stayers:
            return
        uid = self.rng.choice(stayers)
        self._gone(uid, chat)
        try:
            self._submit(await self._io(self.app.sandbox.leave, chat, uid))
        except SandboxRefused:
            return

    async def _advertise(self, chat: str) -> None:
        spammers = [u for u in self._talkers(chat) if self.people[u].kind == "spammer"]
        if not spammers:
            await self._join(chat, kind="spammer")
            return
        uid = self.rng.choice(spammers)
        await self._post(uid, chat, texts.ad(self.rng, self.people[uid].lang))

    # joining and the gate ------------------------------------------------------------------
    async def _join(self, chat: str, kind: str | None = None) -> None:
        outside = [
            p.uid
            for p in self.people.values()
            if chat in p.groups
            and self._seat(p.uid, chat).status == "out"
            and (kind is None or p.kind == kind)
        ]
        if not outside or not self._may_join(chat):
            return  # an advertiser waits its turn too
        uid = self.rng.choice(outside)
        seat = self._seat(uid, chat)
        try:
            event = await self._io(self.app.sandbox.join, chat, uid, self.people[uid].name)
        except SandboxRefused:
            seat.status = "gone"
            return
        seat.since = event.occurred_at
        self.last_join[chat] = event.occurred_at
        if self.gated.get(chat) or self.people[uid].kind == "bot":
            seat.status = "gate"
        else:
            self._arrive(uid, chat)
        self.app.submit(event)

    def warming(self) -> bool:
        """Some group still has few people in it (at the start): acts come faster."""
        return any(len(self.present[c]) < WARM for c in self.chats)

    def pause(self) -> float:
        """Seconds to wait before the next step."""
        if self.warming():
            return self.rng.uniform(0.4, 1.2) * self.pace
        return min(12.0, max(0.2, self.rng.expovariate(1 / MEAN_GAP))) * self.pace

    def _may_join(self, chat: str) -> bool:
        """Whether the demo's last join in the group is far enough back (see JOIN_MARGIN)."""
        last = self.last_join.get(chat)
        if last is None:
            return True
        gap = (self.window.get(chat, BURST_WINDOW) + JOIN_MARGIN) * self.pace
        return (self._now() - last).total_seconds() > gap

    def _arrive(self, uid: str, chat: str) -> None:
        seat = self._seat(uid, chat)
        seat.status = "in"
        if uid not in self.present[chat]:
            self.present[chat].append(uid)

    def _gone(self, uid: str, chat: str) -> None:
        self._seat(uid, chat).status = "gone"
        self.prompts.pop((uid, chat), None)
        if uid in self.present[chat]:
            self.present[chat].remove(uid)

    async def _answer_gates(self) -> None:
        waiting = [(u, c) for (u, c), s in self.seats.items() if s.status == "gate"]
        if not waiting:
            return
        now = self._now()
        for chat in sorted({c for _, c in waiting}):
            found = await self._io(
                new_prompts, self.app.db, self.app.sandbox.source, chat, self.seen[chat]
            )
            for seen in found:
                self.seen[chat] = max(self.seen[chat], int(seen.message_id))
                for uid, c in waiting:
                    if c == chat and seen.addressed_to(self.people[uid].name):
                        self.prompts[(uid, chat)] = seen
        for uid, chat in waiting:
            seat = self.seats[(uid, chat)]
            person = self.people[uid]
            prompt = self.prompts.get((uid, chat))
            waited = (now - (seat.since or now)).total_seconds()
            if prompt is None:
                if waited > GATE_LOOK:
                    # no question came: no gate here (or it removed a silent bot)
                    if person.kind == "bot":
                        self._gone(uid, chat)
                    else:
                        self._arrive(uid, chat)
                continue
            if person.kind == "bot" or waited < 2.0 * self.pace:
                continue  # bots never answer; people take a moment to read
            choice = prompt.choose(self.rng, right=self.rng.random() < 0.95)
            try:
                event = await self._io(self.app.sandbox.press, chat, uid, prompt.message_id, choice)
            except GroupopsError:
                continue
            self.app.submit(event)
            if prompt.is_right(choice):
                self.prompts.pop((uid, chat), None)
                self._arrive(uid, chat)
                # the unmute comes with the bot's next delivery
                seat.muted_until = now + timedelta(seconds=0.5)

    async def _sync(self) -> None:
        rows = await self._io(restrained, self.app.db, self.app.sandbox.source, self._now(), PREFIX)
        muted: set[tuple[str, str]] = set()
        for row in rows:
            seat = self.seats.get((row.user_id, row.chat_id))
            if seat is None or row.chat_id not in self.present:
                continue
            if row.status != "active":
                if seat.status in ("in", "gate"):
                    self._gone(row.user_id, row.chat_id)
            elif seat.status == "in":
                seat.muted_until = row.muted_until
                muted.add((row.user_id, row.chat_id))
        for key, seat in self.seats.items():
            if seat.muted_until is not None and key not in muted:
                seat.muted_until = None  # unmuted meanwhile (the gate let them in)


async def run_live(
    app: App, *, seed: int = 1, stop: asyncio.Event, pace: float = 1.0, people: int = 150
) -> None:
    """Keep the demo community alive in real time until ``stop`` is set.

    ``app`` is a live App whose loops already run (``groupops serve`` started them): this only
    acts on the sandbox platform and hands the events to ``app.submit``. ``pace`` scales the
    gaps between acts (0.1: ten times as busy); ``people`` is the size of the cast.
    """
    community = LiveCommunity(app, seed=seed, pace=pace, people=people)
    await community.start()
    while not stop.is_set():
        try:
            await community.step()
        except asyncio.CancelledError:
            raise
        except Exception:  # one failed act must not end the demo
            log.exception("demo: a simulated act failed; the community goes on")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=community.pause())
