"""Building blocks of the Matrix tests: a bot connection on the test database, a room."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from nio import RoomCreateResponse, RoomPreset
from sqlalchemy import Engine

from groupops.domain.events import Event
from groupops.platforms.matrix import ConnectionStore, MatrixAdapter, MatrixConfig
from tests.platforms.matrix.conftest import Account, Person, new_account
from tests.platforms.matrix.synapse import Synapse

FAST = {"per_second": 200.0, "per_chat_per_minute": 6000.0, "burst": 100}


class Collected:
    """A stand-in for ``app.handle`` that keeps what it was given (and can fail on demand)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.calls = 0
        self.fail = False

    def __call__(self, batch: Sequence[Event]) -> None:
        self.calls += 1
        if self.fail:
            raise RuntimeError("the database is down")
        self.events.extend(batch)

    def of(self, room_id: str) -> list[Event]:
        return [e for e in self.events if e.chat_id == room_id]


def bot_config(server: Synapse, bot: Account, **options: Any) -> MatrixConfig:
    values: dict[str, Any] = {**FAST, "sync_timeout_ms": 500, **options}
    return MatrixConfig(server.url, bot.user_id, password=bot.password, **values)


def make_adapter(db: Engine, config: MatrixConfig, handle: Any, clock: Any = None) -> MatrixAdapter:
    store = ConnectionStore(db, config.source)
    store.ensure(config, datetime.now(UTC))
    return MatrixAdapter(config, store=store, handle=handle, clock=clock)


async def people(server: Synapse, n: int, prefix: str = "p") -> list[Person]:
    return [await Person(server, new_account(server, prefix)).login() for _ in range(n)]


async def bot_room(adapter: MatrixAdapter, name: str = "Test group", **options: Any) -> str:
    """A public room the bot creates (the bot has power level 100 there)."""
    assert adapter.client is not None
    made = await adapter.client.room_create(
        name=name, preset=options.pop("preset", RoomPreset.public_chat), **options
    )
    assert isinstance(made, RoomCreateResponse), made
    return str(made.room_id)


async def settle(adapter: MatrixAdapter, rounds: int = 2) -> None:
    """Sync until the homeserver has nothing new (the tests' events are all in)."""
    for _ in range(rounds):
        await adapter.sync_once(300)
