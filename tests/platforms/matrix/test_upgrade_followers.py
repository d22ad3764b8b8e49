"""Members following their rooms' upgrades cost the homeserver no request each (QA review:
the follower check asked the homeserver, for every join in an upgraded room's replacement, the
member's state in each earlier room: a homeserver admin upgrading hundreds of rooms made
hundreds of requests a sync, each before the sync position moved). The bot knows the members
of the rooms it is in from the sync itself; an earlier room it is no longer in is asked once.
Real Synapse on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from groupops.domain.events import EventKind
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    make_adapter,
    owners_room,
    people,
    requests_of,
    settle,
    upgrade_room,
)
from tests.platforms.matrix.synapse import Synapse

ROOMS = 3


def _state_requests(made: list[tuple[str, str]]) -> list[str]:
    """The requests of room state (a member's, or a room's whole state)."""
    return [path for method, path in made if method == "GET" and "/state" in path]


def test_members_following_upgrades_cost_no_request_each(
    synapse: Synapse, database_url: str
) -> None:
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> dict[str, Any]:
        got = Collected()
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        await adapter.sync_once()
        alice, bob, carol, dave, erin = await people(synapse, 5)
        old = [await owners_room(alice, config.user_id, 100) for _ in range(ROOMS)]
        await settle(adapter, 2)  # the bot accepts the invitations
        for room in old:
            for member in (bob, carol, dave):
                await member.join(room)
        await settle(adapter, 1)
        new = [await upgrade_room(alice, room) for room in old]
        await settle(adapter, 2)  # the tombstones; the bot follows into the new rooms
        assert [adapter.platform_room(room) for room in old] == new
        made = requests_of(adapter)
        for room in new:
            for member in (bob, carol):
                await member.join(room)
        await settle(adapter, 2)
        out: dict[str, Any] = {"running": _state_requests(made)}
        # the bot out of the earlier rooms, then a restart: it no longer holds their members
        for room in old:
            await adapter.client.room_leave(room)  # type: ignore[union-attr]
        await settle(adapter, 1)
        await adapter.close()
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        await adapter.sync_once(0)
        made = requests_of(adapter)
        for room in new:
            for member in (dave, erin):
                await member.join(room)
        await settle(adapter, 2)
        out["restarted"] = _state_requests(made)
        await adapter.close()
        for p in (alice, bob, carol, dave, erin):
            await p.close()
        out.update(
            events=got.events,
            old=old,
            followers={bob.user_id, carol.user_id, dave.user_id},
            erin=erin.user_id,
        )
        return out

    r = run(scenario())
    assert r["running"] == []  # six members followed: the bot knew them all
    assert len(r["restarted"]) == ROOMS  # once per earlier room, not once per member
    joined = [
        (e.chat_id, e.user_id)
        for e in r["events"]
        if e.kind == EventKind.MEMBER_JOINED and e.user_id in {*r["followers"], r["erin"]}
    ]
    # the followers joined once each (the old rooms); erin, never there, is a newcomer
    followers = {(room, user) for room in r["old"] for user in r["followers"]}
    assert sorted(joined) == sorted([*followers, *((room, r["erin"]) for room in r["old"])])
