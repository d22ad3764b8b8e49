"""The deliverer: sends outbox actions after commit.

Per-platform rate limits (token buckets), retries with exponential backoff, ``retry_after``
honoured, a dead-letter state an operator can list and retry (engine.deadletters), and actions
of one chat in order, with one exception for the actions that protect a group.

Rate limits: every action takes a token from its connection's bucket (``per_second``); only the
actions that put a message into the chat (``POSTS``: send, reply, pin) take one from the chat's
bucket as well (``per_chat_per_minute``, ``burst``). Telegram's 20 a minute in a group are
messages the bot sends; deletes, restrictions and bans count only against the bot's
whole rate. (On Matrix, Synapse limits every event a user sends, redactions and kicks included,
per user: the connection's bucket.)

Order: engine.delivery_order says what waits for what (a chat's actions in order, protective
ones going before its queued messages, never before what they must follow) and how the queue
is read. A failed action fails alone: what does not wait for it still goes.

Live, a batch hands the deliverer the actions it claimed for it in its own transaction (see
engine.outbox.write_and_hand_off): those go out without a read of the queue or a claim of
their own. The queue is read when something may wait there: at start, when a batch queued an
action behind an unfinished one, after a failure, and every ``idle`` seconds (retries).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, insert, or_, select, update

from groupops.domain.actions import ANNOUNCES, Action, ActionKind
from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.engine import delivery_order as order
from groupops.engine.clock import Clock
from groupops.engine.deadletters import NO_CONNECTION, NOT_POSTED, REROUTED
from groupops.engine.delivery_order import POSTS, Queued
from groupops.engine.outbox import Handed, failure_text
from groupops.engine.ratelimit import TokenBucket
from groupops.engine.withdraw import NOT_SENT_YET, WITHDRAWS
from groupops.platforms.registry import Platforms
from groupops.storage.tables import groups, outbox

log = logging.getLogger(__name__)

_o = outbox.c
#: built once: every delivered action runs these two (a statement built per call costs
#: several times its run on SQLite)
_CLAIM = (
    update(outbox)
    .where(
        _o.id == bindparam("oid"),
        or_(
            _o.status == "pending",
            and_(_o.status == "sending", _o.claimed_until < bindparam("now")),
        ),
    )
    .values(status="sending", attempts=_o.attempts + 1, claimed_until=bindparam("until"))
)
_DELIVERED = (
    update(outbox)
    .where(_o.id == bindparam("oid"))
    .values(
        status="delivered",
        delivered_at=bindparam("at"),
        claimed_until=None,
        result=bindparam("res", type_=outbox.c.result.type),
    )
)
#: a claimed action handed back untried (its chat stopped at an earlier one): as it was
_UNTRIED = (
    update(outbox)
    .where(_o.id == bindparam("oid"), _o.status == "sending")
    .values(status="pending", attempts=_o.attempts - 1, claimed_until=None)
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_backoff: float = 1.0  # seconds; doubles each attempt
    max_backoff: float = 600.0
    lease: float = 60.0  # a claimed action not finished by then is free again

    def backoff(self, attempts: int) -> float:
        return float(min(self.max_backoff, self.base_backoff * 2 ** max(0, attempts - 1)))


class Deliverer:
    #: chats sent to at the same time (a platform's answer takes a network round trip)
    CHATS_AT_ONCE = 16
    #: shortest wait for the rate limits' next token (seconds): a bot's bucket holds a tenth
    #: of a second's worth, so waking at this pace keeps to its whole rate
    TOKEN_WAIT = 0.1

    def __init__(
        self,
        db: Engine,
        platforms: Platforms,
        clock: Clock,
        policy: RetryPolicy | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.platforms = platforms
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.monotonic = monotonic
        self._source_buckets: dict[str, TokenBucket] = {}
        self._chat_buckets: dict[tuple[str, str], TokenBucket] = {}
        #: something new may be due (a batch committed actions): see notify()
        self.wakeup = asyncio.Event()
        self._waiter: asyncio.Future[None] | None = None
        self.delivered = 0
        #: deliveries performed whose "delivered" is not written yet (see _record_delivered)
        self._unrecorded: list[dict[str, Any]] = []
        #: claimed actions a pass did not try, to hand back (see _record_delivered)
        self._untried: list[int] = []
        #: actions batches claimed for this deliverer, to send first (see notify)
        self._handed: list[Handed] = []
        #: whether the next round reads the queue
        self._scan = True
        #: seconds until the rate limits let go an action the last round held back (None:
        #: none was held back): the live loop waits no longer than that (``run``)
        self.throttled: float | None = None

    # -- buckets ---------------------------------------------------------------------------
    def _buckets(self, source: str, chat_id: str) -> tuple[TokenBucket, TokenBucket]:
        limits = self.platforms.capabilities(source).limits
        now = self.monotonic()
        sb = self._source_buckets.get(source)
        if sb is None:
            # at most per_second in any one second, now that chats are sent to side by side:
            # a tenth of a second's worth at once (at least one), the rest of it as the rate
            burst = max(1.0, limits.per_second / 10)
            rate = limits.per_second - burst if limits.per_second > 2 * burst else limits.per_second
            sb = self._source_buckets[source] = TokenBucket.full(rate, burst, now)
        cb = self._chat_buckets.get((source, chat_id))
        if cb is None:
            cb = self._chat_buckets[(source, chat_id)] = TokenBucket.full(
                limits.per_chat_per_minute / 60.0, float(limits.burst), now
            )
        return sb, cb

    # -- one round -------------------------------------------------------------------------
    def recover(self) -> int:
        """At start of the only deliverer: actions left 'sending' by a crash are due again."""
        with self.db.begin() as conn:
            res = conn.execute(
                update(outbox)
                .where(outbox.c.status == "sending")
                .values(status="pending", claimed_until=None, next_attempt_at=self.clock.now())
            )
            return int(res.rowcount or 0)

    def _heads(self, limit: int, per_chat: int = 1) -> tuple[list[list[Queued]], bool]:
        """The unfinished actions of each chat that may go now, and whether that is all of
        what is due (engine.delivery_order: ``read_queue``, ``heads``)."""
        with self.db.connect() as conn:
            read = order.read_queue(conn, limit * 20, per_chat)
            conn.rollback()
        return order.heads(read, self.clock.now(), limit, per_chat)

    async def deliver_due(self, limit: int = 200, *, scan: bool = True) -> int:
        """Send what is due now; returns how many actions were delivered this round.

        The actions batches handed over go first (claimed already; what the rate limits hold
        back is handed back to the queue, its attempt not counted). Then, with ``scan``, the
        queue: each pass claims what it will send in one transaction (what the rate limits let
        go now, each chat's actions in the order engine.delivery_order gives), sends it, and
        writes what was delivered. When a chat's action fails or is throttled, its claimed
        actions that must wait for it are handed back untried this pass, their attempt not
        counted; the others still go. A crash in the middle of
        a pass leaves its claimed actions 'sending': ``recover`` makes them due again, the
        claim counted as an attempt (as for the one being sent when the crash came)."""
        delivered = 0
        self.throttled = None
        try:
            if self._handed:
                handed, self._handed = self._handed, []
                plan = self._plan(_by_chat(handed))
                planned = {row.id for chat_rows in plan for row in chat_rows}
                held = [h.id for h in handed if h.id not in planned]
                if held:  # queued again: read with the queue at the next round
                    self._untried.extend(held)
                    self._scan = True
                delivered += await self._send(plan)
            if scan:
                self._record_delivered()  # the queue is read below: as it is now
            for _ in range(1000 if scan else 0):  # while chats have queued actions to send
                heads, complete = self._heads(limit, per_chat=50)
                sent_this_pass = await self._send(self._claim(self._plan(heads)))
                delivered += sent_this_pass
                self._record_delivered()  # before the next pass reads the queue
                if sent_this_pass == 0:
                    break
                if complete and sent_this_pass == sum(len(c) for c in heads):
                    break  # all that was due went out: another pass would find nothing new
        finally:
            self._record_delivered()
        self.delivered += delivered
        return delivered

    async def _send(self, claimed: list[list[Queued]]) -> int:
        """Send claimed actions: chats side by side (up to CHATS_AT_ONCE at a time, so that
        one slow answer from a platform holds up no other group), each chat's actions one
        after the other in order. Returns how many were delivered."""
        if len(claimed) <= 1:
            return await self._send_chat(claimed[0]) if claimed else 0
        slots = asyncio.Semaphore(self.CHATS_AT_ONCE)

        async def in_a_slot(chat_rows: list[Queued]) -> int:
            async with slots:
                return await self._send_chat(chat_rows)

        return sum(await asyncio.gather(*(in_a_slot(c) for c in claimed)))

    async def _send_chat(self, chat_rows: list[Queued]) -> int:
        """One chat's claimed actions in order: one at a time. After one that is not
        delivered, those that must wait for it (``delivery_order.waits_for``) are handed back
        untried, the others still go."""
        done = 0
        stuck: list[Queued] = []  # not delivered, or waiting for one that was not
        for row in chat_rows:
            if any(order.waits_for(row, s) for s in stuck):
                stuck.append(row)
                self._untried.append(int(row.id))
                continue
            outcome = await self._deliver_one(row)
            if outcome == "delivered":
                done += 1
                continue
            stuck.append(row)
            if outcome == "throttled":
                self._untried.append(int(row.id))
                self._held_back(self.TOKEN_WAIT)
        if stuck:
            self._scan = True  # what waits in the queue now: read it next round
        return done

    def _plan(self, heads: list[list[Queued]]) -> list[list[Queued]]:
        """Of each chat's due actions, those the rate limits let go now, in the order they
        are to be sent (engine.delivery_order: ``admitted``, ``send_order``): counted on
        copies of the buckets (tokens are taken when an action is really sent)."""
        now_m = self.monotonic()
        sources: dict[str, TokenBucket] = {}
        plan: list[list[Queued]] = []
        for chat_rows in heads:
            source = chat_rows[0].source
            real_source, real_chat = self._buckets(source, chat_rows[0].chat_id)
            sb = sources.get(source)
            if sb is None:
                sb = sources[source] = replace(real_source)
            allowed = order.admitted(chat_rows, partial(self._admit, sb, replace(real_chat), now_m))
            if allowed:
                plan.append(order.send_order(allowed))
        return plan

    def _admit(self, source: TokenBucket, chat: TokenBucket, now: float, row: Queued) -> bool:
        """Whether the rate limits (``source``, ``chat``: copies, see ``_plan``) let ``row`` go
        now; its tokens taken if so, else when they will is noted (``_held_back``)."""
        posts = row.kind in POSTS
        if _take(source, chat if posts else None, now):
            return True
        self._held_back(max(source.wait_time(now), chat.wait_time(now) if posts else 0.0))
        return False

    def _held_back(self, wait: float) -> None:
        """An action the rate limits hold back can go in ``wait`` seconds: the live loop reads
        the queue (where it waits) again no later than that."""
        self.throttled = wait if self.throttled is None else min(self.throttled, wait)

    def _claim(self, plan: list[list[Queued]]) -> list[list[Queued]]:
        """Claim the planned actions in one transaction (with the previous pass's deliveries
        and untried actions written in it); of each chat, the actions up to the first one
        that could not be claimed (another deliverer has it)."""
        if not plan:
            return []
        now = self.clock.now()
        until = now + timedelta(seconds=self.policy.lease)
        claimed: list[list[Queued]] = []
        with self.db.begin() as conn:
            self._record_delivered(conn)
            for chat_rows in plan:
                got = []
                for row in chat_rows:
                    params = {"oid": row.id, "now": now, "until": until}
                    if conn.execute(_CLAIM, params).rowcount != 1:
                        break
                    got.append(row)
                if got:
                    claimed.append(got)
        return claimed

    def _record_delivered(self, conn: Connection | None = None) -> None:
        """Write down the deliveries not recorded yet, and hand back the claimed actions that
        were not tried: in ``conn`` (the next claim's transaction, one commit for all) or in
        a transaction of their own."""
        if not self._unrecorded and not self._untried:
            return
        done, self._unrecorded = self._unrecorded, []
        untried, self._untried = self._untried, []
        if conn is not None:
            self._write_outcomes(conn, done, untried)
            return
        with self.db.begin() as own:
            self._write_outcomes(own, done, untried)

    @staticmethod
    def _write_outcomes(conn: Connection, done: list[dict[str, Any]], untried: list[int]) -> None:
        if done:
            conn.execute(_DELIVERED, done)
        if untried:
            conn.execute(_UNTRIED, [{"oid": oid} for oid in untried])

    async def _deliver_one(self, row: Queued) -> str:
        """Send one claimed action."""
        source_bucket, chat_bucket = self._buckets(row.source, row.chat_id)
        posts = row.kind in POSTS
        if not _take(source_bucket, chat_bucket if posts else None, self.monotonic()):
            return "throttled"  # the plan let it go: only a pause since can stop it here
        adapter = self.platforms.get(row.source)
        attempts = int(row.attempts) + 1
        try:
            if adapter is None:
                raise PlatformError(NO_CONNECTION, permanent=False, source=repr(row.source))
            action = Action.from_json(row.payload)
            if action.kind == ActionKind.DELETE and WITHDRAWS in action.data:
                target = self._withdrawn(int(action.data[WITHDRAWS]))
                if not target:  # never posted: nothing to delete
                    res: dict[str, Any] = {"already_gone": True}
                    self._unrecorded.append({"oid": row.id, "at": self.clock.now(), "res": res})
                    return "delivered"
                action = replace(action, message_id=target)
            result = await adapter.perform(action, idempotency_key=f"outbox:{row.id}")
        except RecipientUnreachable as exc:
            self._to_the_group(row, exc)
            return "failed"
        except PlatformError as exc:
            self._failed(row.id, attempts, exc, exc.retry_after, exc.permanent)
            if exc.retry_after:
                # neither platform says what a "wait" is about (Telegram's is for the request,
                # Synapse limits a user in all rooms): the whole connection waits
                source_bucket.pause(self.monotonic(), exc.retry_after)
                if posts:
                    chat_bucket.pause(self.monotonic(), exc.retry_after)
            return "failed"
        except Exception as exc:
            log.exception("delivering outbox %s failed", row.id)
            self._failed(row.id, attempts, exc, None, False)
            return "failed"
        res = {"platform_message_id": result.platform_message_id, **result.data}
        # recorded with the next claim or at the end of the pass, whichever comes first: the
        # same moment for a crash to fall between (the sandbox and the idempotency key see to
        # a re-send), one commit fewer per action
        self._unrecorded.append({"oid": row.id, "at": self.clock.now(), "res": res})
        return "delivered"

    def _withdrawn(self, oid: int) -> str:
        """The platform id of the bot's message in outbox ``oid``, which a ``delete`` takes
        back (engine.withdraw): "" when it was never posted; raises a passing PlatformError
        while it is still being sent (the delete is tried again later)."""
        for done in self._unrecorded:  # delivered by this deliverer, not written down yet
            if done["oid"] == oid:
                return str(done["res"].get("platform_message_id") or "")
        with self.db.connect() as conn:
            found = conn.execute(
                select(outbox.c.status, outbox.c.result).where(outbox.c.id == oid)
            ).first()
            conn.rollback()
        if found is None:
            return ""
        if found.status in ("pending", "sending"):
            raise PlatformError(NOT_SENT_YET, permanent=False, id=oid)
        if found.status != "delivered":
            return ""
        return str((found.result or {}).get("platform_message_id") or "")

    def _bot_in(self, source: str, chat_id: str) -> bool:
        """Whether the bot is in the group (``groups.bot_in_chat``; a chat no group names: as
        before, yes)."""
        g = groups.c
        with self.db.connect() as conn:
            found = conn.execute(
                select(g.bot_in_chat).where(g.source == source, g.chat_id == chat_id)
            ).scalar()
            conn.rollback()
        return found is None or bool(found)

    def _to_the_group(self, row: Queued, exc: PlatformError) -> None:
        """A private message the platform will not carry goes to the group instead (a newcomer
        who never started the bot still gets the rules); anything else private is dead, and
        so is one whose group the bot is no longer in (engine/bot.py: nothing is posted
        there)."""
        action = Action.from_json(row.payload)
        if (
            action.kind != ActionKind.DIRECT_MESSAGE
            or action.data.get("private_only")
            or not self._bot_in(row.source, row.chat_id)
        ):
            self._failed(row.id, int(row.attempts) + 1, exc, None, True)
            return
        now = self.clock.now()
        public = Action(
            ActionKind.SEND,
            action.source,
            action.chat_id,
            user_id=action.user_id,
            text=action.text,
            reason=action.reason,
            data={"instead_of": int(row.id)},
        )
        with self.db.begin() as conn:
            conn.execute(
                insert(outbox).values(
                    created_at=now,
                    source=row.source,
                    chat_id=row.chat_id,
                    group_id=row.group_id,
                    kind=public.kind.value,
                    payload=public.to_json(),
                    feature=row.feature,
                    cause_seq=row.cause_seq,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                )
            )
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row.id)
                .values(
                    status="rerouted",
                    claimed_until=None,
                    last_error=REROUTED.format(error=failure_text(exc))[:2000],
                )
            )
        self.notify()

    def _failed(
        self, oid: int, attempts: int, exc: Exception, retry_after: float | None, permanent: bool
    ) -> None:
        now = self.clock.now()
        values: dict[str, Any] = {"last_error": failure_text(exc)}
        values["claimed_until"] = None
        if permanent:
            values["status"] = "dead"
        elif retry_after is not None:
            # the platform asked us to wait: that is not a failed attempt
            values.update(
                status="pending",
                attempts=attempts - 1,
                next_attempt_at=now + timedelta(seconds=retry_after),
            )
        elif attempts >= self.policy.max_attempts:
            values["status"] = "dead"
        else:
            values.update(
                status="pending",
                next_attempt_at=now + timedelta(seconds=self.policy.backoff(attempts)),
            )
        with self.db.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.id == oid).values(**values))
            if values.get("status") == "dead":
                _dead_with(conn, oid)

    # -- running ---------------------------------------------------------------------------
    def notify(self, handed: Sequence[Handed] = (), *, scan: bool = True) -> None:
        """New actions are queued (call from the event loop): ``handed`` claimed for this
        deliverer by the batch, and with ``scan`` some to read from the queue. The waiting
        ``run`` resumes at the loop's next turn, ahead of anything that turn's timers or I/O
        wake. (Through ``asyncio.Event.wait`` under ``asyncio.wait`` it took three turns, so
        the ingest loop, woken in one by the next arriving event, always handled another whole
        batch first.)"""
        self._handed.extend(handed)
        if scan:
            self._scan = True
        self.wakeup.set()
        _resolve(self._waiter)

    def hand_back(self) -> None:
        """Handed actions not sent yet (the loop stops): back to the queue as they were."""
        self._untried.extend(h.id for h in self._handed)
        self._handed = []
        self._record_delivered()

    async def run(self, stop: asyncio.Event, idle: float = 0.5, *, recover: bool = True) -> None:
        """Deliver until ``stop``: after each committed batch, and the queue read at least
        every ``idle`` seconds (retries and backoffs come due there), however busy the
        batches keep it, and as soon as the rate limits let go what a round held back (a
        backlog goes out at the bot's whole rate: its bucket holds only a tenth of a second's
        worth, so waiting ``idle`` between rounds sent 6 a second on Telegram, not 30).
        Starts with ``recover`` (unless the caller already did, before any batch could hand
        this deliverer an action)."""
        if recover:
            self.recover()
        self._scan = True
        loop = asyncio.get_running_loop()
        scanned_at = loop.time()
        #: when the rate limits let go what a round held back: the queue is read then
        token_at: float | None = None
        stopper = asyncio.ensure_future(stop.wait())
        stopper.add_done_callback(lambda _: _resolve(self._waiter))
        try:
            while not stop.is_set():
                # cleared before the round: a batch committed while it runs wakes the next one
                self.wakeup.clear()
                now = loop.time()
                token_due = token_at is not None and token_at <= now
                scan = self._scan or token_due or now - scanned_at >= idle
                self._scan = False
                if scan:
                    scanned_at, token_at = now, None
                try:
                    await self.deliver_due(scan=scan)
                except Exception:
                    log.exception("deliverer round failed")
                if self.throttled is not None:
                    at = loop.time() + max(self.TOKEN_WAIT, self.throttled)
                    token_at = at if token_at is None else min(token_at, at)
                if self.wakeup.is_set() or stop.is_set():
                    continue
                self._waiter = waiter = loop.create_future()
                delay = min(scanned_at + idle, token_at or math.inf) - loop.time()
                timer = loop.call_later(max(0.0, delay), _resolve, waiter)
                try:
                    await waiter
                finally:
                    timer.cancel()
                    self._waiter = None
        finally:
            stopper.cancel()
            self.hand_back()


def _by_chat(rows: Sequence[Handed]) -> list[list[Queued]]:
    chats: dict[tuple[str, str], list[Queued]] = {}
    for row in rows:
        chats.setdefault((row.source, row.chat_id), []).append(row)
    return list(chats.values())


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _take(source: TokenBucket, chat: TokenBucket | None, now: float) -> bool:
    """A token from the bot's bucket and (for an action that posts) the chat's, if both have
    one now (else neither)."""
    if source.wait_time(now) > 0 or (chat is not None and chat.wait_time(now) > 0):
        return False
    source.take(now)
    if chat is not None:
        chat.take(now)
    return True


def _dead_with(conn: Connection, oid: int) -> None:
    """Action ``oid`` has failed for good: the messages that announce it (``ANNOUNCES``: "Bob
    is muted") are not posted either; they join it in the dead letters, saying why."""
    dead = conn.execute(
        select(outbox.c.source, outbox.c.chat_id, outbox.c.cause_seq, outbox.c.kind).where(
            outbox.c.id == oid
        )
    ).one()
    if dead.cause_seq is None:
        return
    later = conn.execute(
        select(outbox.c.id, outbox.c.payload).where(
            outbox.c.source == dead.source,
            outbox.c.chat_id == dead.chat_id,
            outbox.c.cause_seq == dead.cause_seq,
            outbox.c.id > oid,
            outbox.c.status.in_(("pending", "sending")),
        )
    ).all()
    ids = [
        int(r.id) for r in later if (Action.from_json(r.payload).data.get(ANNOUNCES) == dead.kind)
    ]
    if ids:
        log.warning(
            "outbox %s failed for good: %d message(s) announcing it not posted", oid, len(ids)
        )
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(
                status="dead",
                claimed_until=None,
                last_error=NOT_POSTED.format(id=oid, kind=dead.kind),
            )
        )
