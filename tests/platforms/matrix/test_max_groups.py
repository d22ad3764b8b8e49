"""How many groups the bot is in (``max_groups``): with no ``invited_by`` anyone could invite
the bot into as many rooms as they cared to make, and it joined every one. An invitation past
the bound is declined with a word to the inviter; a group the bot is out of frees its place.
Real Synapse on 127.0.0.1."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import Engine

from groupops.domain.errors import InvalidSettings
from groupops.i18n import Catalogs
from groupops.platforms.connections import NOT_ON_LIST, list_connections
from groupops.platforms.matrix.config import MAX_GROUPS, MatrixConfig
from groupops.platforms.matrix.leaving import LEAVE_WORDS, TOO_MANY_GROUPS
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
    owners_room,
    people,
    settle,
    upgrade_room,
)
from tests.platforms.matrix.synapse import Synapse


def test_groups_past_max_groups_are_declined_with_a_word(synapse: Synapse, db: Engine) -> None:
    """max_groups 2, the bot in one group it made: of two invitations in one sync the first is
    joined and the second declined, in the connection's language (zh_CN), and nothing of it
    reaches the engine. A private chat is no group: taken. The bot removed from a group, its
    place is free; the operator raising the bound (a reload: a new client) lets one more in,
    and the next is declined again."""
    got = Collected()
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot, max_groups=2, group_language="zh_CN")

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        await adapter.sync_once()
        own = await bot_room(adapter, "The bot's own")
        alice, bob = await people(synapse, 2)
        rooms = {"own": own, "a": await invite_bot(alice, bot.user_id, "A")}
        rooms["b"] = await invite_bot(bob, bot.user_id, "B")  # the same sync: one too many
        await settle(adapter, 3)
        await bob.say(rooms["b"], "hello bot")
        private = await invite_bot(bob, bot.user_id, "", is_direct=True)
        await settle(adapter, 3)
        out: dict[str, Any] = {"rooms": rooms}
        out["a"] = await bot_in(alice, rooms["a"], bot.user_id)
        out["b"] = await bot_in(bob, rooms["b"], bot.user_id)
        out["private"] = await bot_in(bob, private, bot.user_id)
        out["held"] = adapter._groups(())
        kicked = await alice.client.room_kick(rooms["a"], bot.user_id)  # a's place is free
        assert type(kicked).__name__ == "RoomKickResponse", kicked
        await settle(adapter, 2)
        rooms["c"] = await invite_bot(bob, bot.user_id, "C")
        await settle(adapter, 3)
        out["c"] = await bot_in(bob, rooms["c"], bot.user_id)
        await bob.say(rooms["c"], "hello group")
        adapter.store.save_config(replace(adapter.config, max_groups=3))  # connect again
        assert await adapter.reload()
        await adapter.connect()
        rooms["d"] = await invite_bot(bob, bot.user_id, "D")
        await settle(adapter, 3)
        rooms["e"] = await invite_bot(alice, bot.user_id, "E")
        await settle(adapter, 3)
        out["d"] = await bot_in(bob, rooms["d"], bot.user_id)
        out["e"] = await bot_in(alice, rooms["e"], bot.user_id)
        out["leaving"] = dict(adapter._state["leaving"])
        await adapter.close()
        for person in (alice, bob):
            await person.close()
        return out

    out = run(go())
    rooms = out["rooms"]
    declined = Catalogs().gettext("zh_CN")(LEAVE_WORDS[TOO_MANY_GROUPS])
    assert declined != LEAVE_WORDS[TOO_MANY_GROUPS]  # said in Chinese
    assert out["a"] == ("join", "")
    assert out["b"] == ("leave", declined)
    assert out["private"] == ("join", "")
    assert out["held"] == {rooms["own"], rooms["a"]}
    assert out["c"] == ("join", "")
    assert out["d"] == ("join", "")  # three now
    assert out["e"] == ("leave", declined)
    for room in ("b", "e"):
        assert out["leaving"][rooms[room]] == {"why": TOO_MANY_GROUPS, "left": True}
    assert not got.of(rooms["b"]) and not got.of(rooms["e"])  # no group, no event
    assert [e.text for e in got.of(rooms["c"])] == ["hello group"]  # a group


def test_groups_declined_past_max_groups_are_in_the_connections_refused_list(
    synapse: Synapse, db: Engine, database_url: str
) -> None:
    """max_groups 1 and the bot in its own group: bob's invitation to B is declined, and the
    operator sees it in the connection's refused list (room, who, when, why: too many groups)
    and in `groupops connections`, in English and Chinese, apart from carol's invitation,
    refused as she is not on invited_by. Once the bot is out of its group, bob's invitation
    to B again is taken: B is joined and off the list."""
    bot = new_account(synapse, "bot")
    accounts = [new_account(synapse, name) for name in ("bob", "carol")]
    config = bot_config(synapse, bot, max_groups=1, invited_by=(accounts[0].user_id,))

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        own = await bot_room(adapter, "The bot's own")
        bob, carol = [await Person(synapse, a).login() for a in accounts]
        room = await invite_bot(bob, bot.user_id, "B")
        await settle(adapter, 2)
        theirs = await invite_bot(carol, bot.user_id, "C")
        await settle(adapter, 3)
        out: dict[str, Any] = {"room": room, "theirs": theirs, "bob": bob.user_id}
        out["declined"] = await bot_in(bob, room, bot.user_id)
        out["listed"] = list_connections(db)[0]["refused"]
        out["en"] = connections_said(database_url, "en")
        out["zh"] = connections_said(database_url, "zh_CN")
        out["json"] = json.loads(connections_output(database_url, "--json"))[0]["refused"]
        left = await adapter._client().room_leave(own)  # a place is free
        assert type(left).__name__ == "RoomLeaveResponse", left
        await settle(adapter, 2)
        invited = await bob.client.room_invite(room, bot.user_id)
        assert type(invited).__name__ == "RoomInviteResponse", invited
        await settle(adapter, 3)
        out["joined"] = await bot_in(bob, room, bot.user_id)
        out["after"] = list_connections(db)[0]["refused"]
        await close_all(adapter, bob, carol)
        return out

    out = run(go())
    room = out["room"]
    assert out["declined"][0] == "leave"
    other, one = out["listed"]  # latest first
    assert other["chat_id"] == out["theirs"] and other["why"] == NOT_ON_LIST
    assert one["chat_id"] == room and one["title"] == "B" and one["by"] == out["bob"]
    assert one["why"] == TOO_MANY_GROUPS and one["left"] is True and one["at"]
    assert out["json"] == out["listed"]
    at = one["at"][:16].replace("T", " ") + " UTC"
    assert "declined the groups it was invited into past its --max-groups" in out["en"]
    assert f"(1, latest first): {room} “B”, by {out['bob']} at {at}" in out["en"], out["en"]
    refused_for_the_list = "left the groups someone not on its list brought it into (1, "
    assert f"{refused_for_the_list}latest first): {out['theirs']} “C”" in out["en"], out["en"]
    assert "谢绝了以下群的邀请（共 1 个" in out["zh"], out["zh"]
    assert f"{room} “B”，由 {out['bob']} 拉入，时间 {at}" in out["zh"], out["zh"]
    assert out["joined"] == ("join", "")
    assert [r["chat_id"] for r in out["after"]] == [out["theirs"]]


def test_an_upgraded_group_is_one_and_followed_at_the_bound(synapse: Synapse, db: Engine) -> None:
    """max_groups 1 and the bot in alice's group: the room upgraded, the bot follows into the
    new room all the same (the same group), the two rooms count once, and an invitation to
    another group is declined."""
    bot = new_account(synapse, "bot")
    config = bot_config(synapse, bot, max_groups=1, group_language="en")

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        (alice,) = await people(synapse, 1)
        old = await owners_room(alice, bot.user_id, 100)
        await settle(adapter, 2)
        new = await upgrade_room(alice, old)
        await settle(adapter, 3)
        other = await invite_bot(alice, bot.user_id, "Another group")
        await settle(adapter, 3)
        out = {
            "old": old,
            "followed": adapter.platform_room(old) == new,
            "new": await bot_in(alice, new, bot.user_id),
            "other": await bot_in(alice, other, bot.user_id),
            "held": adapter._groups(()),
        }
        await adapter.close()
        await alice.close()
        return out

    out = run(go())
    assert out["followed"] and out["new"] == ("join", "")
    assert out["held"] == {out["old"]}  # one group, named by its first room
    assert out["other"] == ("leave", LEAVE_WORDS[TOO_MANY_GROUPS])


def test_max_groups_is_checked_and_has_a_default() -> None:
    config = MatrixConfig("https://matrix.example.org", "@bot:example.org", password="x")
    assert config.max_groups == MAX_GROUPS
    assert MatrixConfig.from_json({**config.to_json(), "max_groups": 0}).max_groups == 0
    for wrong in (-1, 100_001, 2.5, True, "10"):
        with pytest.raises(InvalidSettings, match="max_groups"):
            MatrixConfig.from_json({**config.to_json(), "max_groups": wrong})
