"""Long polling: the offset is stored after each batch is committed, so a bot stopped in the
middle of a stream and started again neither replays nor loses an update; a crash between the
engine's commit and the offset's leaves duplicates the engine drops."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence

import pytest

from groupops.domain.events import Event
from groupops.engine.app import App
from groupops.engine.core import BatchResult
from groupops.platforms.telegram import ConnectionStore, TelegramAdapter
from tests.helpers import until
from tests.platforms.telegram.conftest import GROUP, TOKEN, run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

PEOPLE = [FakeBotApi.person(600 + i, f"P{i}") for i in range(5)]


def test_stop_mid_stream_and_restart_neither_replays_nor_loses(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=())
    handed: list[str] = []
    engine_handle = app.handle

    def handle(events: Sequence[Event]) -> BatchResult:
        handed.extend(e.event_id for e in events)
        return engine_handle(events)

    app.handle = handle  # type: ignore[method-assign]

    async def go() -> None:
        async with telegram(app, poll_timeout=1) as (fake, adapter):
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            for i in range(30):
                fake.post(GROUP, PEOPLE[i % 5], f"message {i}")
                if i % 7 == 0:
                    await asyncio.sleep(0.05)  # the stream arrives over several polls
            await until(lambda: len(stored(app)) >= 10)
            stop.set()  # in the middle of the stream (or of a long poll)
            await asyncio.wait_for(task, 10)
            await adapter.close()
            first_run = len(stored(app))
            for i in range(30, 40):
                fake.post(GROUP, PEOPLE[i % 5], f"message {i}")  # while the bot is down

            config, state = adapter.store.load()
            assert state["offset"] > 0
            again = TelegramAdapter(
                config,
                store=ConnectionStore(app.db, config.source),
                handle=app.handle,
                clock=app.clock,
            )
            stop2 = asyncio.Event()
            task2 = asyncio.create_task(again.run(stop2))
            await until(lambda: len(stored(app)) == 40)
            stop2.set()
            await asyncio.wait_for(task2, 10)
            await again.close()
            assert first_run >= 10
            assert len(handed) == len(set(handed)) == 40  # none processed twice, none lost
            # only a poll cut short by the stop may be served again: it was never confirmed
            assert len(set(fake.served)) == 40
            again_served = {u for u in fake.served if fake.served.count(u) > 1}
            assert all(u >= state["offset"] for u in again_served)
            assert fake.calls("deleteWebhook")  # polling makes sure no webhook is set

    run(go())
    rows = stored(app)
    assert [r.text for r in rows] == [f"message {i}" for i in range(40)]


def test_crash_between_commit_and_offset_is_harmless(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            for i in range(5):
                fake.post(GROUP, PEOPLE[i], f"m{i}")
            real_save = adapter.store.save_state

            def crash(state: object) -> None:
                raise RuntimeError("power cut")

            adapter.store.save_state = crash  # type: ignore[method-assign]
            with pytest.raises(RuntimeError):
                await adapter.poll_once()
            assert len(stored(app)) == 5  # the engine committed
            adapter.store.save_state = real_save  # type: ignore[method-assign]
            fresh = TelegramAdapter(
                adapter.config, store=adapter.store, handle=app.handle, clock=app.clock
            )
            await fresh.connect()
            try:
                await fresh.poll_once()  # the same five again, from the stored offset
                assert fresh.offset == max(fake.served) + 1
            finally:
                await fresh.close()
            assert fake.served[:5] == fake.served[5:]

    run(go())
    assert [r.text for r in stored(app)] == [f"m{i}" for i in range(5)]  # once each


def test_an_update_it_cannot_read_does_not_stall_the_stream(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.push({"message": {"message_id": 1, "chat": {"id": GROUP, "type": "supergroup"}}})
            fake.push({"some_future_update": {"x": 1}})
            fake.post(GROUP, PEOPLE[0], "after")
            await adapter.poll_once()
            assert await adapter.poll_once() == []

    run(go())
    assert [r.text for r in stored(app)] == ["after"]


def test_an_event_the_engine_refuses_is_set_aside_not_retried_forever(
    make_app: Callable[..., App],
) -> None:
    from sqlalchemy import select

    from groupops.storage.tables import rejected_events

    app = make_app(features=())
    engine_handle = app.handle

    def handle(events: Sequence[Event]) -> BatchResult:
        if any(e.text == "poison" for e in events):
            raise RuntimeError("cannot store this one")
        return engine_handle(events)

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            adapter.handle = handle
            adapter.reject = app.engine.reject_event
            fake.post(GROUP, PEOPLE[0], "before")
            fake.post(GROUP, PEOPLE[1], "poison")
            fake.post(GROUP, PEOPLE[2], "after")
            await adapter.poll_once()
            assert await adapter.poll_once() == []  # the stream moved on

    run(go())
    assert [r.text for r in stored(app)] == ["before", "after"]
    with app.db.connect() as conn:
        kept = conn.execute(select(rejected_events.c.raw, rejected_events.c.error)).all()
    assert len(kept) == 1 and "cannot store" in kept[0].error
    assert json.loads(kept[0].raw)["text"] == "poison"  # JSON, as the App keeps it


#: updates whose shape the adapter cannot read, each where a batch is looked through before it
#: is translated: a message that is no object, a group chat without its id (the
#: administrators to ask), a join whose member is no object (the bot's own join, held), a
#: button's message without a chat id, a date no clock can hold (the translation)
GARBAGE = (
    {"message": "garbage"},
    {"message": {"message_id": 2, "chat": {"type": "group"}, "date": 1, "text": "x"}},
    {"my_chat_member": {"chat": {"id": GROUP, "type": "supergroup"}, "new_chat_member": "x"}},
    {"callback_query": {"id": "q", "message": {"chat": {"type": "group"}}, "data": "d"}},
    {
        "message": {
            "message_id": 3,
            "chat": {"id": GROUP, "type": "supergroup"},
            "from": PEOPLE[1],
            "date": 10**20,
            "text": "from the far future",
        }
    },
)


@pytest.mark.parametrize("garbage", GARBAGE)
def test_a_malformed_update_is_skipped_and_acknowledged_alone(
    make_app: Callable[..., App], garbage: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    """One update the adapter cannot read, between two good ones in the same batch: it is
    logged (its number, not its content nor the token) and skipped, the good ones are stored,
    and the position moves past all three, so the next poll starts after them."""
    app = make_app(features=())
    bad = 0

    async def go() -> None:
        nonlocal bad
        async with telegram(app) as (fake, adapter):
            fake.post(GROUP, PEOPLE[0], "before")
            bad = fake.push(garbage)
            fake.post(GROUP, PEOPLE[2], "after")
            with caplog.at_level("WARNING", logger="groupops.platforms.telegram"):
                await adapter.poll_once()
            assert adapter.offset == bad + 2
            assert adapter.store.load()[1]["offset"] == bad + 2  # acknowledged, durably
            assert await adapter.poll_once() == []
            assert fake.confirmed == bad + 2
            assert len(fake.served) == 3  # none served again

    run(go())
    assert [r.text for r in stored(app)] == ["before", "after"]
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 1 and f"update {bad} " in skipped[0]
    assert "garbage" not in skipped[0] and "far future" not in skipped[0]
    assert TOKEN not in caplog.text
