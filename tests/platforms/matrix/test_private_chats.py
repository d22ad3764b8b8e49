"""Private chats between the bot and one person: the bot makes one room per person however
many private messages go out at once, and keeps at most ``max_private_chats`` that people
opened with it, one each. Real Synapse on 127.0.0.1."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from nio import JoinedRoomsResponse, RoomCreateResponse, SyncResponse
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import InvalidSettings, PlatformError
from groupops.platforms.matrix import deliver
from groupops.platforms.matrix.config import MAX_PRIVATE_CHATS, MatrixConfig
from groupops.platforms.matrix.homeserver import made_private_for
from groupops.platforms.matrix.sync import (
    LEAVE_WORDS,
    ONE_PRIVATE_CHAT_EACH,
    TOO_MANY_PRIVATE_CHATS,
)
from tests.platforms.matrix.conftest import Person, new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    answer_lost,
    bot_config,
    bot_in,
    bot_room,
    divert,
    make_adapter,
    people,
    settle,
)
from tests.platforms.matrix.synapse import Synapse


async def invitations(person: Person) -> set[str]:
    """The rooms ``person`` is invited to and has not answered."""
    answer = await person.client.sync(timeout=0)
    assert isinstance(answer, SyncResponse), answer
    return set(person.client.invited_rooms)


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
            out[who] = await bot_in(person, rooms[who], bot.user_id)
        out["held"] = sorted(adapter._private_chats())
        left = await a.client.room_leave(rooms["a"])  # a is done with the bot
        assert type(left).__name__ == "RoomLeaveResponse", left
        await settle(adapter, 3)
        out["held_after"] = sorted(adapter._private_chats())
        rooms["c2"] = await open_private_chat(c, bot.user_id)  # a's place is free
        await settle(adapter, 3)
        await c.say(rooms["c2"], "hello bot")
        await settle(adapter, 2)
        out["c2"] = await bot_in(c, rooms["c2"], bot.user_id)
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
            "in": await bot_in(a, room, bot.user_id),
        }
        await adapter.close()
        await a.close()
        return out

    out = run(go())
    assert out["in"] == ("join", "")
    assert out["held"] == [out["room"]]


class LostAnswer:
    """A bot with a group alice is in, whose private messages to alice go through
    ``perform``; :meth:`lost` sends one whose createRoom the homeserver carries out but
    whose answer is lost on the way back (the connection closed: a time-out, a proxy's 504)."""

    def __init__(self, synapse: Synapse, db: Engine) -> None:
        self.synapse, self.db = synapse, db
        self.config = bot_config(synapse, new_account(synapse, "bot"))
        self.got = Collected()

    async def start(self) -> None:
        self.adapter = make_adapter(self.db, self.config, self.got)
        await self.adapter.connect()
        await self.adapter.sync_once()
        self.group = await bot_room(self.adapter)
        (self.alice,) = await people(self.synapse, 1)
        await self.alice.join(self.group)
        await settle(self.adapter, 1)

    async def restart(self, *, earlier_version: bool = False) -> None:
        """The bot stopped and started again (what it knew only in memory is gone); with
        ``earlier_version``, one that kept no note of the private rooms it was making."""
        await self.adapter.close()
        if earlier_version:
            store = self.adapter.store
            store.save_state({k: v for k, v in store.state().items() if k != "dm_making"})
        self.adapter = make_adapter(self.db, self.config, self.got)
        await self.adapter.connect()

    async def dm(self, text: str) -> str:
        """The room a private message to alice went to."""
        action = Action(
            ActionKind.DIRECT_MESSAGE,
            self.adapter.source,
            self.group,
            user_id=self.alice.user_id,
            text=text,
        )
        done = await self.adapter.perform(action, idempotency_key=f"outbox:{text}")
        return str(done.data["room_id"])

    async def lost(self, text: str) -> str:
        """A private message whose room was made but the answer lost: the made room."""
        with answer_lost(self.synapse.url) as front:
            made = divert(self.adapter, front, "POST", "/createRoom", times=1)
            with pytest.raises(PlatformError, match="closed the connection"):
                await self.dm(text)
        assert len(made) == 1
        (room,) = await invitations(self.alice)  # the homeserver made it all the same
        return room

    async def killed(self, text: str) -> str:
        """A private message whose room the homeserver made, the bot stopped (killed) before
        it recorded the answer: the made room."""
        client = self.adapter._client()
        create = client.room_create

        async def then_killed(*args: Any, **kwargs: Any) -> Any:
            made = await create(*args, **kwargs)
            assert isinstance(made, RoomCreateResponse), made
            raise Killed(made.room_id)

        client.room_create = then_killed
        with pytest.raises(Killed) as killed:
            await self.dm(text)
        return str(killed.value)

    async def close(self) -> None:
        await self.adapter.close()
        await self.alice.close()


class Killed(BaseException):
    """The bot's process stopped (the room the homeserver made is its argument)."""


def test_a_private_room_whose_making_went_unanswered_is_used_not_made_again(
    synapse: Synapse, db: Engine
) -> None:
    """createRoom for alice's private room timed out after Synapse had made it: the retry
    (before any sync) made a second room and a second invitation, and the lost room, unknown,
    was read as a group once alice joined it. The retry now finds the room the bot made for
    her and writes there."""

    async def go() -> dict[str, Any]:
        bot = LostAnswer(synapse, db)
        await bot.start()
        lost = await bot.lost("the rules")
        out: dict[str, Any] = {"lost": lost, "retried": await bot.dm("the rules")}
        out["invited"] = await invitations(bot.alice)
        await bot.alice.join(lost)
        await bot.alice.say(lost, "thanks")
        await settle(bot.adapter, 2)
        bodies = [r["content"].get("body") for r in await bot.alice.events(lost)]
        out["bodies"] = [b for b in bodies if b]
        out["stored"] = dict(bot.adapter._state["dm_rooms"])
        out["events"] = bot.got.of(lost)
        out["alice"] = bot.alice.user_id
        await bot.close()
        return out

    out = run(go())
    assert out["retried"] == out["lost"]
    assert out["invited"] == {out["lost"]}  # one invitation, no second room
    assert out["stored"] == {out["alice"]: out["lost"]}
    assert "the rules" in out["bodies"]
    assert out["events"] == []  # a private room, no group


def test_a_private_room_whose_making_went_unanswered_is_found_by_the_sync(
    synapse: Synapse, db: Engine
) -> None:
    """The sync shows the room whose making went unanswered before the retry (alice joined
    it and wrote there meanwhile): it is alice's private room, nothing of it is a group's,
    and the retry writes there."""

    async def go() -> dict[str, Any]:
        bot = LostAnswer(synapse, db)
        await bot.start()
        lost = await bot.lost("the rules")
        await bot.alice.join(lost)
        await bot.alice.say(lost, "hello? nothing came")
        await settle(bot.adapter, 2)
        out: dict[str, Any] = {"lost": lost, "events": bot.got.of(lost)}
        out["retried"] = await bot.dm("the rules")
        out["invited"] = await invitations(bot.alice)
        await bot.close()
        return out

    out = run(go())
    assert out["events"] == []  # alice's join and words are no group's
    assert out["retried"] == out["lost"]
    assert out["invited"] == set()  # no second room


def test_a_restart_between_making_a_private_room_and_recording_it_makes_no_second(
    synapse: Synapse, db: Engine
) -> None:
    """Synapse made alice's private room, and the bot stopped before it recorded the answer.
    Started again, the retry (before any sync) made a second room and a second invitation.
    The making was noted before asking (``dm_making``): the retry finds the room made before
    and writes there; one room, one invitation, and the note is done with."""

    async def go() -> dict[str, Any]:
        bot = LostAnswer(synapse, db)
        await bot.start()
        made = await bot.killed("the rules")
        await bot.restart()
        out: dict[str, Any] = {"made": made, "retried": await bot.dm("the rules")}
        out["invited"] = await invitations(bot.alice)
        await settle(bot.adapter, 2)
        out["again"] = await bot.dm("and once more")
        out["stored"] = bot.adapter.store.state()
        out["alice"] = bot.alice.user_id
        await bot.close()
        return out

    out = run(go())
    assert out["retried"] == out["made"] == out["again"]
    assert out["invited"] == {out["made"]}  # one invitation, no second room
    assert out["stored"]["dm_rooms"] == {out["alice"]: out["made"]}
    assert out["stored"]["dm_making"] == {}
    assert out["made"] not in out["stored"].get("leaving", {})


def test_a_look_for_a_room_made_before_a_restart_waits_for_the_first_sync(
    synapse: Synapse, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot in more rooms than the look reads by itself (UNSEEN_READ_MAX, 0 here), and no
    sync yet since the restart: the retry waits for the first sync, which shows every room
    and finds the one made before; it is not made again. With no sync in time, the retry is
    a passing failure (no answer in time), and nothing is made."""
    monkeypatch.setattr(deliver, "UNSEEN_READ_MAX", 0)

    async def go() -> dict[str, Any]:
        bot = LostAnswer(synapse, db)
        await bot.start()  # its password login at the usual time limit (a busy homeserver)
        made = await bot.killed("the rules")
        # after the restart a short one: how long the retry waits for the first sync
        # (the bot's own settings and the stored ones: a restart reads either)
        bot.config = replace(bot.config, request_timeout=2.0)
        store = bot.adapter.store
        stored, _ = store.load()
        store.save_config(replace(stored, request_timeout=2.0))
        await bot.restart()
        assert bot.adapter.config.request_timeout == 2.0
        out: dict[str, Any] = {"made": made}
        with pytest.raises(PlatformError, match="no answer in time") as waited:
            await bot.dm("the rules")
        out["permanent"] = waited.value.permanent
        out["invited_before_sync"] = await invitations(bot.alice)
        retry = asyncio.ensure_future(bot.dm("the rules"))
        await asyncio.sleep(0.3)
        out["waiting"] = not retry.done()
        await bot.adapter.sync_once(0)
        out["retried"] = await retry
        out["invited"] = await invitations(bot.alice)
        out["stored"] = bot.adapter.store.state()
        out["alice"] = bot.alice.user_id
        await bot.close()
        return out

    out = run(go())
    assert out["permanent"] is False
    assert out["invited_before_sync"] == {out["made"]}
    assert out["waiting"]  # for the sync
    assert out["retried"] == out["made"]
    assert out["invited"] == {out["made"]}
    assert out["stored"]["dm_rooms"] == {out["alice"]: out["made"]}
    assert out["stored"]["dm_making"] == {}


def test_a_second_private_room_made_after_a_lost_answer_is_left(
    synapse: Synapse, db: Engine
) -> None:
    """An earlier version kept no note of the room it was making: after a restart nothing
    said a room's making went unanswered, and the retry made a second room for alice. The
    next sync (a start's, which shows every room) recognises the lost one as a room the bot
    made for her: she has a private room, so the bot leaves the lost one; nothing of it is a
    group's, not even once she joined it and wrote there."""

    async def go() -> dict[str, Any]:
        bot = LostAnswer(synapse, db)
        await bot.start()
        lost = await bot.lost("the rules")
        await bot.restart(earlier_version=True)
        out: dict[str, Any] = {"lost": lost, "second": await bot.dm("the rules")}
        out["invited"] = await invitations(bot.alice)
        await bot.alice.join(lost)
        await bot.alice.say(lost, "which room is it?")
        await settle(bot.adapter, 2)
        joined = await bot.adapter._client().joined_rooms()
        assert isinstance(joined, JoinedRoomsResponse), joined
        out["bot_in"] = set(joined.rooms)
        out["stored"] = dict(bot.adapter._state["dm_rooms"])
        out["leaving"] = dict(bot.adapter._state.get("leaving") or {})
        out["events"] = bot.got.of(lost)
        out["alice"] = bot.alice.user_id
        await bot.close()
        return out

    out = run(go())
    lost, second = out["lost"], out["second"]
    assert second != lost and out["invited"] == {lost, second}
    assert second in out["bot_in"] and lost not in out["bot_in"]
    assert out["stored"] == {out["alice"]: second}
    assert out["leaving"] == {lost: {"why": "extra private room", "left": True}}
    assert out["events"] == []


def test_made_private_for_reads_the_bots_own_private_rooms_only() -> None:
    """A room is the bot's private room for someone when the bot made it and invited that
    one person marked is_direct; the person's answer keeps it so (the invitation is then the
    replaced content)."""
    bot, alice, bob = "@bot:s", "@alice:s", "@bob:s"
    create = {"type": "m.room.create", "state_key": "", "sender": bot, "origin_server_ts": 7}

    def member(who: str, content: dict[str, Any], by: str = bot, **unsigned: Any) -> Any:
        raw = {"type": "m.room.member", "state_key": who, "sender": by, "content": content}
        return {**raw, "unsigned": unsigned} if unsigned else raw

    invite = {"membership": "invite", "is_direct": True}
    joined = {"membership": "join"}
    assert made_private_for([create, member(alice, invite)], bot) == (alice, 7)
    answered = member(alice, joined, alice, prev_content=invite, prev_sender=bot)
    assert made_private_for([create, answered], bot) == (alice, 7)
    assert made_private_for([member(alice, invite)], bot) is None  # no creation seen
    assert made_private_for([{**create, "sender": alice}, member(alice, invite)], bot) is None
    assert made_private_for([create, member(alice, {"membership": "invite"})], bot) is None
    assert made_private_for([create, member(alice, invite, by=bob)], bot) is None
    two = [create, member(alice, invite), member(bob, invite)]
    assert made_private_for(two, bot) is None  # not a room with one person
