"""The bot's leave with a word to the people there (an invitation declined, a room left as not
its own): matrix-nio has no public way to send a leave's reason, so leaving.leave_with_reason
calls its private ``AsyncClient._send``. These tests fail when matrix-nio changes that method,
or gains a public way (then the adapter uses that). Real Synapse on 127.0.0.1."""

from __future__ import annotations

import inspect
from typing import Any

from nio import (
    Api,
    AsyncClient,
    JoinResponse,
    RoomCreateResponse,
    RoomGetStateEventResponse,
    RoomLeaveResponse,
)
from sqlalchemy import Engine

from groupops.platforms.matrix.leaving import leave_with_reason
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    make_adapter,
    people,
    requests_of,
)
from tests.platforms.matrix.synapse import Synapse


def test_matrix_nio_still_takes_the_call_leave_with_reason_makes() -> None:
    """``_send(response_class, method, path, data)`` as matrix-nio 0.26 has it; and its
    ``room_leave`` still sends no reason (when it does, leave_with_reason should use it)."""
    send = inspect.signature(AsyncClient._send)
    assert list(send.parameters)[:5] == ["self", "response_class", "method", "path", "data"]
    send.bind(object(), RoomLeaveResponse, "POST", "/rooms/!r:s/leave", "{}")
    assert list(inspect.signature(AsyncClient.room_leave).parameters) == ["self", "room_id"]
    assert list(inspect.signature(Api.room_leave).parameters) == ["access_token", "room_id"]


def test_leave_with_reason_declines_and_leaves_with_words(synapse: Synapse, db: Engine) -> None:
    """An invitation declined and a joined room left, each with its words as the reason the
    others read on the bot's membership; the access token goes in a header, not the URL."""
    bot = new_account(synapse, "bot")

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, bot_config(synapse, bot), Collected())
        await adapter.connect()
        await adapter.sync_once()
        (alice,) = await people(synapse, 1)
        rooms = []
        for name in ("Declined", "Left"):
            made = await alice.client.room_create(name=name, invite=[bot.user_id])
            assert isinstance(made, RoomCreateResponse), made
            rooms.append(made.room_id)
        client = adapter._client()
        joined = await client.join(rooms[1])
        assert isinstance(joined, JoinResponse), joined
        made_requests = requests_of(adapter)
        out: dict[str, Any] = {"answers": []}
        for room, words in zip(rooms, ("not for me", "goodbye"), strict=True):
            out["answers"].append(await leave_with_reason(client, room, words))
        out["requests"] = made_requests
        out["token"] = client.access_token
        out["said"] = []
        for room in rooms:
            member = await alice.client.room_get_state_event(room, "m.room.member", bot.user_id)
            assert isinstance(member, RoomGetStateEventResponse), member
            out["said"].append((member.content["membership"], member.content.get("reason")))
        await adapter.close()
        await alice.close()
        return out

    out = run(go())
    assert all(isinstance(a, RoomLeaveResponse) for a in out["answers"]), out["answers"]
    assert out["said"] == [("leave", "not for me"), ("leave", "goodbye")]
    assert [how for how, _ in out["requests"]] == ["POST", "POST"]
    assert all(path.endswith("/leave") for _, path in out["requests"]), out["requests"]
    assert not any(out["token"] in path for _, path in out["requests"])
