"""The connection's refused list tells the whole truth: a private chat declined past
``max_private_chats`` is in it (people tried to talk to the bot and were turned away), and a
room the bot is in is not, however it got in. Real Synapse on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

from groupops.platforms.connections import TOO_MANY_PRIVATE_CHATS, list_connections
from groupops.platforms.matrix.leaving import TOO_MANY_GROUPS
from tests.platforms.matrix.conftest import Person, new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_in,
    bot_room,
    close_all,
    connections_output,
    connections_said,
    invite_bot,
    make_adapter,
    people,
    settle,
)
from tests.platforms.matrix.synapse import Synapse


def test_private_chats_declined_past_max_private_chats_are_in_the_refused_list(
    synapse: Synapse, db: Engine, database_url: str
) -> None:
    """max_private_chats 1: alice's private chat is taken, carol's is declined for the bound
    and listed (room, who, when, why: too many private chats) under a heading of its own,
    in English and Chinese, and in --json. Alice's second private chat, declined as she has
    one, is not listed: she was not turned away."""
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot, max_private_chats=1, group_language="en")

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        alice, carol = await people(synapse, 2)
        rooms = {"alice": await invite_bot(alice, bot.user_id, "", is_direct=True)}
        await settle(adapter, 3)
        rooms["carol"] = await invite_bot(carol, bot.user_id, "", is_direct=True)
        rooms["alice2"] = await invite_bot(alice, bot.user_id, "", is_direct=True)
        await settle(adapter, 3)
        out: dict[str, Any] = {"rooms": rooms, "carol_id": carol.user_id}
        for who, person in (("alice", alice), ("carol", carol), ("alice2", alice)):
            out[who] = await bot_in(person, rooms[who], bot.user_id)
        out["listed"] = list_connections(db)[0]["refused"]
        await close_all(adapter, alice, carol)
        return out

    out = run(go())
    rooms = out["rooms"]
    assert out["alice"][0] == "join"
    assert out["carol"][0] == "leave" and out["alice2"][0] == "leave"
    (one,) = out["listed"]
    assert one["chat_id"] == rooms["carol"] and one["by"] == out["carol_id"]
    assert one["why"] == TOO_MANY_PRIVATE_CHATS and one["left"] is True and one["at"]
    assert one["title"] == ""
    assert json.loads(connections_output(database_url, "--json"))[0]["refused"] == out["listed"]
    at = one["at"][:16].replace("T", " ") + " UTC"
    en, zh = connections_said(database_url, "en"), connections_said(database_url, "zh_CN")
    heading = (
        "declined the private chats people opened with it past its --max-private-chats,"
        " having as many open as it may (1, latest first):"
    )
    assert f"{heading} {rooms['carol']}, by {out['carol_id']} at {at}" in en, en
    assert "brought it into" not in en and "--max-groups" not in en, en  # no other heading
    assert "谢绝了以下私聊邀请（共 1 个，最近的在前）：" in zh, zh
    assert f"{rooms['carol']}，由 {out['carol_id']} 拉入，时间 {at}" in zh, zh


def test_a_room_the_bot_is_in_is_not_refused_however_it_got_in(
    synapse: Synapse, db: Engine
) -> None:
    """max_groups 1 (the bot in its own group) and max_private_chats 0: bob's group and
    carol's private chat are declined and listed. Each is then invited to again and joined
    in another client of the bot's account before the bot syncs (as an operator would in
    Element): the bot is in both, so neither is refused any more, nor being left, and what
    bob says in his group afterwards is read as the group's."""
    got = Collected()
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot, max_groups=1, max_private_chats=0, group_language="en")

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        await adapter.sync_once()
        await bot_room(adapter, "The bot's own")
        bob, carol = await people(synapse, 2)
        rooms = {"group": await invite_bot(bob, bot.user_id, "B")}
        rooms["private"] = await invite_bot(carol, bot.user_id, "", is_direct=True)
        await settle(adapter, 3)
        out: dict[str, Any] = {"rooms": rooms}
        out["declined"] = {r["chat_id"]: r["why"] for r in list_connections(db)[0]["refused"]}
        elsewhere = await Person(synapse, bot).login()  # the bot's account, another client
        for person, room in ((bob, rooms["group"]), (carol, rooms["private"])):
            invited = await person.client.room_invite(room, bot.user_id)
            assert type(invited).__name__ == "RoomInviteResponse", invited
            await elsewhere.join(room)
        await settle(adapter, 2)
        await bob.say(rooms["group"], "hello everyone")
        await settle(adapter, 2)
        out["group"] = await bot_in(bob, rooms["group"], bot.user_id)
        out["private"] = await bot_in(carol, rooms["private"], bot.user_id)
        out["after"] = list_connections(db)[0]["refused"]
        out["leaving"] = set(adapter._state.get("leaving") or {})
        await close_all(adapter, bob, carol, elsewhere)
        return out

    out = run(go())
    rooms = out["rooms"]
    assert out["declined"] == {
        rooms["group"]: TOO_MANY_GROUPS,
        rooms["private"]: TOO_MANY_PRIVATE_CHATS,
    }
    assert out["group"] == ("join", "") and out["private"] == ("join", "")
    assert out["after"] == []
    assert not out["leaving"] & set(rooms.values())
    assert [e.text for e in got.of(rooms["group"])] == ["hello everyone"]
