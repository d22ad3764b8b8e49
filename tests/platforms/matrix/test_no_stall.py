"""One event the engine cannot take, or one invite the bot cannot join, does not stop a Matrix
connection's sync for good (QA code review finding 2): the event is set aside in
``rejected_events``, the failed join is kept in the connection's state and tried again later,
and the sync position moves on either way. Real Synapse on 127.0.0.1, real engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import RoomCreateResponse, RoomLeaveResponse
from sqlalchemy import select

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.core import BatchResult
from groupops.platforms.matrix import ConnectionStore
from groupops.platforms.matrix.homeserver import JOIN_RETRY
from groupops.storage.tables import events as events_table
from groupops.storage.tables import rejected_events
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import bot_config, bot_room, make_adapter, people
from tests.platforms.matrix.synapse import Synapse


def test_an_event_the_engine_refuses_is_set_aside_and_the_sync_moves_on(
    synapse: Synapse, make_app: Callable[..., App]
) -> None:
    app = make_app(features=())
    config = bot_config(synapse, new_account(synapse, "bot"))
    handed: list[list[str]] = []

    def handle(batch: Sequence[Event]) -> BatchResult:
        handed.append([e.text for e in batch])
        if any(e.text == "poison" for e in batch):
            raise ValueError("cannot store this one")
        return app.handle(batch)

    async def go() -> tuple[str, str | None, str | None]:
        adapter = make_adapter(app.db, config, handle)
        adapter.reject = app.engine.reject_event
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        await adapter.sync_once(0)
        before = adapter.position
        for text in ("before", "poison", "after"):
            await alice.say(room, text)
        await adapter.sync_once(0)
        moved = adapter.position
        handed.clear()
        await adapter.sync_once(0)  # nothing new: the poison is not handed over again
        await adapter.close()
        await alice.close()
        return room, before, moved

    room, before, moved = run(go())
    assert moved != before
    assert ConnectionStore(app.db, config.source).state()["next_batch"] == moved
    assert not any("poison" in batch for batch in handed)
    with app.db.connect() as conn:
        texts = conn.execute(
            select(events_table.c.text)
            .where(events_table.c.chat_id == room)
            .where(events_table.c.kind == EventKind.MESSAGE.value)
            .order_by(events_table.c.seq)
        ).all()
        kept = conn.execute(select(rejected_events)).all()
    assert [t.text for t in texts] == ["before", "after"]
    assert len(kept) == 1 and kept[0].source == config.source
    assert json.loads(kept[0].raw)["text"] == "poison"
    assert kept[0].error == "ValueError: cannot store this one"


def test_an_invite_the_bot_cannot_join_is_kept_and_tried_later_not_on_every_sync(
    synapse: Synapse, make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(features=())
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot)
    start = datetime.now(UTC)
    clock = ManualClock(start)
    joins: list[str] = []

    async def go() -> dict[str, Any]:
        adapter = make_adapter(app.db, config, app.handle, clock=clock)
        await adapter.connect()
        assert adapter.client is not None
        join = adapter.client.join

        async def counted(room_id: str) -> Any:
            joins.append(room_id)
            return await join(room_id)

        adapter.client.join = counted
        await adapter.sync_once()
        (alice,) = await people(synapse, 1)
        # alice invites the bot, then leaves: nobody is left in the room to let the bot in
        made = await alice.client.room_create(name="Gone", invite=[bot.user_id])
        assert isinstance(made, RoomCreateResponse), made
        left = await alice.client.room_leave(made.room_id)
        assert isinstance(left, RoomLeaveResponse), left
        before = adapter.position
        await adapter.sync_once(0)
        out: dict[str, Any] = {"room": made.room_id, "before": before}
        out["moved"] = adapter.position
        out["record"] = dict(ConnectionStore(app.db, config.source).state()["join_failed"])
        out["joins_first"] = len(joins)
        await adapter.sync_once(0)
        await adapter.sync_once(0)
        out["joins_soon_after"] = len(joins)
        clock.advance(timedelta(seconds=JOIN_RETRY + 1))
        await adapter.sync_once(0)
        out["joins_later"] = len(joins)
        out["record_later"] = dict(adapter._state["join_failed"])
        await adapter.close()
        await alice.close()
        return out

    out = run(go())
    room = out["room"]
    assert out["moved"] != out["before"]  # the sync position moved on
    record = out["record"][room]
    assert record["tries"] == 1 and record["error"]
    assert datetime.fromisoformat(record["retry_at"]) == start + timedelta(seconds=JOIN_RETRY)
    assert out["joins_first"] == 1
    assert out["joins_soon_after"] == 1  # not tried again on every sync
    assert out["joins_later"] == 2  # tried again once its time came
    assert out["record_later"][room]["tries"] == 2
    assert f"cannot join {room}" in caplog.text
