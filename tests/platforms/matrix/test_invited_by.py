"""Who may invite the bot into a room (QA security W7): with ``invited_by`` set, an invitation
from anyone else is rejected (the bot leaves the invited room without joining it), kept in the
connection's state for the operator, and nothing of that room reaches the engine; an invitation
from someone on the list is joined as before, and so is a private chat anyone opens with the
bot (never a group). Real Synapse on 127.0.0.1, real engine."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import ErrorResponse, RoomCreateResponse, RoomGetStateEventResponse
from sqlalchemy import select

from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.i18n import Catalogs
from groupops.platforms.matrix import ConnectionStore
from groupops.platforms.matrix.config import checked_inviters, may_invite
from groupops.platforms.matrix.homeserver import LEAVE_RETRY, RETRY_TRIES
from groupops.platforms.matrix.sync import LEAVE_WORDS, MAX_REFUSED, REFUSED
from groupops.storage.tables import events as events_table
from groupops.storage.tables import groups
from tests.platforms.matrix.conftest import Person, new_account, run
from tests.platforms.matrix.helpers import (
    bot_config,
    bot_room,
    divert,
    error_front,
    make_adapter,
    people,
    settle,
)
from tests.platforms.matrix.synapse import Synapse


async def membership(person: Person, room_id: str, user_id: str) -> str:
    answer = await person.client.room_get_state_event(room_id, "m.room.member", user_id)
    assert isinstance(answer, RoomGetStateEventResponse), answer
    return str(answer.content.get("membership"))


async def leave_reason(person: Person, room_id: str, user_id: str) -> str:
    answer = await person.client.room_get_state_event(room_id, "m.room.member", user_id)
    assert isinstance(answer, RoomGetStateEventResponse), answer
    return str(answer.content.get("reason") or "")


def test_an_invitation_from_someone_not_on_the_list_is_rejected_and_kept(
    synapse: Synapse, make_app: Callable[..., App]
) -> None:
    app = make_app(features=())
    bot = new_account(synapse, "bot")

    async def go() -> dict[str, Any]:
        owner, stranger = await people(synapse, 2)
        config = bot_config(synapse, bot, invited_by=(owner.user_id,))
        adapter = make_adapter(app.db, config, app.handle)
        await adapter.connect()
        await adapter.sync_once()  # the first sync only takes the position
        theirs = await stranger.client.room_create(name="Cheap followers", invite=[bot.user_id])
        ours = await owner.client.room_create(name="Our group", invite=[bot.user_id])
        assert isinstance(theirs, RoomCreateResponse), theirs
        assert isinstance(ours, RoomCreateResponse), ours
        await settle(adapter, 3)
        await stranger.say(theirs.room_id, "hello bot")
        await owner.say(ours.room_id, "welcome everyone")
        await settle(adapter, 2)
        out = {
            "theirs": theirs.room_id,
            "ours": ours.room_id,
            "stranger": stranger.user_id,
            "in_theirs": await membership(stranger, theirs.room_id, bot.user_id),
            "said": await leave_reason(stranger, theirs.room_id, bot.user_id),
            "in_ours": await membership(owner, ours.room_id, bot.user_id),
            "state": ConnectionStore(app.db, config.source).state(),
        }
        await adapter.close()
        await owner.close()
        await stranger.close()
        return out

    out = run(go())
    assert out["in_theirs"] == "leave"  # rejected: never joined
    # politely, in the language of the connection's groups (zh_CN unless given)
    assert out["said"] == Catalogs().gettext("zh_CN")(LEAVE_WORDS[REFUSED])
    assert out["in_ours"] == "join"
    record = out["state"]["refused"][out["theirs"]]
    assert record["by"] == out["stranger"] and record["title"] == "Cheap followers"
    assert record["left"] is True
    assert out["ours"] not in out["state"]["refused"]
    with app.db.connect() as conn:
        chats = {r.chat_id for r in conn.execute(select(events_table.c.chat_id))}
        group_ids = {r.chat_id for r in conn.execute(select(groups.c.chat_id))}
    assert out["theirs"] not in chats and out["theirs"] not in group_ids
    assert out["ours"] in chats


@pytest.mark.parametrize(
    ("status", "body", "wait"),
    [
        (502, {"errcode": "M_UNKNOWN", "error": "Bad gateway"}, LEAVE_RETRY),
        (429, {"errcode": "M_LIMIT_EXCEEDED", "error": "Too many", "retry_after_ms": 7000}, 7.0),
    ],
    ids=["server_error", "rate_limited"],
)
def test_a_refusal_the_homeserver_did_not_take_is_tried_again_while_running(
    status: int,
    body: dict[str, Any],
    wait: float,
    synapse: Synapse,
    make_app: Callable[..., App],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The leave that declines a refused invitation fails once (the homeserver's front answers
    a server error, or a rate limit): it is tried again while the bot runs, once its time has
    come (LEAVE_RETRY, or the homeserver's retry_after), not on every sync and not only after
    a restart; then the invitation is declined and the operator's record says so."""
    app = make_app(features=())
    bot = new_account(synapse, "bot")
    start = datetime.now(UTC)
    clock = ManualClock(start)

    async def go() -> dict[str, Any]:
        owner, stranger = await people(synapse, 2)
        config = bot_config(synapse, bot, invited_by=(owner.user_id,))
        adapter = make_adapter(app.db, config, app.handle, clock=clock)
        await adapter.connect()
        await adapter.sync_once()
        with error_front(status, body) as front:
            leaves = divert(adapter, front, "POST", "/leave", times=1)
            theirs = await stranger.client.room_create(name="Spam room", invite=[bot.user_id])
            assert isinstance(theirs, RoomCreateResponse), theirs
            await settle(adapter, 3)
            out: dict[str, Any] = {
                "room": theirs.room_id,
                "leaves_first": len(leaves),
                "stored": ConnectionStore(app.db, config.source).state(),
                "still_invited": await membership(stranger, theirs.room_id, bot.user_id),
            }
            clock.advance(timedelta(seconds=wait - 1))
            await adapter.sync_once(0)
            out["leaves_before_due"] = len(leaves)
            clock.advance(timedelta(seconds=2))
            await adapter.sync_once(0)
            out["leaves_due"] = len(leaves)
            await stranger.say(theirs.room_id, "anyone here?")
            await settle(adapter, 2)
        out["in_theirs"] = await membership(stranger, theirs.room_id, bot.user_id)
        out["state"] = ConnectionStore(app.db, config.source).state()
        await adapter.close()
        await owner.close()
        await stranger.close()
        return out

    out = run(go())
    room = out["room"]
    assert out["leaves_first"] == 1 and out["still_invited"] == "invite"
    pending = out["stored"]["leaving"][room]  # kept in the stored state: a restart keeps it
    assert pending["left"] is False and pending["why"] == "refused"
    assert datetime.fromisoformat(pending["retry_at"]) == start + timedelta(seconds=wait)
    assert out["stored"]["refused"][room]["left"] is False
    assert out["stored"]["refused"][room]["error"] == pending["error"]
    assert out["leaves_before_due"] == 1  # not on every sync
    assert out["leaves_due"] == 2  # tried again, while running
    assert out["in_theirs"] == "leave"
    record = out["state"]["refused"][room]
    assert record["left"] is True and "error" not in record
    assert out["state"]["leaving"][room] == {"why": "refused", "left": True}
    if status == 502:
        assert f"cannot leave {room} (try 1)" in caplog.text
    assert f"left {room} after all" in caplog.text
    with app.db.connect() as conn:
        chats = {r.chat_id for r in conn.execute(select(events_table.c.chat_id))}
    assert room not in chats


def test_a_refusal_given_up_starts_over_when_invited_anew_and_pending_ones_are_kept(
    synapse: Synapse, make_app: Callable[..., App]
) -> None:
    """A new invitation into a room whose leave was given up tries again from the first try;
    and past MAX_REFUSED remembered rooms, those left go before a leave still to do."""
    app = make_app(features=())
    bot = new_account(synapse, "bot")

    async def go() -> dict[str, Any]:
        owner, stranger = await people(synapse, 2)
        config = bot_config(synapse, bot, invited_by=(owner.user_id,))
        adapter = make_adapter(app.db, config, app.handle)
        await adapter.connect()
        await adapter.sync_once()
        theirs = await stranger.client.room_create(name="Spam room")
        assert isinstance(theirs, RoomCreateResponse), theirs
        leaving = adapter._state.setdefault("leaving", {})
        leaving["!pending:x"] = {"why": "refused", "left": False, "tries": 1, "error": "e"}
        for n in range(MAX_REFUSED - 1):
            leaving[f"!done{n}:x"] = {"why": "refused", "left": True}
        given_up = {"why": "refused", "left": False, "tries": RETRY_TRIES, "error": "e"}
        leaving[theirs.room_id] = given_up
        with error_front(502, {"errcode": "M_UNKNOWN", "error": "Bad gateway"}) as front:
            divert(adapter, front, "POST", "/leave", times=1)
            invited = await stranger.client.room_invite(theirs.room_id, bot.user_id)
            assert not isinstance(invited, ErrorResponse), invited
            await settle(adapter, 2)
        out = {"room": theirs.room_id, "leaving": dict(adapter._state["leaving"])}
        await adapter.close()
        await owner.close()
        await stranger.close()
        return out

    out = run(go())
    record = out["leaving"][out["room"]]
    assert record["tries"] == 1 and record["retry_at"]  # not given up at once
    assert len(out["leaving"]) == MAX_REFUSED
    assert "!pending:x" in out["leaving"] and "!done0:x" not in out["leaving"]


def test_a_private_chat_is_joined_from_a_member_of_a_group_and_declined_from_a_stranger(
    synapse: Synapse, make_app: Callable[..., App]
) -> None:
    """Anyone can mark an invitation direct: with invited_by set, only someone on the list or
    a member of a group the bot is in gets a private chat (never a group); a stranger's is
    declined, as a refused group would be, and not kept."""
    app = make_app(features=())
    bot = new_account(synapse, "bot")

    async def go() -> dict[str, Any]:
        member, stranger = await people(synapse, 2)
        config = bot_config(synapse, bot, invited_by=("@*:elsewhere.example",))
        adapter = make_adapter(app.db, config, app.handle)
        await adapter.connect()
        await adapter.sync_once()
        group = await bot_room(adapter)
        await member.join(group)
        await settle(adapter, 2)
        dm = await member.client.room_create(is_direct=True, invite=[bot.user_id])
        spam = await stranger.client.room_create(is_direct=True, invite=[bot.user_id])
        assert isinstance(dm, RoomCreateResponse), dm
        assert isinstance(spam, RoomCreateResponse), spam
        await settle(adapter, 3)
        await member.say(dm.room_id, "hi, can you help me?")
        await settle(adapter, 2)
        out = {
            "dm": dm.room_id,
            "spam": spam.room_id,
            "joined": await membership(member, dm.room_id, bot.user_id),
            "declined": await membership(stranger, spam.room_id, bot.user_id),
            "direct": adapter.direct_rooms(),
            "refused": dict(adapter._state["refused"]),
            "leaving": dict(adapter._state["leaving"]),
        }
        await adapter.close()
        await member.close()
        await stranger.close()
        return out

    out = run(go())
    assert out["joined"] == "join" and out["dm"] in out["direct"]
    assert out["declined"] == "leave" and out["spam"] not in out["direct"]
    assert out["refused"][out["spam"]]["direct"] is True
    assert out["leaving"][out["spam"]]["left"] is True
    with app.db.connect() as conn:
        chats = {r.chat_id for r in conn.execute(select(events_table.c.chat_id))}
    assert out["dm"] not in chats and out["spam"] not in chats


def test_who_may_invite() -> None:
    allowed = checked_inviters("@olga:example.org, @*:team.example.org")
    assert may_invite(allowed, "@olga:example.org")
    assert may_invite(allowed, "@anyone:team.example.org")
    assert may_invite(allowed, "@anyone:TEAM.example.org")
    assert not may_invite(allowed, "@mallory:example.org")
    assert not may_invite(allowed, "@anyone:evil-team.example.org")
    assert may_invite((), "@mallory:example.org")  # no list: anyone, as before
