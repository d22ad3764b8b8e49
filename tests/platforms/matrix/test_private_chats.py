"""Private chats between the bot and one person: the bot makes one room per person however
many private messages go out at once, and keeps at most ``max_private_chats`` that people
opened with it, one each. Real Synapse on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from nio import RoomCreateResponse, RoomGetStateEventResponse, SyncResponse
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import InvalidSettings
from groupops.platforms.matrix.config import MAX_PRIVATE_CHATS, MatrixConfig
from groupops.platforms.matrix.sync import (
    LEAVE_WORDS,
    ONE_PRIVATE_CHAT_EACH,
    TOO_MANY_PRIVATE_CHATS,
)
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from tests.platforms.matrix.conftest import Person, new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    make_adapter,
    people,
    settle,
)
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


async def bot_membership(person: Person, room_id: str, bot: str) -> tuple[str, str]:
    """The bot's membership in ``room_id`` as ``person`` reads it, and its reason."""
    answer = await person.client.room_get_state_event(room_id, "m.room.member", bot)
    assert isinstance(answer, RoomGetStateEventResponse), answer
    return str(answer.content.get("membership")), str(answer.content.get("reason") or "")


async def open_private_chat(person: Person, bot: str) -> str:
    made = await person.client.room_create(is_direct=True, invite=[bot])
    assert isinstance(made, RoomCreateResponse), made
    return str(made.room_id)


def test_private_chats_people_open_are_bounded_and_one_each(synapse: Synapse, db: Engine) -> None:
    """Without invited_by anyone could open private chats with the bot, and it joined every
    one (a room to sync and hold each, as many as anyone cared to open). It keeps at most
    max_private_chats now, one per person; one more is declined with a word to the inviter
    and nothing of it reaches the engine. One its person left, the bot leaves too: that place
    is free again."""
    got = Collected()
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot, max_private_chats=2, group_language="en")

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        await adapter.sync_once()
        a, b, c = await people(synapse, 3)
        rooms = {"a": await open_private_chat(a, bot.user_id)}
        await settle(adapter, 3)
        rooms["b"] = await open_private_chat(b, bot.user_id)
        await settle(adapter, 3)
        rooms["c"] = await open_private_chat(c, bot.user_id)  # one too many
        rooms["b2"] = await open_private_chat(b, bot.user_id)  # b's second
        await settle(adapter, 3)
        out: dict[str, Any] = {"rooms": rooms}
        for who, person in (("a", a), ("b", b), ("c", c), ("b2", b)):
            out[who] = await bot_membership(person, rooms[who], bot.user_id)
        out["held"] = sorted(adapter._private_chats())
        left = await a.client.room_leave(rooms["a"])  # a is done with the bot
        assert type(left).__name__ == "RoomLeaveResponse", left
        await settle(adapter, 3)
        out["held_after"] = sorted(adapter._private_chats())
        rooms["c2"] = await open_private_chat(c, bot.user_id)  # a's place is free
        await settle(adapter, 3)
        await c.say(rooms["c2"], "hello bot")
        await settle(adapter, 2)
        out["c2"] = await bot_membership(c, rooms["c2"], bot.user_id)
        out["leaving"] = dict(adapter._state["leaving"])
        await adapter.close()
        for person in (a, b, c):
            await person.close()
        return out

    out = run(go())
    rooms = out["rooms"]
    assert out["a"] == ("join", "") and out["b"] == ("join", "")
    assert out["c"] == ("leave", LEAVE_WORDS[TOO_MANY_PRIVATE_CHATS])
    assert out["b2"] == ("leave", LEAVE_WORDS[ONE_PRIVATE_CHAT_EACH])
    assert out["held"] == sorted([rooms["a"], rooms["b"]])
    assert out["held_after"] == [rooms["b"]]  # the bot left a's too
    assert out["leaving"][rooms["a"]] == {"why": "alone", "left": True}
    assert out["c2"] == ("join", "")
    assert not any(got.of(room) for room in rooms.values())  # no group, no event


def test_max_private_chats_is_checked_and_has_a_default() -> None:
    config = MatrixConfig("https://matrix.example.org", "@bot:example.org", password="x")
    assert config.max_private_chats == MAX_PRIVATE_CHATS
    assert (
        MatrixConfig.from_json({**config.to_json(), "max_private_chats": 0}).max_private_chats == 0
    )
    for wrong in (-1, 100_001, 2.5, True, "10"):
        with pytest.raises(InvalidSettings, match="max_private_chats"):
            MatrixConfig.from_json({**config.to_json(), "max_private_chats": wrong})


def test_a_private_chat_the_bot_is_no_longer_in_holds_no_place(
    synapse: Synapse, db: Engine
) -> None:
    """A private chat the bot was removed from while it was away (or one an earlier version
    kept after it was left) is forgotten at the next start: it holds no place under
    max_private_chats."""
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot, max_private_chats=1)

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, Collected())
        adapter.store.save_state({"direct_rooms": ["!gone:groupops.test"]})
        await adapter.connect()
        await adapter.sync_once()  # a start's first sync: every room the bot is in
        (a,) = await people(synapse, 1)
        room = await open_private_chat(a, bot.user_id)
        await settle(adapter, 3)
        out = {
            "room": room,
            "held": adapter._private_chats(),
            "in": await bot_membership(a, room, bot.user_id),
        }
        await adapter.close()
        await a.close()
        return out

    out = run(go())
    assert out["in"] == ("join", "")
    assert out["held"] == [out["room"]]
