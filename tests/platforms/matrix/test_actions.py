"""Every declared action works on a real Synapse, and the people see its effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import RoomCreateResponse, RoomGetStateEventResponse, RoomPreset, RoomSendError

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine.clock import ManualClock
from groupops.platforms.matrix import MATRIX_ACTIONS
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    make_adapter,
    people,
)
from tests.platforms.matrix.synapse import Synapse


def _db(database_url: str) -> Any:
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    db = make_engine(database_url)
    upgrade(db)
    return db


def test_capabilities_say_what_matrix_can_and_cannot() -> None:
    assert ActionKind.CREATE_INVITE_LINK not in MATRIX_ACTIONS  # no such thing on Matrix
    assert ActionKind.OWNER_TASK not in MATRIX_ACTIONS
    assert {ActionKind.SEND, ActionKind.MUTE, ActionKind.KICK} <= MATRIX_ACTIONS


def test_actions_take_effect(synapse: Synapse, database_url: str) -> None:
    db = _db(database_url)
    clock = ManualClock(datetime.now(UTC))

    async def scenario() -> dict[str, Any]:
        adapter = make_adapter(
            db, bot_config(synapse, new_account(synapse, "bot")), Collected(), clock
        )
        await adapter.connect()
        await adapter.sync_once()
        assert not adapter.capabilities.buttons
        room = await bot_room(adapter)
        alice, bob = await people(synapse, 2)
        await alice.join(room)
        await bob.join(room)
        src = adapter.source
        keys = iter(range(1, 1000))

        async def do(action: Action) -> Any:
            return await adapter.perform(action, idempotency_key=f"outbox:{next(keys)}")

        out: dict[str, Any] = {}
        hello = await alice.say(room, "hello")
        sent = await do(Action(ActionKind.SEND, src, room, text="rules: <b>be kind</b> & 友善"))
        seen = await alice.wait_for(room, lambda r: r["event_id"] == sent.platform_message_id)
        out["send"] = seen["content"]
        replied = await do(
            Action(
                ActionKind.REPLY, src, room, text="welcome", message_id=hello, user_id=alice.user_id
            )
        )
        seen = await alice.wait_for(room, lambda r: r["event_id"] == replied.platform_message_id)
        out["reply"] = seen["content"]
        # deleting a member's message: a redaction everyone sees
        spam = await bob.say(room, "buy now")
        await do(Action(ActionKind.DELETE, src, room, message_id=spam, reason="ad"))
        seen = await alice.wait_for(
            room, lambda r: r["type"] == "m.room.redaction" and r.get("redacts") == spam
        )
        out["redacted"] = seen["redacts"]
        # pin
        await do(Action(ActionKind.PIN, src, room, message_id=sent.platform_message_id))
        assert adapter.client is not None
        pinned = await adapter.client.room_get_state_event(room, "m.room.pinned_events")
        out["pinned"] = pinned.content["pinned"]
        # mute: Synapse itself refuses the member's message; unmute lets them speak again
        await do(Action(ActionKind.MUTE, src, room, user_id=bob.user_id))
        refused = await bob.client.room_send(
            room, "m.room.message", {"msgtype": "m.text", "body": "can I?"}
        )
        out["muted_send"] = refused
        await do(Action(ActionKind.UNMUTE, src, room, user_id=bob.user_id))
        out["after_unmute"] = await bob.say(room, "yes I can")
        # a mute with an end: the adapter lifts it when the time comes
        until = clock.now() + timedelta(minutes=10)
        await do(Action(ActionKind.MUTE, src, room, user_id=bob.user_id, until=until))
        out["lifted_early"] = await adapter.lift_due_mutes()
        clock.advance(timedelta(minutes=11))
        out["lifted"] = await adapter.lift_due_mutes()
        levels = await adapter.client.room_get_state_event(room, "m.room.power_levels")
        assert isinstance(levels, RoomGetStateEventResponse)
        out["levels_after"] = levels.content.get("users", {})
        out["after_lift"] = await bob.say(room, "free again")
        # kick: out of the room; ban: cannot come back; unban: can
        await do(Action(ActionKind.KICK, src, room, user_id=bob.user_id, reason="spam"))
        members = await adapter.client.joined_members(room)
        out["after_kick"] = {m.user_id for m in members.members}
        await do(Action(ActionKind.BAN, src, room, user_id=bob.user_id))
        out["rejoin_banned"] = await bob.client.join(room)
        await do(Action(ActionKind.UNBAN, src, room, user_id=bob.user_id))
        out["rejoin_unbanned"] = await bob.client.join(room)
        # a direct message: a new direct room with the member, who sees the text
        dm = await do(
            Action(ActionKind.DIRECT_MESSAGE, src, room, user_id=alice.user_id, text="hi")
        )
        dm_room = dm.data["room_id"]
        await alice.join(dm_room)
        seen = await alice.wait_for(dm_room, lambda r: r["event_id"] == dm.platform_message_id)
        out["dm"] = seen["content"]["body"]
        again = await do(
            Action(ActionKind.DIRECT_MESSAGE, src, room, user_id=alice.user_id, text="again")
        )
        out["dm_same_room"] = again.data["room_id"] == dm_room
        # the same outbox key twice is one message (the transaction id)
        first = await adapter.perform(
            Action(ActionKind.SEND, src, room, text="once"), idempotency_key="outbox:once"
        )
        second = await adapter.perform(
            Action(ActionKind.SEND, src, room, text="once"), idempotency_key="outbox:once"
        )
        out["same_event"] = first.platform_message_id == second.platform_message_id
        # refusals are permanent: in alice's own room the bot has no power to kick her
        made = await alice.client.room_create(name="alice's", preset=RoomPreset.public_chat)
        other = made.room_id
        joined = await adapter.client.join(other)
        assert type(joined).__name__ == "JoinResponse", joined
        try:
            await do(Action(ActionKind.KICK, src, other, user_id=alice.user_id))
        except PlatformError as exc:
            out["refused"] = exc
        out["room"], out["alice"], out["bob"] = room, alice.user_id, bob.user_id
        for p in (alice, bob):
            await p.close()
        await adapter.close()
        return out

    r = run(scenario())
    assert r["send"]["body"] == "rules: <b>be kind</b> & 友善"
    assert r["send"]["formatted_body"] == "rules: &lt;b&gt;be kind&lt;/b&gt; &amp; 友善"
    assert r["reply"]["m.relates_to"]["m.in_reply_to"]["event_id"]
    assert r["reply"]["m.mentions"] == {"user_ids": [r["alice"]]}
    assert r["redacted"]
    assert len(r["pinned"]) == 1
    assert isinstance(r["muted_send"], RoomSendError)
    assert r["muted_send"].status_code == "M_FORBIDDEN"
    assert r["after_unmute"].startswith("$")
    assert (r["lifted_early"], r["lifted"]) == (0, 1)
    assert r["bob"] not in r["levels_after"]  # back to the room's default level
    assert r["after_lift"].startswith("$")
    assert r["bob"] not in r["after_kick"] and r["alice"] in r["after_kick"]
    assert type(r["rejoin_banned"]).__name__ == "JoinError"
    assert type(r["rejoin_unbanned"]).__name__ == "JoinResponse"
    assert r["dm"] == "hi" and r["dm_same_room"]
    assert r["same_event"]
    refused = r["refused"]
    assert refused.permanent and refused.retry_after is None
    assert "M_FORBIDDEN" in str(refused)


def test_wrong_password_is_a_typed_error_without_the_secret(
    synapse: Synapse, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = _db(database_url)
    bot = new_account(synapse, "bot")
    wrong = "not-the-password-" + bot.password
    config = bot_config(synapse, bot).__class__(synapse.url, bot.user_id, password=wrong)
    caplog.set_level("DEBUG")

    async def scenario() -> PlatformError:
        adapter = make_adapter(db, config, Collected())
        try:
            await adapter.connect()
        except PlatformError as exc:
            return exc
        raise AssertionError("a wrong password logged in")

    error = run(scenario())
    assert error.permanent and "M_FORBIDDEN" in str(error)
    assert wrong not in str(error) and wrong not in caplog.text
    assert wrong not in repr(config)


def test_a_timed_mute_that_cannot_be_lifted_is_a_dead_letter(
    synapse: Synapse, database_url: str
) -> None:
    """The bot lost its rights before a timed mute ended: lifting it is refused for good. The
    member must not stay muted with only a log line: an unmute waits in the dead letters
    saying why, for the operator to see and retry."""
    from groupops.engine.deadletters import list_outbox

    db = _db(database_url)
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    bot = new_account(synapse, "bot")

    async def go() -> tuple[int, str]:
        alice, bob = await people(synapse, 2)
        adapter = make_adapter(db, bot_config(synapse, bot), Collected(), clock)
        await adapter.connect()
        await adapter.sync_once()
        made = await alice.client.room_create(
            preset=RoomPreset.public_chat,
            invite=[bot.user_id],
            power_level_override={
                "users": {bot.user_id: 50},  # alice: the creator
                "events": {"m.room.power_levels": 50},
            },
        )
        assert isinstance(made, RoomCreateResponse), made
        room = made.room_id
        await adapter.sync_once(300)  # joins the invitation
        await bob.join(room)
        until = clock.now() + timedelta(minutes=10)
        mute = Action(ActionKind.MUTE, adapter.source, room, user_id=bob.user_id, until=until)
        await adapter.perform(mute, idempotency_key="outbox:1")
        levels = await alice.client.room_get_state_event(room, "m.room.power_levels")
        assert isinstance(levels, RoomGetStateEventResponse), levels
        content = dict(levels.content)
        content["users"] = {**content["users"], bot.user_id: 0}  # the bot demoted
        await alice.client.room_put_state(room, "m.room.power_levels", content)
        clock.advance(timedelta(minutes=11))
        lifted = await adapter.lift_due_mutes()
        await adapter.close()
        await alice.close()
        await bob.close()
        return lifted, bob.user_id

    lifted, bob_id = run(go())
    assert lifted == 0
    dead = list_outbox(db, "dead")
    assert [(r["kind"], r["payload"]["user_id"]) for r in dead] == [("unmute", bob_id)]
    assert "refused" in dead[0]["last_error"]
    db.dispose()
