"""Groups an earlier version took for private chats are groups again after a start (QA review):
before d937b9a any member's own member event carrying ``is_direct`` made the bot note the room
as a private chat in the connection's state, and stop reading it for good. A start now looks at
each noted room once: it stays a private chat only if the bot's own invitation said
``is_direct`` (the spec's place for it). Real Synapse on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import pytest
from nio import RoomCreateResponse

from groupops.domain.events import EventKind
from groupops.platforms.matrix import ConnectionStore
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    make_adapter,
    people,
    requests_of,
    settle,
)
from tests.platforms.matrix.synapse import Synapse


def test_rooms_wrongly_noted_as_private_chats_are_groups_again(
    synapse: Synapse, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> dict[str, Any]:
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        (alice,) = await people(synapse, 1)
        made = await bot_room(adapter, "Made by the bot")  # joined with no invitation
        await alice.join(made)
        invited = await alice.client.room_create(name="Alice's group", invite=[config.user_id])
        dm = await alice.client.room_create(is_direct=True, invite=[config.user_id])
        assert isinstance(invited, RoomCreateResponse), invited
        assert isinstance(dm, RoomCreateResponse), dm
        await settle(adapter, 2)  # the bot accepts both invitations
        # the bot's profile changes: its membership events are joins after joins now, the
        # invitation one event further back
        await adapter.client.set_displayname("Group bot")  # type: ignore[union-attr]
        await settle(adapter, 1)
        await adapter.close()
        # what an earlier version stored after members sent is_direct in both groups
        store = ConnectionStore(db, config.source)
        state = store.state()
        assert state["direct_rooms"] == [dm.room_id]
        state["direct_rooms"] = [made, invited.room_id, dm.room_id]
        state.pop("direct_checked", None)
        store.save_state(state)

        got = Collected()
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        asked = requests_of(adapter)
        await adapter.sync_once(0)  # a start's first sync
        hops = [path for method, path in asked if "/event/" in path]
        said = {
            room: await alice.say(room, f"hello {room}")
            for room in (made, invited.room_id, dm.room_id)
        }
        await settle(adapter, 2)
        await adapter.close()
        repaired = store.state()
        # another start looks at nothing again
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        asked = requests_of(adapter)
        await adapter.sync_once(0)
        await adapter.close()
        await alice.close()
        return {
            "events": got.events,
            "said": said,
            "state": repaired,
            "hops": hops,
            "asked_again": [path for method, path in asked if "/event/" in path],
            "made": made,
            "invited": invited.room_id,
            "dm": dm.room_id,
        }

    r = run(scenario())
    read = {e.chat_id: e.message_id for e in r["events"] if e.kind == EventKind.MESSAGE}
    assert read == {r["made"]: r["said"][r["made"]], r["invited"]: r["said"][r["invited"]]}
    assert r["state"]["direct_rooms"] == [r["dm"]]  # the real private chat stays one
    assert r["state"]["direct_checked"] == [r["dm"]]
    assert len(r["hops"]) == 3  # one step back past the profile change, in each room
    assert r["asked_again"] == []
    for room in (r["made"], r["invited"]):
        assert f"{room} was taken for a private chat by an earlier version" in caplog.text
