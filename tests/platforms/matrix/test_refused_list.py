"""The connection's refused list tells the whole truth: a private chat declined past
``max_private_chats`` is in it (people tried to talk to the bot and were turned away), and a
room the bot is in is not, however it got in. Real Synapse on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from groupops.platforms.connections import (
    NOT_ON_LIST,
    TOO_MANY_PRIVATE_CHATS,
    list_connections,
)
from groupops.platforms.matrix import MatrixAdapter
from groupops.platforms.matrix.leaving import MAX_REFUSED, TOO_MANY_GROUPS
from groupops.platforms.matrix.sync import SYNC_FILTER
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

#: the events of a room a sync gives at most (SYNC_FILTER's timeline limit)
TIMELINE_LIMIT = int(SYNC_FILTER["room"]["timeline"]["limit"])


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
    carol's private chat are declined and listed. Carol writes on (her first invitation
    falls out of the timeline the bot's next sync gives), then each is invited to again
    (not marked direct) and joined in another client of the bot's account before the bot
    syncs (as an operator would in Element): the bot is in both, so neither is refused any
    more, nor being left; what bob says in his group afterwards is read as the group's, and
    carol's room is still a private chat (its refused record said so), not read as a group."""
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
        for n in range(TIMELINE_LIMIT):  # the first invitation is out of the joining sync
            await carol.say(rooms["private"], f"anyone there? {n}")
        elsewhere = await Person(synapse, bot).login()  # the bot's account, another client
        for person, room in ((bob, rooms["group"]), (carol, rooms["private"])):
            invited = await person.client.room_invite(room, bot.user_id)
            assert type(invited).__name__ == "RoomInviteResponse", invited
            await elsewhere.join(room)
        await settle(adapter, 2)
        await bob.say(rooms["group"], "hello everyone")
        await carol.say(rooms["private"], "hello bot")
        await settle(adapter, 2)
        out["direct"] = adapter.direct_rooms()
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
    # invited again without is_direct, the private chat is still one: its refused record
    # knew, so it is no group and what carol says there is not read
    assert rooms["private"] in out["direct"] and rooms["group"] not in out["direct"]
    assert got.of(rooms["private"]) == []


def dave_refused(
    synapse: Synapse, db: Engine, before: Callable[[MatrixAdapter], None] = lambda _: None
) -> dict[str, Any]:
    """invited_by names someone else (``before`` done to the connected bot): dave, on no
    list and in no group, invites the bot into a group ("Dave's") and opens a private chat
    with it; both are refused. The rooms, dave, the bot's membership in each, and the
    refused records as the bot keeps them."""
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot, invited_by=("@*:elsewhere.example",), group_language="en")

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        before(adapter)
        (dave,) = await people(synapse, 1)
        rooms = {"group": await invite_bot(dave, bot.user_id, "Dave's")}
        rooms["private"] = await invite_bot(dave, bot.user_id, "", is_direct=True)
        await settle(adapter, 3)
        out: dict[str, Any] = {"rooms": rooms, "dave": dave.user_id}
        out["in"] = {k: (await bot_in(dave, r, bot.user_id))[0] for k, r in rooms.items()}
        out["kept"] = dict(adapter._state["refused"])
        await close_all(adapter, dave)
        return out

    return run(go())


def test_a_private_chat_refused_for_invited_by_is_listed_as_a_private_chat(
    synapse: Synapse, db: Engine, database_url: str
) -> None:
    """Dave's group and dave's private chat are both refused for the list. The group is
    under the groups' heading, the private chat under its own (it is no group, and a member
    of a group could have opened one), in English and Chinese; --json says which was
    direct."""
    out = dave_refused(synapse, db)
    rooms, dave = out["rooms"], out["dave"]
    assert out["in"] == {"group": "leave", "private": "leave"}
    listed = {
        r["chat_id"]: r
        for r in json.loads(connections_output(database_url, "--json"))[0]["refused"]
    }
    assert {r: (one["why"], one["direct"]) for r, one in listed.items()} == {
        rooms["group"]: (NOT_ON_LIST, False),
        rooms["private"]: (NOT_ON_LIST, True),
    }
    at = {k: listed[r]["at"][:16].replace("T", " ") + " UTC" for k, r in rooms.items()}
    en, zh = connections_said(database_url, "en"), connections_said(database_url, "zh_CN")
    groups = "left the groups someone not on its list brought it into (1, latest first):"
    private = (
        "declined the private chats opened with it by people neither on its list nor in a"
        " group it is in (1, latest first):"
    )
    assert f"{groups} {rooms['group']} “Dave's”, by {dave} at {at['group']}" in en, en
    assert f"{private} {rooms['private']}, by {dave} at {at['private']}" in en, en
    assert "被名单以外的人拉进以下群，已退出（共 1 个，最近的在前）：" in zh, zh
    assert (
        "谢绝了以下私聊：发起的人既不在名单上，也不在它所在的任何群里（共 1 个，最近的在前）："
        f" {rooms['private']}，由 {dave} 拉入" in zh
    ), zh


def test_a_flood_of_one_kind_never_pushes_the_other_off_the_refused_list(
    synapse: Synapse, db: Engine
) -> None:
    """The list keeps MAX_REFUSED of each kind: with as many group refusals and as many
    private-chat declines kept already, dave's refused group and refused private chat each
    push out the oldest of their own kind only."""

    def full(adapter: MatrixAdapter) -> None:
        refused = adapter._state.setdefault("refused", {})
        for n in range(MAX_REFUSED):
            refused[f"!g{n}:x"] = {"by": "@a:x", "at": "2026-01-01", "why": TOO_MANY_GROUPS}
        for n in range(MAX_REFUSED):
            refused[f"!d{n}:x"] = {"by": "@b:x", "at": "2026-01-02", "direct": True}

    out = dave_refused(synapse, db, full)
    kept, rooms = out["kept"], out["rooms"]
    groups = [r for r, one in kept.items() if not one.get("direct")]
    private = [r for r, one in kept.items() if one.get("direct")]
    assert len(groups) == MAX_REFUSED and len(private) == MAX_REFUSED
    assert groups[-1] == rooms["group"] and private[-1] == rooms["private"]
    assert "!g0:x" not in kept and "!g1:x" in kept  # the oldest of each kind went
    assert "!d0:x" not in kept and "!d1:x" in kept
