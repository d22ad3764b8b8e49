"""Through the real App and deliverer: the fake Bot API fails for a while (429 with retry_after,
500, 502, requests that hang past the time-out) and then recovers. Every action is delivered
once, in order per group, and no group ever gets more than 20 messages in 60 seconds (the fake
server counts them on the clock the deliverer runs on, and refuses a 21st as Telegram does)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.outbox import queue_actions
from groupops.storage.tables import outbox
from tests.platforms.telegram.conftest import GROUP, OTHER_GROUP, TOKEN, run, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

PER_GROUP = 45


def _queue(app: App, actions: list[Action], feature: str = "test") -> None:
    with app.db.begin() as conn:
        queue_actions(
            conn,
            [(action, None) for action in actions],
            workspace_id=1,
            now=app.clock.now(),
            feature=feature,
            capabilities_of=app.platforms.capabilities,
        )


def _window_max(fake: FakeBotApi, chat: int, seconds: float) -> int:
    times = sorted(
        r.at.timestamp() for r in fake.calls("sendMessage") if r.params.get("chat_id") == chat
    )
    return max(
        (sum(1 for u in times if t <= u < t + seconds) for t in times),
        default=0,
    )


def test_faults_then_recovery_delivers_once_in_order_within_limits(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)
    # the deliverer's token buckets run on the same (simulated) time as the fake server's log
    app.deliverer.monotonic = lambda: clock.now().timestamp()

    async def go() -> None:
        async with telegram(app, request_timeout=0.3, hang_seconds=0.6, enforce_limits=True) as (
            fake,
            adapter,
        ):
            _queue(
                app,
                [
                    Action(ActionKind.SEND, adapter.source, str(chat), text=f"{chat} #{i}")
                    for i in range(PER_GROUP)
                    for chat in (GROUP, OTHER_GROUP)
                ],
            )
            fake.fail("429", 3, retry_after=5)
            fake.fail("500", 3)
            fake.fail("502", 2)
            fake.fail("timeout", 2)
            for _ in range(2000):
                await app.deliver()
                with app.db.connect() as conn:
                    left = conn.execute(
                        select(outbox.c.id).where(outbox.c.status.in_(("pending", "sending")))
                    ).all()
                if not left:
                    break
                clock.advance(timedelta(seconds=1))
            outcomes = [r.outcome for r in fake.calls("sendMessage", ok_only=False)]
            assert outcomes.count("429") == 3 and outcomes.count("500") == 3
            assert outcomes.count("502") == 2 and outcomes.count("timeout") == 2
            assert "limit" not in outcomes  # Telegram's own 20-a-minute limit never hit
            # retry_after honoured: after a 429 nothing more is sent there for 5 seconds
            sends = fake.calls("sendMessage", ok_only=False)
            for i, r in enumerate(sends):
                if r.outcome == "429":
                    later = [
                        s for s in sends[i + 1 :] if s.params["chat_id"] == r.params["chat_id"]
                    ]
                    assert later and (later[0].at - r.at).total_seconds() >= 5
            for chat in (GROUP, OTHER_GROUP):
                texts = [m["text"] for m in fake.sent(chat)]
                assert texts == [f"{chat} #{i}" for i in range(PER_GROUP)]  # once, in order
                assert _window_max(fake, chat, 60) <= 20
                assert _window_max(fake, chat, 1) <= 30

    run(go())
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox.c.status, outbox.c.last_error)).all()
    assert {r.status for r in rows} == {"delivered"}
    assert len(rows) == 2 * PER_GROUP
    assert all(TOKEN not in r.last_error for r in rows)


def test_a_private_only_dm_to_someone_who_never_started_the_bot_is_dead_not_retried(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            _queue(
                app,
                [
                    Action(
                        ActionKind.DIRECT_MESSAGE,
                        adapter.source,
                        str(GROUP),
                        user_id="501",
                        text="coupon",
                        data={"private_only": True},  # never shown to the group
                    )
                ],
            )
            await app.deliver()
            assert not fake.calls("sendMessage", ok_only=False)

    run(go())
    with app.db.connect() as conn:
        row = conn.execute(select(outbox.c.status, outbox.c.attempts, outbox.c.last_error)).one()
    assert row.status == "dead" and row.attempts == 1
    assert "not started" in row.last_error


def test_a_private_message_telegram_will_not_carry_is_posted_in_the_group(
    make_app: Callable[..., App],
) -> None:
    """Most newcomers never started the bot: the rules they would get privately go to the
    group instead, once, and the refused private message is kept as 'rerouted'."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            _queue(
                app,
                [
                    Action(
                        ActionKind.DIRECT_MESSAGE,
                        adapter.source,
                        str(GROUP),
                        user_id="777",
                        text="The rules: be kind.",
                    )
                ],
                feature="welcome",
            )
            for _ in range(3):
                await app.deliver()
            with app.db.connect() as conn:
                rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
            assert [(r.kind, r.status) for r in rows] == [
                ("direct_message", "rerouted"),
                ("send", "delivered"),
            ]
            assert "not started a private chat" in rows[0].last_error
            assert rows[1].payload["data"] == {"instead_of": rows[0].id}
            sent = fake.calls("sendMessage")
            assert [(r.params.get("chat_id"), r.params.get("text")) for r in sent] == [
                (GROUP, "The rules: be kind.")
            ]

    run(go())
