"""Two changes of one room's power levels at once both survive (QA code review finding 3): a
mute by the deliverer while the sync loop lifts an expired mute, and a member muted anew while
their old mute is being lifted. Real Synapse; the bot's reads of the power levels are slowed
down so that, without one change at a time per room, both would read the same levels and the
second write would undo the first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from nio import RoomGetStateEventResponse
from sqlalchemy import Engine

from groupops.domain.actions import Action, ActionKind
from groupops.engine.clock import ManualClock
from groupops.platforms.matrix import MatrixAdapter
from tests.platforms.matrix.conftest import Person, new_account, run
from tests.platforms.matrix.helpers import Collected, bot_config, bot_room, make_adapter, people
from tests.platforms.matrix.synapse import Synapse


class Room:
    """A room of the bot with two members, and the bot's reads of state slowed down."""

    def __init__(self, adapter: MatrixAdapter, room: str, a: Person, b: Person) -> None:
        self.adapter, self.room, self.a, self.b = adapter, room, a, b
        assert adapter.client is not None
        self.read = adapter.client.room_get_state_event

        async def slow(room_id: str, event_type: str, state_key: str = "") -> Any:
            answer = await self.read(room_id, event_type, state_key)
            await asyncio.sleep(0.3)  # the other change reads the same levels meanwhile
            return answer

        adapter.client.room_get_state_event = slow
        self.keys = iter(range(1, 1000))

    async def mute(self, user: str, until: datetime | None = None) -> None:
        action = Action(ActionKind.MUTE, self.adapter.source, self.room, user_id=user, until=until)
        await self.adapter.perform(action, idempotency_key=f"outbox:{next(self.keys)}")

    async def users(self) -> dict[str, int]:
        levels = await self.read(self.room, "m.room.power_levels")
        assert isinstance(levels, RoomGetStateEventResponse), levels
        return dict(levels.content.get("users") or {})


async def _room(synapse: Synapse, db: Engine, clock: ManualClock) -> Room:
    adapter = make_adapter(db, bot_config(synapse, new_account(synapse, "bot")), Collected(), clock)
    await adapter.connect()
    await adapter.sync_once()
    room = await bot_room(adapter)
    a, b = await people(synapse, 2)
    await a.join(room)
    await b.join(room)
    return Room(adapter, room, a, b)


async def _close(r: Room) -> None:
    await r.adapter.close()
    await r.a.close()
    await r.b.close()


def test_a_mute_while_an_expired_one_is_lifted_in_the_same_room(
    synapse: Synapse, db: Engine
) -> None:
    clock = ManualClock(datetime.now(UTC))

    async def go() -> tuple[dict[str, int], int, Room]:
        r = await _room(synapse, db, clock)
        await r.mute(r.b.user_id, until=clock.now() + timedelta(minutes=1))
        clock.advance(timedelta(minutes=2))
        _, lifted = await asyncio.gather(r.mute(r.a.user_id), r.adapter.lift_due_mutes())
        users = await r.users()
        await _close(r)
        return users, lifted, r

    users, lifted, r = run(go())
    assert lifted == 1
    assert users.get(r.a.user_id, 0) < 0  # A's mute was not undone by the lift
    assert r.b.user_id not in users  # B's level is back to the room's default
    assert set(r.adapter._state["mutes"]) == {f"{r.room} {r.a.user_id}"}


def test_a_member_muted_anew_while_their_old_mute_is_lifted_stays_muted(
    synapse: Synapse, db: Engine
) -> None:
    clock = ManualClock(datetime.now(UTC))

    async def go() -> tuple[dict[str, int], int, Room]:
        r = await _room(synapse, db, clock)
        await r.mute(r.b.user_id, until=clock.now() + timedelta(minutes=1))
        clock.advance(timedelta(minutes=2))
        later = clock.now() + timedelta(hours=1)
        _, lifted = await asyncio.gather(
            r.mute(r.b.user_id, until=later), r.adapter.lift_due_mutes()
        )
        users = await r.users()
        await _close(r)
        return users, lifted, r

    users, lifted, r = run(go())
    assert lifted == 0
    assert users.get(r.b.user_id, 0) < 0
    record = r.adapter._state["mutes"][f"{r.room} {r.b.user_id}"]
    assert datetime.fromisoformat(record["until"]) > clock.now()
