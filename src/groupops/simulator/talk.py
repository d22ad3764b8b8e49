"""What the simulated people say: chat lines, questions and their answers, replies,
reactions, check-ins, the owner's posts and the advertisers' rounds, each followed by what
others may do about it."""

from __future__ import annotations

from datetime import timedelta

from groupops.domain.errors import NotFound
from groupops.domain.events import Event
from groupops.simulator import texts
from groupops.simulator.model import Act
from groupops.simulator.people import owner_of
from groupops.simulator.population import Population


class Talk(Population):
    """The acts of talking (part of :class:`~groupops.simulator.world.Simulation`)."""

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
