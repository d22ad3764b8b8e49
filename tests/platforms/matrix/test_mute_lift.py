"""A timed mute the homeserver keeps failing to lift (a server error each time) is tried again
with a growing pause, not at every sync for ever, and after RETRY_TRIES tries it is a dead
letter the operator sees and can send again. Real Synapse on 127.0.0.1; its answers to the
bot's changes of the power levels are a 502 from a stand-in at the HTTP boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import RoomGetStateEventResponse
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.engine.clock import ManualClock
from groupops.engine.deadletters import list_outbox
from groupops.platforms.matrix import ConnectionStore
from groupops.platforms.matrix.deliver import MUTE_LIFT
from groupops.platforms.matrix.homeserver import RETRY_TRIES, UNMUTE_RETRY, AccessRefused
from tests.platforms.matrix.conftest import new_account, run
from tests.platforms.matrix.helpers import (
    Collected,
    bot_config,
    bot_room,
    divert,
    error_front,
    make_adapter,
    people,
)
from tests.platforms.matrix.synapse import Synapse

BAD_GATEWAY = {"errcode": "M_UNKNOWN", "error": "Bad gateway"}


def test_a_lift_failing_with_server_errors_backs_off_then_is_a_dead_letter(
    synapse: Synapse, db: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = ManualClock(start)

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected())
        adapter.clock = clock
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (bob,) = await people(synapse, 1)
        await bob.join(room)
        mute = Action(
            ActionKind.MUTE,
            adapter.source,
            room,
            user_id=bob.user_id,
            until=clock.now() + timedelta(minutes=10),
        )
        await adapter.perform(mute, idempotency_key="outbox:1")
        key = f"{room} {bob.user_id}"
        clock.advance(timedelta(minutes=11))
        ended = clock.now()
        out: dict[str, Any] = {"room": room, "bob": bob.user_id, "puts": [], "waits": []}
        with error_front(502, BAD_GATEWAY) as front:
            puts = divert(adapter, front, "PUT", "m.room.power_levels", times=RETRY_TRIES)
            assert await adapter.lift_due_mutes() == 0
            out["puts"].append(len(puts))
            out["stored"] = ConnectionStore(db, adapter.source).state()["mutes"][key]
            assert await adapter.lift_due_mutes() == 0  # at the next sync: not due yet
            out["puts"].append(len(puts))
            while key in adapter._state["mutes"]:
                retry_at = datetime.fromisoformat(adapter._state["mutes"][key]["retry_at"])
                out["waits"].append((retry_at - clock.now()).total_seconds())
                clock.advance(retry_at - clock.now())
                assert await adapter.lift_due_mutes() == 0
                assert len(out["waits"]) < 50, "never given up"
            out["puts"].append(len(puts))
            out["given_up_after"] = clock.now() - ended
        out["dead"] = list_outbox(db, "dead")
        # the homeserver is well again: the dead letter, sent again, lifts the mute
        dead = out["dead"][0]
        again = Action.from_json(dead["payload"])
        await adapter.perform(again, idempotency_key=f"outbox:{dead['id']}")
        levels = await bob.client.room_get_state_event(room, "m.room.power_levels")
        assert isinstance(levels, RoomGetStateEventResponse), levels
        out["bob_level"] = levels.content.get("users", {}).get(bob.user_id)
        await adapter.close()
        await bob.close()
        return out

    out = run(go())
    stored = out["stored"]  # a restart keeps the tries and the next one
    assert stored["tries"] == 1 and "homeserver error 502" in stored["error"]
    assert datetime.fromisoformat(stored["retry_at"]) == start + timedelta(
        minutes=11, seconds=UNMUTE_RETRY
    )
    assert out["puts"][:2] == [1, 1]  # not tried again at every sync
    assert out["puts"][2] == RETRY_TRIES
    assert out["waits"] == [UNMUTE_RETRY * 2**n for n in range(RETRY_TRIES - 1)]
    assert out["given_up_after"] == timedelta(seconds=UNMUTE_RETRY * (2 ** (RETRY_TRIES - 1) - 1))
    (dead,) = out["dead"]
    assert (dead["kind"], dead["feature"]) == ("unmute", MUTE_LIFT)
    assert dead["payload"]["user_id"] == out["bob"] and dead["chat_id"] == out["room"]
    assert dead["attempts"] == RETRY_TRIES
    assert "homeserver error 502" in dead["last_error"]
    assert f"cannot unmute {out['bob']} in {out['room']} (try 1)" in caplog.text
    assert f"given up after {RETRY_TRIES} tries" in caplog.text
    assert out["bob_level"] is None  # back to the room's default


def test_a_lift_refused_for_the_lost_login_is_no_dead_letter(synapse: Synapse, db: Engine) -> None:
    """The homeserver no longer takes the bot's login while a mute is lifted: that is the
    connection's failure (the loop says it, and waits for a new login), not the unmute's. The
    mute stays to lift, no try counted; it was a dead letter (a refusal for good) before."""
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))

    async def go() -> dict[str, Any]:
        adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected())
        adapter.clock = clock
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (bob,) = await people(synapse, 1)
        await bob.join(room)
        until = clock.now() + timedelta(minutes=10)
        mute = Action(ActionKind.MUTE, adapter.source, room, user_id=bob.user_id, until=until)
        await adapter.perform(mute, idempotency_key="outbox:1")
        clock.advance(timedelta(minutes=11))
        logged_out = {"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."}
        with error_front(401, logged_out) as front:
            divert(adapter, front, "PUT", "m.room.power_levels", times=1)
            with pytest.raises(AccessRefused):
                await adapter.lift_due_mutes()
        out: dict[str, Any] = {"record": dict(adapter._state["mutes"][f"{room} {bob.user_id}"])}
        out["lifted"] = await adapter.lift_due_mutes()  # the login is back
        await adapter.close()
        await bob.close()
        return out

    out = run(go())
    assert "tries" not in out["record"] and "retry_at" not in out["record"]
    assert out["lifted"] == 1
    assert list_outbox(db, "dead") == []
