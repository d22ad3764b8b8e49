"""What a week of running live Matrix rooms brings (QA live findings M1-M6), on a real
Synapse: the bot removed from a room or its power level lowered, a reaction taken back, a room
upgraded, a reply to a message from before a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import ErrorResponse, RoomCreateResponse, RoomGetStateEventResponse, RoomPreset

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.domain.events import EventKind
from groupops.engine.clock import ManualClock
from groupops.platforms.matrix.homeserver import LEAVE_RETRY, RETRY_TRIES
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    divert,
    error_front,
    make_adapter,
    owners_room,
    people,
    settle,
    upgrade_room,
)
from tests.platforms.matrix.synapse import Synapse


def test_bot_removed_and_reaction_taken_back(synapse: Synapse, database_url: str) -> None:
    """A reaction is taken back on Matrix by redacting it: that is a reaction removed (as on
    Telegram), not a deleted message. The bot kicked from a room is ``bot_rights_changed``
    (status kicked, by whom, why), as on Telegram: before, nothing said the room was gone."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> dict[str, Any]:
        got = Collected()
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), got)
        await adapter.connect()
        await adapter.sync_once()
        alice, bob = await people(synapse, 2)
        made = await alice.client.room_create(
            name="Owners' room", preset=RoomPreset.public_chat, invite=[adapter.config.user_id]
        )
        assert isinstance(made, RoomCreateResponse), made
        room = str(made.room_id)
        await settle(adapter, 2)  # the bot accepts the invitation
        await bob.join(room)
        hello = await bob.say(room, "hello")
        reaction = await alice.client.room_send(
            room,
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": hello, "key": "🎉"}},
        )
        await settle(adapter, 1)
        await alice.client.room_redact(room, reaction.event_id)
        await settle(adapter, 1)
        kicked = await alice.client.room_kick(room, adapter.config.user_id, reason="trial over")
        assert type(kicked).__name__ == "RoomKickResponse", kicked
        await settle(adapter, 2)
        users = {"alice": alice.user_id, "bob": bob.user_id, "hello": hello, "room": room}
        for p in (alice, bob):
            await p.close()
        await adapter.close()
        return {"events": got.of(room), **users}

    r = run(scenario())
    events = r["events"]
    reactions = [e for e in events if e.kind == EventKind.REACTION]
    assert [e.data.get("removed", False) for e in reactions] == [False, True]
    taken_back = reactions[1]
    assert taken_back.user_id == r["alice"]
    assert (taken_back.message_id, taken_back.reply_to_user_id) == (r["hello"], r["bob"])
    assert taken_back.data["emoji"] == "🎉"
    assert not [e for e in events if e.kind == EventKind.MESSAGE_DELETED]
    removed = [e for e in events if e.kind == EventKind.BOT_RIGHTS_CHANGED]
    assert len(removed) == 1
    assert removed[0].user_id == r["alice"]
    assert removed[0].data["status"] == "kicked" and removed[0].data["in_chat"] is False
    assert removed[0].data["removed_by"] == r["alice"]
    assert removed[0].data["reason"] == "trial over"
    assert removed[0].data["chat_title"] == "Owners' room"


def test_kick_of_someone_gone_and_unban_of_someone_free_are_done(
    synapse: Synapse, database_url: str
) -> None:
    """The spammer left before the kick went out, or another moderator was quicker; the unban
    finds nobody banned: what the action wanted is so, and it is no dead letter. A kick the
    homeserver refuses for another reason still is."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)
    source = "matrix"

    async def scenario() -> None:
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected())
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        await alice.client.room_leave(room)

        def act(kind: ActionKind, room_id: str = room) -> Action:
            return Action(kind, source, room_id, user_id=alice.user_id)

        kicked = await adapter.perform(act(ActionKind.KICK), idempotency_key="k")
        assert kicked.data == {"already_gone": True}
        unbanned = await adapter.perform(act(ActionKind.UNBAN), idempotency_key="u")
        assert unbanned.data == {"not_banned": True}
        with pytest.raises(PlatformError) as refused:  # not a room the bot is in
            await adapter.perform(act(ActionKind.KICK, "!nowhere:localhost"), idempotency_key="x")
        assert refused.value.permanent
        await alice.close()
        await adapter.close()

    run(scenario())


def test_an_upgraded_room_stays_the_same_group(synapse: Synapse, database_url: str) -> None:
    """A room upgrade moves the room to a new id. The bot follows into the replacement room;
    the group keeps the first room's id (its settings, members, points): the new room's events
    are the group's, its actions go to the new room, and the members who follow are no
    newcomers (no gate, no welcome again). A restart keeps all that."""
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
        alice, bob, carol = await people(synapse, 3)
        old = await owners_room(alice, config.user_id, 100)
        await settle(adapter, 2)  # the bot accepts the invitation
        await bob.join(old)
        before = await bob.say(old, "before the upgrade")
        await settle(adapter, 1)
        new = await upgrade_room(alice, old)
        await settle(adapter, 2)  # the tombstone; the bot joins the new room
        assert adapter.platform_room(old) == new
        await bob.join(new)  # a member following
        await carol.join(new)  # a newcomer
        await bob.client.room_leave(old)  # leaving the old room is not leaving the group
        after = await bob.say(new, "after the upgrade")
        await settle(adapter, 2)
        sent = await adapter.perform(
            Action(ActionKind.SEND, adapter.source, old, text="welcome to the new room"),
            idempotency_key="s1",
        )
        await carol.wait_for(new, lambda raw: raw.get("event_id") == sent.platform_message_id)
        removed = await adapter.perform(  # a message from before stayed in the old room
            Action(ActionKind.DELETE, adapter.source, old, message_id=before),
            idempotency_key="d1",
        )
        gone = await alice.client.room_get_event(old, before)
        await adapter.close()
        # a restart: the upgrade is kept in the connection's state
        again = Collected()
        adapter = make_adapter(db, config, again)
        await adapter.connect()
        later = await carol.say(new, "after a restart")
        await settle(adapter, 2)
        await adapter.close()
        for p in (alice, bob, carol):
            await p.close()
        return {
            "events": got.events,
            "again": again.events,
            "old": old,
            "new": new,
            "sent": sent,
            "removed": removed,
            "gone": gone,
            "after": after,
            "later": later,
            "bob": bob.user_id,
            "carol": carol.user_id,
        }

    r = run(scenario())
    events, old = r["events"], r["old"]
    assert {e.chat_id for e in events} == {old}  # nothing under the new room's id
    joined = [e.user_id for e in events if e.kind == EventKind.MEMBER_JOINED]
    assert joined == [r["bob"], r["carol"]]  # bob once (the old room), carol as a newcomer
    assert not [e for e in events if e.kind == EventKind.MEMBER_LEFT]
    assert not [e for e in events if e.kind == EventKind.BOT_RIGHTS_CHANGED]
    message = next(e for e in events if e.message_id == r["after"])
    assert (message.chat_id, message.user_id, message.text) == (
        old,
        r["bob"],
        "after the upgrade",
    )
    assert r["sent"].data == {"room_id": r["new"]}
    assert r["removed"].data == {}
    assert not r["gone"].event.source.get("content")  # redacted in the old room
    assert [(e.chat_id, e.message_id) for e in r["again"] if e.kind == EventKind.MESSAGE] == [
        (old, r["later"])
    ]


def test_a_tombstone_naming_a_room_that_is_no_upgrade_is_not_followed(
    synapse: Synapse, database_url: str
) -> None:
    """Any admin of a room can send a tombstone naming any room. A room is followed as the
    replacement only when its creation names the old room (``predecessor``), as a real
    upgrade's does: naming another group's room does not merge the two groups (events of that
    room stay its group's, the claiming group's actions stay in its room), and naming a public
    room the bot is not in does not take the bot there (invited_by and auto-join stand): the
    bot leaves it again (a leave that fails is tried again while running), and nothing of it
    reaches the engine (no group for it, not even the bot's own leave)."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)
    clock = ManualClock(datetime.now(UTC))

    async def scenario() -> dict[str, Any]:
        got = Collected()
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, got, clock=clock)
        await adapter.connect()
        await adapter.sync_once()
        mallory, bob = await people(synapse, 2)
        theirs = await owners_room(mallory, config.user_id, 0)  # mallory is its admin
        ours = await bot_room(adapter, "Our group")
        await bob.join(ours)
        elsewhere = await bob.client.room_create(name="Somewhere", preset=RoomPreset.public_chat)
        assert isinstance(elsewhere, RoomCreateResponse)
        await settle(adapter, 2)  # the bot accepts mallory's invitation
        out: dict[str, Any] = {"ours": ours, "theirs": theirs, "elsewhere": elsewhere.room_id}
        with error_front(502, {"errcode": "M_UNKNOWN", "error": "Bad gateway"}) as front:
            leaves = divert(adapter, front, "POST", "/leave", times=1)
            for target in (ours, elsewhere.room_id):
                sent = await mallory.client.room_put_state(
                    theirs, "m.room.tombstone", {"body": "moved", "replacement_room": target}
                )
                assert not isinstance(sent, ErrorResponse), sent
                await settle(adapter, 2)
            await bob.say(elsewhere.room_id, "not a group of this bot")
            await settle(adapter, 1)
            clock.advance(timedelta(seconds=LEAVE_RETRY))
            await settle(adapter, 2)
            out["leaves"] = len(leaves)
        said = await bob.say(ours, "still our group")
        await settle(adapter, 1)
        out.update(
            platform=adapter.platform_room(theirs),
            group_of_ours=adapter.group_room(ours),
            said=said,
            events=got.events,
            joined=set((await adapter.client.joined_rooms()).rooms),  # type: ignore[union-attr]
        )
        await adapter.close()
        await mallory.close()
        await bob.close()
        return out

    r = run(scenario())
    assert r["platform"] == r["theirs"] and r["group_of_ours"] == r["ours"]
    message = next(e for e in r["events"] if e.message_id == r["said"])
    assert message.chat_id == r["ours"]
    assert r["ours"] in r["joined"] and r["elsewhere"] not in r["joined"]
    assert r["leaves"] == 2  # the first failed, the second (after LEAVE_RETRY) was taken
    assert [e for e in r["events"] if e.chat_id == r["elsewhere"]] == []


def test_a_tombstone_naming_a_room_whose_creation_cannot_be_read_is_not_followed(
    synapse: Synapse, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The room a tombstone names is joined, then its creation read to see whether it is an
    upgrade of the old room. When that cannot be read (asked RETRY_TRIES times, once a sync),
    the claim is given up as no upgrade: the bot leaves the room, which never was a group."""
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
        mallory, bob = await people(synapse, 2)
        theirs = await owners_room(mallory, config.user_id, 0)
        elsewhere = await bob.client.room_create(name="Somewhere", preset=RoomPreset.public_chat)
        assert isinstance(elsewhere, RoomCreateResponse)
        await settle(adapter, 2)  # the bot accepts mallory's invitation
        with error_front(403, {"errcode": "M_FORBIDDEN", "error": "no"}) as front:
            asked = divert(adapter, front, "GET", "m.room.create", times=RETRY_TRIES)
            sent = await mallory.client.room_put_state(
                theirs, "m.room.tombstone", {"body": "moved", "replacement_room": elsewhere.room_id}
            )
            assert not isinstance(sent, ErrorResponse), sent
            await settle(adapter, 1)
            await bob.say(elsewhere.room_id, "not a group of this bot")
            await settle(adapter, RETRY_TRIES + 1)
        out = {
            "asked": len(asked),
            "elsewhere": elsewhere.room_id,
            "joined": set((await adapter.client.joined_rooms()).rooms),  # type: ignore[union-attr]
            "events": got.events,
            "claims": dict(adapter._state.get("upgrade_claims") or {}),
        }
        await adapter.close()
        await mallory.close()
        await bob.close()
        return out

    r = run(scenario())
    assert r["asked"] == RETRY_TRIES and r["claims"] == {}
    assert r["elsewhere"] not in r["joined"]
    assert [e for e in r["events"] if e.chat_id == r["elsewhere"]] == []
    assert f"does not say what it replaces (asked {RETRY_TRIES} times)" in caplog.text


def test_an_upgrade_checked_while_rate_limited_is_still_followed(
    synapse: Synapse, database_url: str
) -> None:
    """matrix-nio reads any error answer to a state request but a 404 as the state's content:
    a rate limit on reading the new room's creation looked like a creation naming no
    predecessor, and the bot left the real new room. A passing failure is asked again, and
    is no try of the RETRY_TRIES that give a claim up."""
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
        old = await owners_room(alice, config.user_id, 100)
        await settle(adapter, 2)
        limited = {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many", "retry_after_ms": 100}
        with error_front(429, limited) as front:
            asked = divert(adapter, front, "GET", "m.room.create", times=RETRY_TRIES)
            new = await upgrade_room(alice, old)
            await settle(adapter, RETRY_TRIES + 2)
        out = {
            "asked": len(asked),
            "new": new,
            "followed": adapter.platform_room(old),
            "joined": set((await adapter.client.joined_rooms()).rooms),  # type: ignore[union-attr]
        }
        await adapter.close()
        await alice.close()
        return out

    r = run(scenario())
    assert r["asked"] == RETRY_TRIES + 1  # rate limited (not a failed try), asked again
    assert r["followed"] == r["new"] and r["new"] in r["joined"]


def test_a_pin_whose_pinned_list_cannot_be_read_keeps_the_pinned_messages(
    synapse: Synapse, database_url: str
) -> None:
    """A pin reads the room's pinned messages and writes them back with one more. A server
    error on the read was taken for an empty list (matrix-nio): the pin replaced every
    pinned message with its own. It is a passing failure now (tried again by the outbox)."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> dict[str, Any]:
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (alice,) = await people(synapse, 1)
        await alice.join(room)
        first, second = await alice.say(room, "rules"), await alice.say(room, "schedule")

        async def pin(message: str, key: str) -> Any:
            action = Action(ActionKind.PIN, adapter.source, room, message_id=message)
            return await adapter.perform(action, idempotency_key=key)

        await pin(first, "p1")
        out: dict[str, Any] = {"first": first, "second": second}
        with error_front(500, {"errcode": "M_UNKNOWN", "error": "Internal error"}) as front:
            divert(adapter, front, "GET", "m.room.pinned_events", times=1)
            with pytest.raises(PlatformError) as caught:
                await pin(second, "p2")
            out["permanent"] = caught.value.permanent
            await pin(second, "p2")  # the outbox's next try
        pinned = await alice.client.room_get_state_event(room, "m.room.pinned_events")
        assert isinstance(pinned, RoomGetStateEventResponse), pinned
        out["pinned"] = pinned.content["pinned"]
        await adapter.close()
        await alice.close()
        return out

    r = run(scenario())
    assert r["permanent"] is False
    assert r["pinned"] == [r["first"], r["second"]]


def test_a_member_event_with_is_direct_does_not_make_a_group_private(
    synapse: Synapse, database_url: str
) -> None:
    """``is_direct`` belongs on the bot's own invitation. A member of a group can put it in a
    member event of their own (as a name change in the room does): the group must stay a
    group, its messages read (else one member could make the bot deaf to the room)."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> tuple[list[Any], str]:
        got = Collected()
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (mallory,) = await people(synapse, 1)
        await mallory.join(room)
        await settle(adapter, 1)
        sent = await mallory.client.room_put_state(
            room,
            "m.room.member",
            {"membership": "join", "displayname": "mallory", "is_direct": True},
            state_key=mallory.user_id,
        )
        assert not isinstance(sent, ErrorResponse), sent
        await settle(adapter, 1)
        spam = await mallory.say(room, "buy followers http://spam.example")
        await settle(adapter, 1)
        await adapter.close()
        await mallory.close()
        return got.of(room), spam

    events, spam = run(scenario())
    assert [e.message_id for e in events if e.kind == EventKind.MESSAGE] == [spam]


def test_a_reply_to_a_message_from_before_a_restart_keeps_its_author(
    synapse: Synapse, database_url: str
) -> None:
    """Clients no longer quote the original in a reply (Matrix 1.13): after a restart the bot
    does not remember who wrote the message replied to, and asks the homeserver."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> dict[str, Any]:
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        alice, bob = await people(synapse, 2)
        await alice.join(room)
        await bob.join(room)
        question = await bob.say(room, "where is the schedule?")
        await settle(adapter, 1)
        await adapter.close()
        got = Collected()
        adapter = make_adapter(db, config, got)  # a restart: nothing remembered
        await adapter.connect()
        reply = {"m.relates_to": {"m.in_reply_to": {"event_id": question}}}
        answer = await alice.say(room, "pinned at the top", **reply)
        await settle(adapter, 2)
        await adapter.close()
        for p in (alice, bob):
            await p.close()
        return {"events": got.of(room), "answer": answer, "bob": bob.user_id, "q": question}

    r = run(scenario())
    message = next(e for e in r["events"] if e.message_id == r["answer"])
    assert (message.reply_to_message_id, message.reply_to_user_id) == (r["q"], r["bob"])
    assert message.text == "pinned at the top"


def test_replies_to_made_up_events_cost_a_bounded_number_of_requests(
    synapse: Synapse, database_url: str
) -> None:
    """Anyone in a room can send replies naming event ids that do not exist: each unknown one
    is asked of the homeserver, at most REPLY_FETCHES a batch, so a flood of them cannot hold
    the sync up request after request."""
    from groupops.platforms.matrix.sync import REPLY_FETCHES
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> tuple[int, int]:
        got = Collected()
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, got)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (mallory,) = await people(synapse, 1)
        await mallory.join(room)
        await settle(adapter, 1)
        assert adapter.client is not None
        asked: list[str] = []
        fetch = adapter.client.room_get_event

        async def counting(room_id: str, event_id: str) -> Any:
            asked.append(event_id)
            return await fetch(room_id, event_id)

        adapter.client.room_get_event = counting
        for i in range(REPLY_FETCHES + 10):
            made_up = {"m.relates_to": {"m.in_reply_to": {"event_id": f"$madeup{i}:example.org"}}}
            await mallory.say(room, f"reply {i}", **made_up)
        await settle(adapter, 1)
        messages = len([e for e in got.of(room) if e.kind == EventKind.MESSAGE])
        await adapter.close()
        await mallory.close()
        return len(asked), messages

    asked, messages = run(scenario())
    assert messages == REPLY_FETCHES + 10  # every reply is still read
    assert asked <= REPLY_FETCHES


def test_the_bots_power_level_lowered_is_bot_rights_changed(
    synapse: Synapse, database_url: str
) -> None:
    """An owner takes the bot's moderator level away: its removals, kicks and bans will fail
    from now on. That is ``bot_rights_changed`` with what it may still do, as on Telegram; a
    power-levels change that leaves the bot's rights as they were is no event."""
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
        (alice, bob) = await people(synapse, 2)
        room = await owners_room(alice, config.user_id, 50)
        await settle(adapter, 2)
        await bob.join(room)

        async def levels(change: dict[str, Any]) -> None:
            now = await alice.client.room_get_state_event(room, "m.room.power_levels")
            content = dict(now.content)
            content["users"] = {**content["users"], **change}
            put = await alice.client.room_put_state(room, "m.room.power_levels", content)
            assert type(put).__name__ == "RoomPutStateResponse", put

        await levels({bob.user_id: 10})  # not the bot's business
        await levels({config.user_id: 0})
        await settle(adapter, 2)
        await adapter.close()
        for p in (alice, bob):
            await p.close()
        return {"events": got.of(room), "alice": alice.user_id}

    r = run(scenario())
    changed = [e for e in r["events"] if e.kind == EventKind.BOT_RIGHTS_CHANGED]
    assert len(changed) == 1
    event = changed[0]
    assert event.user_id == r["alice"]
    data = event.data
    assert (data["status"], data["old_status"]) == ("member", "administrator")
    assert (data["is_admin"], data["in_chat"]) == (False, True)
    assert (data["power_level"], data["old_power_level"]) == (0, 50)
    # Synapse's public room asks 50 for each of them, invitations included
    assert data["rights"] == {
        "can_delete_messages": False,
        "can_restrict_members": False,
        "can_promote_members": False,
        "can_pin_messages": False,
        "can_invite_users": False,
    }
    # at 50 it could not change power levels (100 there), so it could not mute either
    assert data["lost_rights"] == ["can_delete_messages", "can_invite_users", "can_pin_messages"]
    assert data["chat_title"] == "Owners' room"


def test_a_private_message_to_someone_who_left_the_private_chat_is_unreachable(
    synapse: Synapse, database_url: str
) -> None:
    """The bot writes privately in a room it makes with the member. Once they left it (or
    declined its invitation) a message there reaches nobody: it was counted delivered all the
    same. It is RecipientUnreachable now (the deliverer posts it in the group, as on Telegram
    for someone who blocked the bot), with no new room made for each message; a private chat
    the member opens with the bot later is used instead."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)

    async def scenario() -> dict[str, Any]:
        config = bot_config(synapse, new_account(synapse, "bot"))
        adapter = make_adapter(db, config, Collected())
        await adapter.connect()
        await adapter.sync_once()
        group = await bot_room(adapter)
        (alice,) = await people(synapse, 1)
        await alice.join(group)

        async def dm(text: str) -> Any:
            return await adapter.perform(
                Action(
                    ActionKind.DIRECT_MESSAGE,
                    adapter.source,
                    group,
                    user_id=alice.user_id,
                    text=text,
                ),
                idempotency_key=text,
            )

        first = await dm("the rules")
        made = first.data["room_id"]
        await settle(adapter, 1)
        declined = await alice.client.room_leave(made)  # alice declines the invitation
        assert not isinstance(declined, ErrorResponse), declined
        await settle(adapter, 1)
        out: dict[str, Any] = {"made": made}
        with pytest.raises(RecipientUnreachable) as caught:
            await dm("the rules again")
        out["unreachable"] = str(caught.value)
        opened = await alice.client.room_create(is_direct=True, invite=[config.user_id])
        assert isinstance(opened, RoomCreateResponse), opened
        await settle(adapter, 2)  # the bot accepts alice's private chat
        third = await dm("welcome back")
        out["third_room"] = third.data["room_id"]
        seen = await alice.wait_for(
            opened.room_id, lambda raw: raw.get("event_id") == third.platform_message_id
        )
        out["seen"] = seen["content"]["body"]
        out["opened"] = opened.room_id
        await adapter.close()
        await alice.close()
        return out

    r = run(scenario())
    assert r["made"] in r["unreachable"]
    assert r["third_room"] == r["opened"] and r["seen"] == "welcome back"
