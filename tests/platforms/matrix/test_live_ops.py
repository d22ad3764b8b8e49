"""What a week of running live Matrix rooms brings (QA live findings M1, M2), on a real
Synapse: the bot removed from a room, a reaction taken back."""

from __future__ import annotations

from typing import Any

import pytest
from nio import RoomCreateResponse, RoomPreset

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.domain.events import EventKind
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    make_adapter,
    people,
    settle,
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
