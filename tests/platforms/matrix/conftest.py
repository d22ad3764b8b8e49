"""A real Synapse on 127.0.0.1 for the Matrix tests; people are matrix-nio clients.

One homeserver per pytest session, so each xdist worker (``-n 2``) gets its own, on its own free
port, in its own folder. Tests that need other rate limits start their own (``start_synapse``).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from nio import AsyncClient, AsyncClientConfig, JoinResponse, LoginResponse, SyncResponse

from tests.conftest import need_service
from tests.platforms.matrix.synapse import SERVER_NAME, Synapse, synapse_available

T = TypeVar("T")
_names = itertools.count(1)


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


def start_synapse(directory: Path, **options: Any) -> Synapse:
    reason = synapse_available()
    if reason is not None:
        need_service("Synapse", reason)
    server = Synapse(directory, **options)
    try:
        server.start()
    except RuntimeError as exc:
        need_service("Synapse", str(exc))
    return server


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = start_synapse(tmp_path_factory.mktemp("synapse"))
    yield server
    server.stop()


@dataclass
class Account:
    user_id: str
    password: str = field(repr=False)


def new_account(server: Synapse, prefix: str) -> Account:
    localpart = f"{prefix}{next(_names)}x{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(12)
    return Account(server.register(localpart, password), password)


@pytest.fixture
def account(synapse: Synapse) -> Callable[[str], Account]:
    def make(prefix: str = "user") -> Account:
        return new_account(synapse, prefix)

    return make


class Person:
    """A simulated member: a logged-in matrix-nio client that can sync to read what arrives."""

    def __init__(self, server: Synapse, account: Account) -> None:
        self.server = server
        self.account = account
        self.user_id = account.user_id
        self.client = AsyncClient(
            server.url, account.user_id, config=AsyncClientConfig(max_limit_exceeded=None)
        )
        self.since: str | None = None

    async def login(self) -> Person:
        answer = await self.client.login(self.account.password)
        assert isinstance(answer, LoginResponse), answer
        first = await self.client.sync(timeout=0)
        assert isinstance(first, SyncResponse), first
        self.since = first.next_batch
        return self

    async def join(self, room_id: str) -> None:
        answer = await self.client.join(room_id)
        assert isinstance(answer, JoinResponse), answer

    async def say(self, room_id: str, body: str, **extra: Any) -> str:
        content = {"msgtype": "m.text", "body": body, **extra}
        answer = await self.client.room_send(room_id, "m.room.message", content)
        event_id: str = getattr(answer, "event_id", "")
        assert event_id, answer
        return event_id

    async def events(self, room_id: str, timeout_ms: int = 1000) -> list[dict[str, Any]]:
        """The raw timeline events of ``room_id`` since the last call."""
        answer = await self.client.sync(timeout=timeout_ms, since=self.since)
        assert isinstance(answer, SyncResponse), answer
        self.since = answer.next_batch
        room = answer.rooms.join.get(room_id)
        return [e.source for e in room.timeline.events] if room else []

    async def wait_for(
        self, room_id: str, match: Callable[[dict[str, Any]], bool], seconds: float = 15
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            for raw in await self.events(room_id):
                if match(raw):
                    return raw
        raise AssertionError(f"{self.user_id} saw no matching event in {room_id}")

    async def close(self) -> None:
        await self.client.close()


__all__ = ["SERVER_NAME", "Account", "Person", "new_account", "run", "start_synapse"]
