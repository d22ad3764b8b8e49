"""The connection live, as ``groupops serve`` runs it: the App's loops, the Matrix companion,
a real feature (welcome) answering a member who joins a room on a real Synapse."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from nio import ProfileSetDisplayNameResponse, RoomPreset

from groupops.engine.app import App
from groupops.platforms.connections import live_companions
from groupops.platforms.matrix import ConnectionStore
from groupops.platforms.matrix.config import connect
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import bot_config, people
from tests.platforms.matrix.synapse import Synapse

NEWCOMER = "小林 Lin"


def test_companion_runs_the_connection_in_the_live_app(synapse: Synapse, database_url: str) -> None:
    app = App.create(
        database_url, features=("groupops.features.welcome:WelcomeFeature",), extensions=False
    )
    bot = new_account(synapse, "bot")
    config = connect(app.db, bot_config(synapse, bot), datetime.now(UTC))
    # a connection row without usable settings is skipped, not fatal
    ConnectionStore(app.db, "matrix:@broken:x").ensure(config, datetime.now(UTC))
    with app.db.begin() as conn:
        from sqlalchemy import update

        from groupops.storage.tables import connections

        conn.execute(
            update(connections).where(connections.c.id == "matrix:@broken:x").values(config={})
        )

    async def scenario() -> list[str]:
        companions = live_companions(app.db)
        assert [c.name for c in companions] == [config.source]
        (companion,) = companions
        assert companion.prepare is not None
        companion.prepare(app)
        adapter = app.platforms.get(config.source)
        assert adapter is not None
        # an event the engine refuses is set aside, not retried forever (QA code review #2)
        assert getattr(adapter, "reject", None) == app.engine.reject_event
        await app.start(tick_every=3600)
        stop = asyncio.Event()
        task: asyncio.Future[None] = asyncio.ensure_future(companion.run(app, stop))
        (owner, newcomer) = await people(synapse, 2)
        named = await newcomer.client.set_displayname(NEWCOMER)
        assert isinstance(named, ProfileSetDisplayNameResponse), named
        # the owner makes a room and invites the bot, which joins by itself
        made = await owner.client.room_create(
            name="Live group", invite=[bot.user_id], preset=RoomPreset.public_chat
        )
        room = made.room_id
        for _ in range(100):
            members = await owner.client.joined_members(room)
            if bot.user_id in {m.user_id for m in members.members}:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the bot did not join the room it was invited to")
        await newcomer.join(room)
        seen = await owner.wait_for(
            room, lambda r: r["sender"] == bot.user_id and r["type"] == "m.room.message", 30
        )
        stop.set()
        await asyncio.wait_for(task, 20)
        await app.stop()
        for p in (owner, newcomer):
            await p.close()
        return [seen["content"]["body"]]

    try:
        (welcome,) = run(scenario())
    finally:
        app.close()
    # the welcome feature's greeting and its intro prompt (in the group's language, zh_CN by
    # default), delivered through Matrix, naming the newcomer by their display name and the
    # room by its name
    assert welcome == (
        f"欢迎 {NEWCOMER} 加入「Live group」！🎉\n请简单介绍一下自己：你是谁，为什么加入本群？"
    )
