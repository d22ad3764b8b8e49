"""The deliverer: retries with backoff, retry_after, dead letters, order per chat, rate limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from groupops.domain.errors import NotFound
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.deadletters import list_outbox, retry_dead
from groupops.engine.deliverer import RetryPolicy
from groupops.platforms.base import RateLimits
from groupops.storage.tables import outbox
from tests.engine.fakes import FlakyAdapter
from tests.engine.test_engine import ECHO, msg
from tests.helpers import until


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def setup(
    make_app: Callable[..., App],
    limits: RateLimits | None = None,
    policy: RetryPolicy | None = None,
) -> tuple[App, FlakyAdapter, ManualClock, FakeMonotonic]:
    app = make_app(features=(ECHO,), retry=policy or RetryPolicy(max_attempts=3, base_backoff=2))
    adapter = FlakyAdapter("flaky", limits=limits)
    app.platforms.add(adapter)
    mono = FakeMonotonic()
    app.deliverer.monotonic = mono
    assert isinstance(app.clock, ManualClock)
    return app, adapter, app.clock, mono


def deliver(app: App) -> int:
    return asyncio.run(app.deliver())


def statuses(app: App) -> list[tuple[str, int]]:
    with app.db.connect() as conn:
        return [(r.status, r.attempts) for r in conn.execute(select(outbox).order_by(outbox.c.id))]


def test_transient_errors_back_off_then_deliver(make_app: Callable[..., App]) -> None:
    app, adapter, clock, _ = setup(make_app)
    app.handle([msg(1, "a", source="flaky")])
    adapter.script = ["error", "error"]
    assert deliver(app) == 0
    assert statuses(app) == [("pending", 1)]
    assert deliver(app) == 0  # not due yet: backoff 2 s
    assert adapter.calls == 1
    clock.advance(2)
    assert deliver(app) == 0 and adapter.calls == 2  # second failure: backoff 4 s now
    clock.advance(3)
    assert deliver(app) == 0 and adapter.calls == 2
    clock.advance(1)
    assert deliver(app) == 1
    assert statuses(app) == [("delivered", 3)]
    assert [a.text for _, a in adapter.sent] == ["echo:a"]


def test_retry_after_is_honoured_and_not_counted_as_a_failure(
    make_app: Callable[..., App],
) -> None:
    app, adapter, clock, mono = setup(make_app)
    app.handle([msg(1, "a", source="flaky")])
    adapter.script = ["retry_after:30", "retry_after:30", "retry_after:30"]
    for _ in range(3):
        assert deliver(app) == 0
        clock.advance(29)
        mono.now += 29
        assert deliver(app) == 0
        clock.advance(1)
        mono.now += 1
    assert deliver(app) == 1  # three 429s did not exhaust max_attempts=3
    assert statuses(app)[0][0] == "delivered"


def test_dead_letter_after_max_attempts_and_operator_retry(
    make_app: Callable[..., App],
) -> None:
    app, adapter, clock, _ = setup(make_app)
    app.handle([msg(1, "a", source="flaky"), msg(2, "p", source="flaky", chat="g2")])
    adapter.script = ["error", "permanent"]  # g1's first try fails, g2's is refused for good
    deliver(app)
    for _ in range(4):
        clock.advance(60)
        adapter.script = ["error"]
        deliver(app)
    adapter.script = []
    dead = list_outbox(app.db, "dead")
    assert sorted(d["chat_id"] for d in dead) == ["g1", "g2"]
    assert all(d["last_error"] for d in dead)
    with pytest.raises(NotFound, match="no dead action"):
        retry_dead(app.db, app.clock, [999])
    assert retry_dead(app.db, app.clock, [dead[0]["id"]]) == 1
    assert deliver(app) == 1
    assert retry_dead(app.db, app.clock) == 1  # all the rest
    assert deliver(app) == 1
    assert list_outbox(app.db, "dead") == []


def test_one_chat_stays_in_order_while_its_head_waits(make_app: Callable[..., App]) -> None:
    app, adapter, clock, _ = setup(make_app)
    app.handle(
        [msg(i, f"m{i}", source="flaky") for i in range(1, 4)]
        + [msg(10, "other", source="flaky", chat="g2")]
    )
    adapter.script = ["error"]  # the first action of g1 fails
    assert deliver(app) == 1  # g2 goes on; g1's later actions wait behind their head
    assert [a.text for _, a in adapter.sent] == ["echo:other"]
    # the pass had claimed all of g1's actions: the two behind the failed one go back untried,
    # no attempt counted
    assert statuses(app) == [("pending", 1), ("pending", 0), ("pending", 0), ("delivered", 1)]
    clock.advance(5)
    assert deliver(app) == 3
    assert [a.text for _, a in adapter.sent][1:] == ["echo:m1", "echo:m2", "echo:m3"]


def test_rate_limits_are_never_exceeded(make_app: Callable[..., App]) -> None:
    limits = RateLimits(per_second=1000, per_chat_per_minute=20, burst=3)
    app, adapter, _, mono = setup(make_app, limits=limits)
    app.handle([msg(i, f"m{i}", source="flaky", at=i) for i in range(10)])
    assert deliver(app) == 3  # the burst
    mono.now += 2.9
    assert deliver(app) == 0  # 20 a minute = one each 3 s
    mono.now += 0.1
    assert deliver(app) == 1
    mono.now += 60
    assert deliver(app) == 3  # refilled to the burst, not beyond
    assert len(adapter.sent) == 7
    assert [s for s in statuses(app) if s[0] == "pending"] == [("pending", 0)] * 3  # untouched


def test_crash_while_sending_is_recovered_at_start(make_app: Callable[..., App]) -> None:
    app, _adapter, clock, _ = setup(make_app)
    app.handle([msg(1, "a", source="flaky")])
    with app.db.begin() as conn:  # what a SIGKILL between claim and send leaves behind
        conn.execute(
            outbox.update().values(
                status="sending", claimed_until=clock.now() + timedelta(minutes=1)
            )
        )
    assert deliver(app) == 0  # someone holds it
    assert app.deliverer.recover() == 1
    assert deliver(app) == 1


def test_a_committed_batch_is_delivered_before_the_next_batch_is_handled(
    make_app: Callable[..., App],
) -> None:
    """Live, the deliverer resumes at the loop's next turn after a batch commits actions: an
    event arriving meanwhile (a timer, as a platform's socket would wake the loop) is handled
    after that delivery, not before it (it was: the deliverer's wake-up took three turns)."""
    app, adapter, _clock, _ = setup(make_app)
    order: list[str] = []
    handle, perform = app.engine.handle, adapter.perform

    def logged_handle(batch: Any, **kw: Any) -> Any:
        order.append("handle " + ",".join(e.event_id for e in batch))
        return handle(batch, **kw)

    async def logged_perform(action: Any, *, idempotency_key: str) -> Any:
        order.append("deliver " + action.text)
        return await perform(action, idempotency_key=idempotency_key)

    app.engine.handle = logged_handle  # type: ignore[method-assign]
    adapter.perform = logged_perform  # type: ignore[method-assign]

    async def scenario() -> None:
        await app.start(tick_every=3600)
        try:
            # the deliverer's first (empty) round, then it waits
            await until(lambda: app.deliverer._waiter is not None, what="the deliverer to wait")
            order.clear()
            loop = asyncio.get_running_loop()
            app.submit(msg(1, "first", source="flaky"))
            loop.call_later(0, app.submit, msg(2, "second", source="flaky"))
            await until(lambda: len(adapter.sent) == 2, what="both replies to be sent")
        finally:
            await app.stop()

    asyncio.run(scenario())
    assert order == ["handle e1", "deliver echo:first", "handle e2", "deliver echo:second"]


def handing_off(app: App) -> list[str]:
    """The App as it runs live: batches claim their actions for its deliverer. Returns the
    log of the deliverer's reads of the queue."""
    app.engine.hand_off_lease = app.deliverer.policy.lease
    reads: list[str] = []
    heads = app.deliverer._heads

    def logged(limit: int, per_chat: int = 1) -> Any:
        reads.append("queue read")
        return heads(limit, per_chat)

    app.deliverer._heads = logged  # type: ignore[method-assign]
    return reads


def deliver_handed(app: App) -> int:
    return asyncio.run(app.deliverer.deliver_due(scan=False))


def test_a_batch_hands_its_actions_over_claimed_and_they_go_without_a_queue_read(
    make_app: Callable[..., App],
) -> None:
    app, adapter, _clock, _ = setup(make_app)
    reads = handing_off(app)
    result = app.handle([msg(1, "a", source="flaky"), msg(2, "b", source="flaky", chat="g2")])
    assert [h.chat_id for h in result.handed] == ["g1", "g2"]
    # claimed in the batch's transaction, the attempt counted (as a claim of the queue does)
    assert statuses(app) == [("sending", 1), ("sending", 1)]
    assert deliver_handed(app) == 2
    assert reads == []
    assert statuses(app) == [("delivered", 1), ("delivered", 1)]
    # the idempotency key is the outbox id, as for an action read from the queue
    assert [key for key, _ in adapter.sent] == [f"outbox:{h.id}" for h in result.handed]


def test_a_chat_with_an_unfinished_action_queues_the_next_one_behind_it(
    make_app: Callable[..., App],
) -> None:
    app, adapter, clock, _ = setup(make_app)
    reads = handing_off(app)
    app.handle([msg(1, "m1", source="flaky")])
    adapter.script = ["error"]
    assert deliver_handed(app) == 0  # failed: waits 2 s for its retry
    later = app.handle([msg(2, "m2", source="flaky"), msg(3, "other", source="flaky", chat="g2")])
    assert [h.chat_id for h in later.handed] == ["g2"]  # g1 has m1 unfinished: m2 waits
    assert statuses(app) == [("pending", 1), ("pending", 0), ("sending", 1)]
    assert asyncio.run(app.deliverer.deliver_due(scan=True)) == 1  # g2; m2 stays behind m1
    assert reads == ["queue read"]
    clock.advance(2)
    assert deliver(app) == 2
    assert [a.text for _, a in adapter.sent] == ["echo:other", "echo:m1", "echo:m2"]


def test_handed_actions_the_rate_limits_hold_back_go_back_to_the_queue_uncounted(
    make_app: Callable[..., App],
) -> None:
    limits = RateLimits(per_second=1000, per_chat_per_minute=20, burst=1)
    app, adapter, _, mono = setup(make_app, limits=limits)
    handing_off(app)
    result = app.handle([msg(i, f"m{i}", source="flaky", at=i) for i in range(3)])
    assert len(result.handed) == 3
    app.deliverer._scan = False
    assert deliver_handed(app) == 1
    assert statuses(app) == [("delivered", 1), ("pending", 0), ("pending", 0)]
    assert app.deliverer._scan  # the live loop's next round reads them from the queue
    mono.now += 3
    assert deliver(app) == 1  # from the queue now, in order
    assert [a.text for _, a in adapter.sent] == ["echo:m0", "echo:m1"]


def test_handed_actions_not_sent_are_queued_again_and_a_crash_counts_their_attempt(
    make_app: Callable[..., App],
) -> None:
    app, adapter, _clock, _ = setup(make_app)
    handing_off(app)
    app.handle([msg(1, "a", source="flaky")])
    app.deliverer.hand_back()  # the loop stopped before sending it: as if never claimed
    assert statuses(app) == [("pending", 0)]
    assert deliver(app) == 1
    app.handle([msg(2, "b", source="flaky")])
    # a crash right after the batch's commit: the claim stays; at start it is due again,
    # its attempt counted (an action that crashes the process ends dead, not in a loop)
    assert app.deliverer.recover() == 1
    assert statuses(app) == [("delivered", 1), ("pending", 1)]
    assert deliver(app) == 1
    assert [a.text for _, a in adapter.sent] == ["echo:a", "echo:b"]


def test_a_stopped_app_queues_what_its_batches_handed_over(make_app: Callable[..., App]) -> None:
    app, adapter, _clock, _ = setup(make_app)

    async def scenario() -> None:
        await app.start(tick_every=3600)
        try:
            assert app.engine.hand_off_lease == app.deliverer.policy.lease
            app.submit(msg(1, "a", source="flaky"))
            await until(lambda: adapter.sent, what="the reply to be sent")
        finally:
            await app.stop()
        assert app.engine.hand_off_lease is None  # batches after the stop queue theirs

    asyncio.run(scenario())
    assert [a.text for _, a in adapter.sent] == ["echo:a"]
    assert app.handle([msg(2, "b", source="flaky")]).handed == []
    assert statuses(app) == [("delivered", 1), ("pending", 0)]


def test_a_retry_comes_due_while_batches_keep_the_deliverer_busy(
    make_app: Callable[..., App],
) -> None:
    """Live, the queue (where retries wait) is read at least every ``idle`` seconds even when
    handed-over actions wake the deliverer far more often than that."""
    app, adapter, clock, _ = setup(make_app)
    adapter.script = ["error"]

    async def traffic(seconds: float, start: int) -> None:
        for i in range(int(seconds / 0.01)):
            app.submit(msg(start + i, "busy", source="flaky", chat="g2"))
            await asyncio.sleep(0.01)
            if any(a.text == "echo:a" for _, a in adapter.sent):
                return

    async def scenario() -> None:
        await app.start(tick_every=3600)
        try:
            app.submit(msg(1, "a", source="flaky"))
            await traffic(0.2, 100)  # the failure, and the queue read right after it
            assert adapter.calls > 1 and not any(a.text == "echo:a" for _, a in adapter.sent)
            clock.advance(3)  # the retry is due now (backoff 2 s)
            await traffic(3.0, 1000)
        finally:
            await app.stop()

    asyncio.run(scenario())
    assert any(a.text == "echo:a" for _, a in adapter.sent)
    assert statuses(app)[0] == ("delivered", 2)


class SlowAdapter(FlakyAdapter):
    """Answers after a network round trip; counts what is in flight, per chat and in all."""

    def __init__(self) -> None:
        super().__init__("flaky")
        self.in_flight: dict[str, int] = {}
        self.most_at_once = 0
        self.most_in_one_chat = 0

    async def perform(self, action: Any, *, idempotency_key: str) -> Any:
        chat = action.chat_id
        self.in_flight[chat] = self.in_flight.get(chat, 0) + 1
        self.most_at_once = max(self.most_at_once, sum(self.in_flight.values()))
        self.most_in_one_chat = max(self.most_in_one_chat, self.in_flight[chat])
        try:
            await asyncio.sleep(0.02)
            return await super().perform(action, idempotency_key=idempotency_key)
        finally:
            self.in_flight[chat] -= 1


def test_chats_are_sent_to_side_by_side_and_each_chat_in_order(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=(ECHO,))
    adapter = SlowAdapter()
    app.platforms.add(adapter)
    chats = [f"g{i}" for i in range(20)]
    app.handle(
        [
            msg(100 * n + i, f"{chat}-{n}", source="flaky", chat=chat)
            for n in range(3)
            for i, chat in enumerate(chats)
        ]
    )
    assert deliver(app) == 60
    # one slow answer holds up no other chat, up to the bound; a chat's own actions wait for
    # each other
    assert adapter.most_at_once == app.deliverer.CHATS_AT_ONCE
    assert adapter.most_in_one_chat == 1
    for chat in chats:
        sent = [a.text for _, a in adapter.sent if a.chat_id == chat]
        assert sent == [f"echo:{chat}-{n}" for n in range(3)]


def test_the_bot_never_sends_more_than_its_per_second_limit_in_any_second(
    make_app: Callable[..., App],
) -> None:
    limits = RateLimits(per_second=10, per_chat_per_minute=60_000, burst=1000)
    app, adapter, _clock, mono = setup(make_app, limits=limits)
    app.handle([msg(i, f"m{i}", source="flaky", chat=f"g{i}") for i in range(60)])
    sent_at: list[float] = []
    for _ in range(200):
        before = len(adapter.sent)
        deliver(app)
        sent_at += [mono.now] * (len(adapter.sent) - before)
        if len(adapter.sent) == 60:
            break
        mono.now += 0.05
    assert len(adapter.sent) == 60
    # every window of one second, wherever it starts
    assert max(sum(1 for u in sent_at if t <= u < t + 1.0) for t in sent_at) <= 10
