"""Private chats between the bot and one person: the bot makes one room per person however
many private messages go out at once. Real Synapse on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from nio import SyncResponse
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from tests.platforms.matrix.conftest import Person, new_account, run
from tests.platforms.matrix.helpers import Collected, bot_config, bot_room, make_adapter, people
from tests.platforms.matrix.synapse import Synapse


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


async def invitations(person: Person) -> set[str]:
    """The rooms ``person`` is invited to and has not answered."""
    answer = await person.client.sync(timeout=0)
    assert isinstance(answer, SyncResponse), answer
    return set(answer.rooms.invite)


def test_two_private_messages_at_once_make_one_private_room(synapse: Synapse, db: Engine) -> None:
    """The deliverer sends to several chats at once: two private messages to the same
    person from two groups, neither finding a room, each made one (two invitations, the
    second room remembered). The second now waits for the first's room and writes there."""

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected())
        await adapter.connect()
        await adapter.sync_once()
        groups = [await bot_room(adapter, "One"), await bot_room(adapter, "Two")]
        (alice,) = await people(synapse, 1)
        for group in groups:
            await alice.join(group)

        async def dm(group: str, text: str) -> Any:
            action = Action(
                ActionKind.DIRECT_MESSAGE, adapter.source, group, user_id=alice.user_id, text=text
            )
            return await adapter.perform(action, idempotency_key=f"outbox:{text}")

        first, second = await asyncio.gather(
            dm(groups[0], "welcome to One"), dm(groups[1], "welcome to Two")
        )
        out = {
            "rooms": {first.data["room_id"], second.data["room_id"]},
            "invited": await invitations(alice),
            "stored": dict(adapter._state["dm_rooms"]),
            "alice": alice.user_id,
            "locks": len(adapter._dm_locks),
        }
        room = first.data["room_id"]
        await alice.join(room)
        bodies = [r["content"].get("body") for r in await alice.events(room)]
        out["bodies"] = [b for b in bodies if b]
        await adapter.close()
        await alice.close()
        return out

    out = run(go())
    assert len(out["rooms"]) == 1  # one room for both messages
    (room,) = out["rooms"]
    assert out["invited"] == {room}  # alice was invited once
    assert out["stored"] == {out["alice"]: room}
    assert sorted(out["bodies"]) == ["welcome to One", "welcome to Two"]
    assert out["locks"] == 0  # nothing kept per person once done
