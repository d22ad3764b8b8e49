"""The sync position: a restart replays nothing and loses nothing (real Synapse, real engine)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select

from groupops.domain.errors import PlatformError
from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.platforms.matrix import ConnectionStore
from groupops.platforms.matrix.sync import GAP_TRIES
from groupops.storage.tables import events as events_table
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    bot_config,
    bot_room,
    divert,
    error_front,
    make_adapter,
    people,
)
from tests.platforms.matrix.synapse import Synapse


class Counting:
    """``app.handle`` with a record of what it was handed (and a switch to make it fail)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.handed: list[str] = []
        self.fail = False

    def __call__(self, batch: Sequence[Event]) -> object:
        if self.fail:
            raise RuntimeError("the database is down")
        self.handed += [e.event_id for e in batch]
        return self.app.handle(batch)


def test_restart_replays_nothing_and_loses_nothing(
    synapse: Synapse,
    make_app: Callable[..., App],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    app = make_app(features=())
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot)
    handle = Counting(app)

    async def scenario() -> dict[str, Any]:
        first = make_adapter(app.db, config, handle)
        await first.connect()
        await first.sync_once()
        room = await bot_room(first)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        before = [await alice.say(room, f"before {i}") for i in range(3)]
        await first.sync_once(500)
        await first.sync_once(0)
        position = first.position
        await first.close()  # the bot process stops

        while_down = [await alice.say(room, f"while down {i}") for i in range(5)]

        # a new process: it reads its login and its position from the connection's row
        store = ConnectionStore(app.db, config.source)
        stored_config, stored_state = store.load()
        second = make_adapter(app.db, stored_config, handle)
        await second.connect()
        handle.fail = True  # the engine cannot commit: the position must not move
        with pytest.raises(RuntimeError):
            await second.sync_once(0)
        assert second.position == store.state()["next_batch"]
        handle.fail = False
        await second.sync_once(0)
        await second.sync_once(0)
        after = await alice.say(room, "after")
        stop = asyncio.Event()
        runner = asyncio.create_task(second.run(stop, timeout_ms=200))
        for _ in range(100):
            if after in handle.handed:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(runner, 10)
        await second.close()
        await alice.close()
        return {
            "room": room,
            "before": before,
            "while_down": while_down,
            "after": after,
            "position": position,
            "stored_state": stored_state,
            "stored_config": stored_config,
        }

    r = run(scenario())
    handed = handle.handed
    # what was processed before the stop is not handed over again
    for eid in r["before"]:
        assert handed.count(eid) == 1
    # what was said while the bot was down arrives once, in order, after the restart
    assert [handed.count(eid) for eid in r["while_down"]] == [1] * 5
    positions = [handed.index(eid) for eid in r["while_down"]]
    assert positions == sorted(positions)
    assert handed.count(r["after"]) == 1
    assert r["stored_state"]["next_batch"] == r["position"]
    # the engine stored each Matrix event once, under the Matrix event id
    with app.db.connect() as conn:
        rows = conn.execute(
            select(events_table.c.event_id, func.count())
            .where(events_table.c.kind == EventKind.MESSAGE.value)
            .group_by(events_table.c.event_id)
        ).all()
    counts: dict[str, int] = {str(k): int(v) for k, v in rows}
    assert set(counts) == {*r["before"], *r["while_down"], r["after"]}
    assert set(counts.values()) == {1}
    # the login was kept (no new device at each restart) and no secret reached the logs
    cfg = r["stored_config"]
    assert cfg.access_token and cfg.device_id
    for secret in (bot.password, cfg.access_token):
        assert secret not in caplog.text


def test_a_cut_timeline_is_filled_back_to_the_position(
    synapse: Synapse, make_app: Callable[..., App]
) -> None:
    """More messages while down than one sync's timeline holds (100): none is lost."""
    app = make_app(features=())
    config = bot_config(synapse, new_account(synapse, "bot"))
    handle = Counting(app)

    async def scenario() -> tuple[list[str], str]:
        adapter = make_adapter(app.db, config, handle)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        await adapter.sync_once(0)
        await adapter.close()
        said = [await alice.say(room, f"m{i}") for i in range(130)]
        again = make_adapter(app.db, ConnectionStore(app.db, config.source).load()[0], handle)
        await again.connect()
        await again.sync_once(0)
        await again.close()
        await alice.close()
        return said, room

    said, _room = run(scenario())
    got = [eid for eid in handle.handed if eid in set(said)]
    assert got == said  # all 130, once each, in order


@pytest.mark.parametrize(
    ("status", "errcode", "failing", "failed_syncs", "read"),
    [
        (403, "M_FORBIDDEN", 1, 0, 100),  # refused: given up at once
        (502, "M_UNKNOWN", GAP_TRIES - 1, GAP_TRIES - 1, 130),  # passing: tried again
        (502, "M_UNKNOWN", 50, GAP_TRIES - 1, 100),  # for good: given up after GAP_TRIES
    ],
    ids=["refused", "passing", "lasting"],
)
def test_a_gap_the_homeserver_will_not_give_does_not_stop_the_sync(
    status: int,
    errcode: str,
    failing: int,
    failed_syncs: int,
    read: int,
    synapse: Synapse,
    make_app: Callable[..., App],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A cut timeline whose missing part the homeserver does not give (``/messages`` answered
    an error): a passing failure fails the sync, which is tried again and loses nothing; a
    refusal, or a failure lasting GAP_TRIES syncs, gives the gap up and the room (and every
    other room) goes on with the timeline's own events. Before, each sync failed on it for
    good."""
    app = make_app(features=())
    config = bot_config(synapse, new_account(synapse, "bot"))
    handle = Counting(app)

    async def scenario() -> tuple[list[str], int, str | None, str | None]:
        adapter = make_adapter(app.db, config, handle)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        await adapter.sync_once(0)
        await adapter.close()
        said = [await alice.say(room, f"m{i}") for i in range(130)]
        again = make_adapter(app.db, ConnectionStore(app.db, config.source).load()[0], handle)
        await again.connect()
        before = again.position
        failed = 0
        with error_front(status, {"errcode": errcode, "error": "no"}) as front:
            divert(again, front, "GET", "/messages", times=failing)
            while True:
                try:
                    await again.sync_once(0)
                    break
                except PlatformError:
                    failed += 1
                    assert failed < GAP_TRIES, "the sync fails for good"
        moved = again.position
        await again.close()
        await alice.close()
        return said, failed, before, moved

    said, failed, before, moved = run(scenario())
    assert failed == failed_syncs
    assert moved != before
    got = [eid for eid in handle.handed if eid in set(said)]
    assert got == said[-read:]  # the latest, once each, in order
    if read < len(said):
        assert "the rest not filled in" in caplog.text
