"""The join gate: a newcomer is muted until they answer a captcha or the operator's quiz
question; their messages are removed until then; on failure or time-out they are removed, and
banned after repeated failures. When joins spike, raid mode closes the group to new joins for a
while. Passing derives ``member_admitted``, which the welcome feature greets.

Platforms with buttons get the answers as buttons (and the newcomer is muted meanwhile);
platforms without them (Matrix) get numbered answers typed in the chat, so there is no mute
and every other message of the newcomer is removed until they answer.

A member who joins and leaves over and over without answering cannot make the bot flood the
group with its question: joining again within ``rejoin_quiet_minutes`` of a join they left
unanswered holds them as before but posts nothing (the question already in the group answers
it), and leaving unanswered again within ``rejoin_window_hours`` of the last time is a failed
gate, banned at ``ban_after_failures``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Connection, delete, func, insert, select, update

from groupops.domain.actions import ADDRESSES, Action, ActionKind
from groupops.domain.events import Event, EventKind
from groupops.engine import bot
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.base import tick_settings
from groupops.features.gate import reasons
from groupops.features.gate.settings import GateSettings
from groupops.features.gate.tables import gate_challenges, gate_failures, gate_raids
from groupops.i18n import N_
from groupops.storage.tables import events

PROMPT = N_(
    "👋 {name}, welcome! To make sure you are a real person, please answer within "
    "{time}:\n{question}"
)
#: how long a newcomer has, as the question says it: exactly timeout_seconds
WITHIN = (
    (3600, N_("1 hour"), N_("{n} hours")),
    (60, N_("1 minute"), N_("{n} minutes")),
    (1, N_("1 second"), N_("{n} seconds")),
)
PROMPT_TYPED = N_("Reply with the number of your answer:")
CAPTCHA = N_("How much is {a} + {b}?")
WRONG = N_("Not quite, {name}. You have {left} more try.")
RAID_ON = N_(
    "🚨 Many people are joining at once: the group is closed to new members for {minutes} minutes."
)
RAID_OFF = N_("✅ The group is open to new members again.")
BUTTON_PREFIX = "gate:"
#: the mute outlasts the deadline by this much: the clock ticks once a minute, so the newcomer
#: is removed before the mute could end and let them talk (docs/features/gate.md says so)
MUTE_MARGIN = timedelta(minutes=2)


def _fmt(t: Callable[[str], str], msgid: str, **values: Any) -> str:
    return t(msgid).format(**values)


class GateFeature:
    name: ClassVar[str] = "gate"
    order: ClassVar[int] = 15  # after moderation's blacklist (10), before welcome (20)
    settings_model: ClassVar[type[GateSettings]] = GateSettings
    handles: ClassVar[frozenset[EventKind]] = (
        frozenset(
            {
                EventKind.MEMBER_JOINED,
                EventKind.JOIN_REQUEST,
                EventKind.MESSAGE,
                EventKind.BUTTON,
                EventKind.MEMBER_LEFT,
                EventKind.MEMBER_KICKED,
                EventKind.TICK,
            }
        )
        # the bot back in a group (the events that can say so): its held newcomers get
        # their time again (_bot_back)
        | bot.SAYS_BACK
    )

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for back, cause in bot.back_in(ctx, batch).values():
            self._bot_back(ctx, back, cause)  # before any answer of the batch is judged
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                self._tick(ctx, item.event.occurred_at)
                continue
            group = item.group
            if group is None or item.member_id is None:
                continue
            s = ctx.settings(self, group, GateSettings)
            if kind == EventKind.MEMBER_JOINED:
                self._joined(ctx, item, group, s)
            elif kind == EventKind.JOIN_REQUEST:
                self._requested(ctx, item, group, s)
            elif kind == EventKind.MESSAGE:
                self._message(ctx, item, group, s)
            elif kind == EventKind.BUTTON:
                self._button(ctx, item, group, s)
            elif kind in (EventKind.MEMBER_LEFT, EventKind.MEMBER_KICKED):
                self._gone(ctx, item, group, s)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        conn.execute(delete(gate_challenges).where(gate_challenges.c.member_id == member_id))
        conn.execute(delete(gate_failures).where(gate_failures.c.member_id == member_id))

    # -- raids -------------------------------------------------------------------------------
    def _raid_active(self, ctx: BatchContext, group: GroupInfo, when: datetime) -> bool:
        until = ctx.conn.execute(
            select(gate_raids.c.until).where(gate_raids.c.group_id == group.id)
        ).scalar()
        return until is not None and until > when

    def _raid_starts(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: GateSettings
    ) -> bool:
        """Whether this join makes the joins of the last window a raid (and start it)."""
        when = item.event.occurred_at
        joins = ctx.conn.execute(
            select(func.count())
            .select_from(events)
            .where(
                events.c.group_id == group.id,
                events.c.kind == EventKind.MEMBER_JOINED.value,
                events.c.occurred_at > when - timedelta(seconds=s.raid_window_seconds),
                events.c.occurred_at <= when,
                events.c.seq <= item.seq,
            )
        ).scalar_one()
        if joins < s.raid_joins:
            return False
        until = when + timedelta(minutes=s.raid_close_minutes)
        ctx.conn.execute(delete(gate_raids).where(gate_raids.c.group_id == group.id))
        ctx.conn.execute(
            insert(gate_raids).values(group_id=group.id, started_at=when, until=until, refused=0)
        )
        t = ctx.gettext(group)
        text = _fmt(t, RAID_ON, minutes=s.raid_close_minutes)
        ctx.emit(Action(ActionKind.SEND, group.source, group.chat_id, text=text), item)
        return True

    def _refuse(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, kind: ActionKind
    ) -> None:
        event = item.event
        ctx.emit(
            Action(kind, event.source, event.chat_id, user_id=event.user_id, reason=reasons.RAID),
            item,
        )
        if kind == ActionKind.KICK:  # a join request declined made nobody a member
            ctx.derive_removed(
                group, event.user_id, f"gate:raid:{item.seq}", {"rule": "gate", "reason": "raid"}
            )
        ctx.conn.execute(
            update(gate_raids)
            .where(gate_raids.c.group_id == group.id)
            .values(refused=gate_raids.c.refused + 1)
        )
        ctx.suppress(item)

    # -- joins -------------------------------------------------------------------------------
    def _requested(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: GateSettings
    ) -> None:
        if s.raid_mode and self._raid_active(ctx, group, item.event.occurred_at):
            self._refuse(ctx, item, group, ActionKind.DECLINE_JOIN)
            return
        event = item.event
        ctx.emit(
            Action(
                ActionKind.APPROVE_JOIN,
                event.source,
                event.chat_id,
                user_id=event.user_id,
                reason=reasons.AFTER_JOINING,
            ),
            item,
        )

    def _joined(self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: GateSettings) -> None:
        if item.is_admin:
            return
        assert item.member_id is not None
        event = item.event
        when = event.occurred_at
        if s.raid_mode and (
            self._raid_active(ctx, group, when) or self._raid_starts(ctx, item, group, s)
        ):
            self._refuse(ctx, item, group, ActionKind.KICK)
            return
        self._close_pending(ctx, group.id, item.member_id, "left", when)
        before = self._previous(ctx, group.id, item.member_id)
        quiet = (
            before is not None
            and before.status == "left"
            and timedelta(0) <= when - before.started_at < timedelta(minutes=s.rejoin_quiet_minutes)
        )
        if quiet:  # the question they left is still in the group: it answers this join too
            question, options, answer = str(before.question), list(before.options), before.answer
        else:
            question, options, answer = self._question(ctx.gettext(group), s, event)
        deadline = when + timedelta(seconds=s.timeout_seconds)
        cid = ctx.conn.execute(
            insert(gate_challenges)
            .values(
                group_id=group.id,
                member_id=item.member_id,
                user_id=event.user_id,
                user_name=event.user_name or event.user_id,
                question=question,
                options=options,
                answer=answer,
                attempts=0,
                status="pending",
                started_at=when,
                deadline=deadline,
            )
            .returning(gate_challenges.c.id)
        ).scalar_one()
        if quiet:
            self._hold(ctx, group, item, event.user_id, deadline)
        else:
            name = event.user_name or event.user_id
            self._ask(ctx, group, s, item, cid, event.user_id, name, question, options, deadline)
        ctx.suppress(item)  # welcome greets them once they pass (member_admitted)

    def _ask(
        self,
        ctx: BatchContext,
        group: GroupInfo,
        s: GateSettings,
        cause: Incoming,
        cid: int,
        user_id: str,
        name: str,
        question: str,
        options: Sequence[str],
        deadline: datetime,
    ) -> None:
        """Put challenge ``cid``'s question to the newcomer, who has ``timeout_seconds`` (until
        ``deadline``): as buttons, muted until a little after the deadline, where the platform
        has them; numbered in the chat otherwise (a quiz)."""
        t = ctx.gettext(group)
        within = _within(t, s.timeout_seconds)
        text = _fmt(t, PROMPT, name=name, time=within, question=question)
        caps = ctx.capabilities(group.source)
        data: dict[str, Any] = {}
        if caps.buttons:
            data["buttons"] = [
                [{"text": o, "data": f"{BUTTON_PREFIX}{cid}:{i}"}]
                for i, o in enumerate(options, start=1)
            ]
            self._hold(ctx, group, cause, user_id, deadline)
        elif s.mode == "quiz":
            numbered = "\n".join(f"{i}. {o}" for i, o in enumerate(options, start=1))
            text += f"\n{t(PROMPT_TYPED)}\n{numbered}"
        data[ADDRESSES] = user_id  # its time-out's kick never goes before it
        ctx.emit(Action(ActionKind.SEND, group.source, group.chat_id, text=text, data=data), cause)

    @staticmethod
    def _hold(
        ctx: BatchContext, group: GroupInfo, cause: Incoming, user_id: str, deadline: datetime
    ) -> None:
        """Mute the newcomer until a little after ``deadline`` where the platform asks with
        buttons and can mute (elsewhere they type their answer: their other messages are
        removed instead, see :meth:`_message`)."""
        caps = ctx.capabilities(group.source)
        if caps.buttons and caps.can(ActionKind.MUTE):
            ctx.emit(
                Action(
                    ActionKind.MUTE,
                    group.source,
                    group.chat_id,
                    user_id=user_id,
                    until=deadline + MUTE_MARGIN,
                    reason=reasons.UNTIL_ANSWERED,
                ),
                cause,
            )

    # -- the bot back in the group -----------------------------------------------------------
    def _bot_back(self, ctx: BatchContext, group: GroupInfo, cause: Incoming) -> None:
        """The bot is back in ``group`` (engine/bot.py: :func:`~groupops.engine.bot.back_in`).
        While it was away nobody could answer the gate (the platform told it nothing, and the
        question itself may have become a dead letter when it was removed), and the tick
        held the time-outs. Every newcomer still to answer gets the whole time again, from
        now: their deadline is moved to ``timeout_seconds`` from now (never earlier than it
        was), the question is put to them again saying so, with the mute to match."""
        s = ctx.settings(self, group, GateSettings)
        deadline = ctx.now + timedelta(seconds=s.timeout_seconds)
        c = gate_challenges.c
        held = ctx.conn.execute(
            select(gate_challenges)
            .where(c.group_id == group.id, c.status == "pending", c.deadline < deadline)
            .order_by(c.id)
        ).all()
        for challenge in held:
            self._set(ctx, challenge.id, deadline=deadline)
            self._ask(
                ctx,
                group,
                s,
                cause,
                int(challenge.id),
                str(challenge.user_id),
                str(challenge.user_name),
                str(challenge.question),
                list(challenge.options),
                deadline,
            )

    @staticmethod
    def _question(
        t: Callable[[str], str], s: GateSettings, event: Event
    ) -> tuple[str, list[str], int]:
        if s.mode == "quiz":
            return s.question, list(s.options), s.answer
        # the same join always gets the same sum: a replayed event decides the same way
        seed = hashlib.sha256(f"{event.source}\x00{event.event_id}".encode()).digest()
        rng = random.Random(seed)
        a, b = rng.randint(2, 9), rng.randint(2, 9)
        right = a + b
        wrong = rng.sample([n for n in range(4, 19) if n != right], 3)
        options = [str(n) for n in [right, *wrong]]
        rng.shuffle(options)
        return _fmt(t, CAPTCHA, a=a, b=b), options, options.index(str(right)) + 1

    # -- answers -----------------------------------------------------------------------------
    def _pending(self, ctx: BatchContext, group_id: int, member_id: int) -> Any:
        c = gate_challenges.c
        return ctx.conn.execute(
            select(gate_challenges)
            .where(c.group_id == group_id, c.member_id == member_id, c.status == "pending")
            .order_by(c.id.desc())
        ).first()

    @staticmethod
    def _previous(
        ctx: BatchContext, group_id: int, member_id: int, before: int | None = None
    ) -> Any:
        """The member's latest challenge in the group (before challenge ``before``), if any."""
        c = gate_challenges.c
        query = select(gate_challenges).where(c.group_id == group_id, c.member_id == member_id)
        if before is not None:
            query = query.where(c.id < before)
        return ctx.conn.execute(query.order_by(c.id.desc()).limit(1)).first()

    def _message(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: GateSettings
    ) -> None:
        assert item.member_id is not None
        challenge = self._pending(ctx, group.id, item.member_id)
        if challenge is None:
            return
        event = item.event
        if event.message_id and ctx.capabilities(event.source).can(ActionKind.DELETE):
            ctx.emit(
                Action(
                    ActionKind.DELETE,
                    event.source,
                    event.chat_id,
                    message_id=event.message_id,
                    reason=reasons.NOT_ANSWERED,
                ),
                item,
            )
        ctx.suppress(item)  # nobody after the gate sees it: no points, no moderation strikes
        if ctx.capabilities(event.source).buttons:
            return  # answers come as button presses there
        choice = _typed_choice(event.text, list(challenge.options))
        if choice is not None:
            self._answer(ctx, item, group, s, challenge, choice)

    def _button(self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: GateSettings) -> None:
        raw = str(item.event.data.get("button_data", ""))
        if not raw.startswith(BUTTON_PREFIX):
            return
        cid_text, _, choice_text = raw[len(BUTTON_PREFIX) :].partition(":")
        if not (cid_text.isdigit() and choice_text.isdigit()):
            return
        challenge = ctx.conn.execute(
            select(gate_challenges).where(gate_challenges.c.id == int(cid_text))
        ).first()
        if (
            challenge is None
            or challenge.group_id != group.id
            or challenge.member_id != item.member_id
        ):
            return  # someone else's question: pressing changes nothing
        if challenge.status == "left":
            # the question of a join they left: it answers the one they are held for now if
            # that is the same question (joining again within rejoin_quiet_minutes posts none)
            held = self._pending(ctx, group.id, int(challenge.member_id))
            same = held is not None and held.question == challenge.question
            if not same or held.options != challenge.options:
                return
            challenge = held
        if challenge.status != "pending":
            return  # already decided: pressing changes nothing
        self._answer(ctx, item, group, s, challenge, int(choice_text))

    def _answer(
        self,
        ctx: BatchContext,
        item: Incoming,
        group: GroupInfo,
        s: GateSettings,
        challenge: Any,
        choice: int,
    ) -> None:
        event = item.event
        when = event.occurred_at
        if when > challenge.deadline:
            return  # too late: the clock's tick removes them
        attempts = challenge.attempts + 1
        if choice == challenge.answer:
            self._set(ctx, challenge.id, status="passed", attempts=attempts, ended_at=when)
            self._admit(ctx, group, challenge, when, reasons.ANSWERED, {"attempts": attempts}, item)
            return
        if attempts >= s.max_attempts:
            self._set(ctx, challenge.id, attempts=attempts)
            self._fail(ctx, group, challenge, s, when, reasons.WRONG_ANSWERS)
            return
        self._set(ctx, challenge.id, attempts=attempts)
        t = ctx.gettext(group)
        left = s.max_attempts - attempts
        text = _fmt(t, WRONG, name=challenge.user_name, left=left)
        ctx.emit(Action(ActionKind.SEND, event.source, event.chat_id, text=text), item)

    def _set(self, ctx: BatchContext, challenge_id: int, **values: Any) -> None:
        ctx.conn.execute(
            update(gate_challenges).where(gate_challenges.c.id == challenge_id).values(**values)
        )

    def _close_pending(
        self, ctx: BatchContext, group_id: int, member_id: int, status: str, when: datetime
    ) -> None:
        c = gate_challenges.c
        ctx.conn.execute(
            update(gate_challenges)
            .where(c.group_id == group_id, c.member_id == member_id, c.status == "pending")
            .values(status=status, ended_at=when)
        )

    def _gone(self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: GateSettings) -> None:
        """The newcomer left (or was removed: moderation's kick of an ad) with their question
        open: nothing to fail later. One who had answered wrong and left fails the gate all
        the same (counted, and banned at ``ban_after_failures``): else leaving and joining
        again gave fresh tries for ever, never counted towards the ban. So does one who left
        without answering when their previous join here was left open too, within
        ``rejoin_window_hours`` (the first time is free: someone joined by mistake): else
        joining and leaving in a loop made the bot post its question at every join."""
        assert item.member_id is not None
        challenge = self._pending(ctx, group.id, item.member_id)
        if challenge is None:
            return
        self._close_pending(ctx, group.id, item.member_id, "left", ctx.now)
        if item.event.kind != EventKind.MEMBER_LEFT:
            return  # removed by the bot itself (counted there if at all)
        if challenge.attempts > 0:
            why = reasons.WRONG_ANSWERS
        elif self._left_before(ctx, group, challenge, s):
            why = reasons.LEFT_UNANSWERED
        else:
            return
        count = self._count_failure(ctx, group, int(challenge.member_id), ctx.now)
        if count >= s.ban_after_failures:  # gone already: the ban keeps them from coming back
            reason = reasons.FAILED_GATES.format(reason=why, count=count)
            ctx.emit(
                Action(
                    ActionKind.BAN,
                    group.source,
                    group.chat_id,
                    user_id=str(challenge.user_id),
                    reason=reason,
                ),
                item,
            )

    def _left_before(
        self, ctx: BatchContext, group: GroupInfo, challenge: Any, s: GateSettings
    ) -> bool:
        """Whether the member left the question of their previous join in the group open too,
        within ``rejoin_window_hours`` before now."""
        window = timedelta(hours=s.rejoin_window_hours)
        before = self._previous(ctx, group.id, int(challenge.member_id), int(challenge.id))
        return (
            before is not None
            and before.status == "left"
            and before.ended_at is not None
            and ctx.now - before.ended_at < window
        )

    @staticmethod
    def _count_failure(ctx: BatchContext, group: GroupInfo, member_id: int, when: datetime) -> int:
        """One failed gate more for the member in the group's workspace; how many now."""
        f = gate_failures.c
        key = (f.workspace_id == group.workspace_id, f.member_id == member_id)
        count = ctx.conn.execute(select(f.count).where(*key)).scalar()
        if count is None:
            ctx.conn.execute(
                insert(gate_failures).values(
                    workspace_id=group.workspace_id, member_id=member_id, count=1, last_at=when
                )
            )
            return 1
        count += 1
        ctx.conn.execute(update(gate_failures).where(*key).values(count=count, last_at=when))
        return int(count)

    def _fail(
        self,
        ctx: BatchContext,
        group: GroupInfo,
        challenge: Any,
        s: GateSettings,
        when: datetime,
        reason: str,
    ) -> None:
        self._set(ctx, challenge.id, status="failed", ended_at=when)
        count = self._count_failure(ctx, group, int(challenge.member_id), when)
        kind = ActionKind.BAN if count >= s.ban_after_failures else ActionKind.KICK
        ctx.emit_for_group(
            Action(
                kind,
                group.source,
                group.chat_id,
                user_id=challenge.user_id,
                reason=reasons.FAILED_GATES.format(reason=reason, count=count),
            ),
            group,
        )
        # out of the members at once, as after a kick by moderation
        ctx.derive_removed(
            group, challenge.user_id, f"gate:{challenge.id}", {"rule": "gate", "reason": reason}
        )

    # -- the clock ---------------------------------------------------------------------------
    def _tick(self, ctx: BatchContext, now: datetime) -> None:
        c = gate_challenges.c
        due = ctx.conn.execute(
            select(gate_challenges)
            .where(c.status == "pending", c.deadline <= now)
            .order_by(c.id)
            .limit(1000)
        ).all()
        raids = ctx.conn.execute(select(gate_raids).where(gate_raids.c.until <= now)).all()
        waiting = set(
            ctx.conn.execute(select(c.group_id).where(c.status == "pending").distinct()).scalars()
        )
        if not due and not raids and not waiting:
            return
        groups = {g.id: g for g in ctx.all_groups()}
        on: dict[int, GateSettings | None] = {}  # a group's gate settings, None when it is off
        for gid in sorted(waiting | {ch.group_id for ch in due}):
            group = groups.get(gid)
            if group is None:
                continue
            s = tick_settings(ctx, self, group, GateSettings)
            if s is None:
                continue  # recorded when the group's next event comes; other groups go on
            on[gid] = s if s.enabled else None
        for gid, gate in on.items():
            if gate is None:
                self._let_in_waiting(ctx, groups[gid], now)
        for challenge in due:
            s_or_off = on.get(challenge.group_id)
            if s_or_off is None:
                continue  # off (let in above), unknown or invalid settings
            group = groups[challenge.group_id]
            self._fail(ctx, group, challenge, s_or_off, now, reasons.NO_ANSWER)
        for raid in raids:
            ctx.conn.execute(delete(gate_raids).where(gate_raids.c.group_id == raid.group_id))
            group = groups.get(raid.group_id)
            if group is not None:
                text = ctx.gettext(group)(RAID_OFF)
                ctx.emit_for_group(
                    Action(ActionKind.SEND, group.source, group.chat_id, text=text), group
                )

    def _let_in_waiting(self, ctx: BatchContext, group: GroupInfo, now: datetime) -> None:
        """The gate was turned off while newcomers were still to answer: nobody is removed for
        a question no longer asked. Each is let in as if they had answered: the mute the
        question came with is lifted, and welcome greets them (``member_admitted``)."""
        c = gate_challenges.c
        waiting = ctx.conn.execute(
            select(gate_challenges)
            .where(c.group_id == group.id, c.status == "pending")
            .order_by(c.id)
        ).all()
        for challenge in waiting:
            self._set(ctx, challenge.id, status="cancelled", ended_at=now)
            self._admit(ctx, group, challenge, now, reasons.TURNED_OFF, {"gate": "off"})

    def _admit(
        self,
        ctx: BatchContext,
        group: GroupInfo,
        challenge: Any,
        when: datetime,
        reason: str,
        data: dict[str, Any],
        cause: Incoming | None = None,
    ) -> None:
        """Let a newcomer in: the mute their question came with is lifted (where the platform
        asked with buttons and could mute), and ``member_admitted`` tells welcome to greet
        them. ``cause``: the answer that let them in, which the unmute follows."""
        caps = ctx.capabilities(group.source)
        if caps.buttons and caps.can(ActionKind.MUTE):
            unmute = Action(
                ActionKind.UNMUTE,
                group.source,
                group.chat_id,
                user_id=challenge.user_id,
                reason=reason,
            )
            if cause is not None:
                ctx.emit(unmute, cause)
            else:
                ctx.emit_for_group(unmute, group)
        ctx.derive(
            Event(
                group.source,
                f"gate:{challenge.id}:admitted",
                EventKind.MEMBER_ADMITTED,
                when,
                chat_id=group.chat_id,
                user_id=challenge.user_id,
                user_name=challenge.user_name,
                data={"challenge_id": int(challenge.id), **data},
            )
        )


def _within(t: Callable[[str], str], seconds: int) -> str:
    """``seconds`` as the question says it, never rounded (90 s is "90 seconds", not "2
    minutes": a newcomer told 2 minutes would be removed after 1.5)."""
    for unit, one, many in WITHIN:
        if seconds % unit == 0:
            n = seconds // unit
            return t(one) if n == 1 else _fmt(t, many, n=n)
    raise AssertionError("every whole number of seconds is a number of seconds")


def _typed_choice(text: str, options: list[str]) -> int | None:
    """The answer a newcomer typed: an option's own text, or (where the options are words, as
    in a quiz) its number. Anything else is not an answer and costs no attempt."""
    value = text.strip().rstrip(".。").casefold()
    for i, option in enumerate(options, start=1):
        if option.strip().casefold() == value:
            return i
    numeric_options = all(o.strip().isdigit() for o in options)
    if not numeric_options and value.isdigit() and 1 <= int(value) <= len(options):
        return int(value)
    if numeric_options and value.isdigit():
        return len(options) + 1  # a wrong sum: no option has it
    return None
