"""Building blocks of the Matrix tests: a bot connection on the test database, a room, and
a homeserver error answered to chosen requests."""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import RoomCreateResponse, RoomGetStateEventResponse, RoomPreset
from sqlalchemy import Engine

from groupops.domain.events import Event
from groupops.platforms.matrix import ConnectionStore, MatrixAdapter, MatrixConfig
from tests.cli import cli_app
from tests.cli import run as run_cli
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


async def invite_bot(person: Person, bot: str, name: str, **options: Any) -> str:
    """A room ``person`` makes, named ``name``, inviting the bot (``is_direct=True``: a
    private chat)."""
    made = await person.client.room_create(name=name, invite=[bot], **options)
    assert isinstance(made, RoomCreateResponse), made
    return str(made.room_id)


async def bot_in(person: Person, room_id: str, bot: str) -> tuple[str, str]:
    """The bot's membership in ``room_id`` as ``person`` reads it, and its reason."""
    answer = await person.client.room_get_state_event(room_id, "m.room.member", bot)
    assert isinstance(answer, RoomGetStateEventResponse), answer
    return str(answer.content.get("membership")), str(answer.content.get("reason") or "")


async def close_all(adapter: MatrixAdapter, *persons: Person) -> None:
    """Close the bot's connection and the people's clients."""
    await adapter.close()
    for person in persons:
        await person.close()


def connections_output(database_url: str, *options: str) -> str:
    """What `groupops connections` prints (100 columns wide) with ``options``."""
    res = run_cli(cli_app(), "connections", "--database-url", database_url, *options, COLUMNS="100")
    assert res.exit_code == 0, res.output
    return res.output


def connections_said(database_url: str, lang: str) -> str:
    """`groupops connections` in ``lang`` as one line, however it wraps."""
    return " ".join(connections_output(database_url, "--lang", lang).split())


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


@contextmanager
def served(
    handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering with ``handler`` in a thread of its own (over
    TLS with ``tls``): its URL, for as long as the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        scheme = "https" if tls is not None else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def error_front(status: int, body: dict[str, Any]) -> Iterator[str]:
    """A stand-in homeserver (a real HTTP server on 127.0.0.1) that answers every request with
    ``status`` and the Matrix error ``body``: its URL. See :func:`divert`."""

    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            return None

    with served(Answer) as url:
        yield url


@contextmanager
def answer_lost(homeserver: str) -> Iterator[str]:
    """A stand-in (a real HTTP server on 127.0.0.1) that passes each request on to the real
    ``homeserver`` and then closes the connection without answering, as a time-out or a
    dropped connection after the homeserver did the work: its URL. See :func:`divert`."""

    class Pass(BaseHTTPRequestHandler):
        def _pass_on(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size) if size else None
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
            }
            request = urllib.request.Request(
                homeserver + self.path, data=body, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as done:
                    done.read()
            except urllib.error.HTTPError:
                pass  # what the homeserver answered is lost all the same
            self.close_connection = True  # no answer

        do_GET = do_PUT = do_POST = _pass_on

        def log_message(self, format: str, *args: object) -> None:
            return None

    with served(Pass) as url:
        yield url


def requests_of(adapter: MatrixAdapter) -> list[tuple[str, str]]:
    """Every request the adapter's matrix-nio client makes from now on, as (method, path)."""
    return _wrap_send(adapter, lambda how, path: False)


def divert(
    adapter: MatrixAdapter, front: str, method: str, path_part: str, times: int
) -> list[str]:
    """The next ``times`` requests of the adapter's matrix-nio client with ``method`` and a
    path containing ``path_part`` go to ``front`` (:func:`error_front`) instead of the
    homeserver, at the HTTP boundary (matrix-nio parses the answer as it would Synapse's).
    Every such request is listed in what is returned, diverted or not. The tests make one
    request at a time: the homeserver's address is swapped for the one request."""
    seen: list[str] = []

    def diverted(how: str, path: str) -> bool:
        if how != method or path_part not in path:
            return False
        seen.append(path)
        return len(seen) <= times

    _wrap_send(adapter, diverted, front)
    return seen


def _wrap_send(
    adapter: MatrixAdapter, diverted: Callable[[str, str], bool], front: str = ""
) -> list[tuple[str, str]]:
    """Every request of the adapter's client from now on is listed in what is returned; those
    ``diverted`` says yes to go to ``front``."""
    client = adapter.client
    assert client is not None
    send = client.send
    made: list[tuple[str, str]] = []

    async def wrapped(how: str, path: str, *args: Any, **kwargs: Any) -> Any:
        made.append((how, path))
        if not diverted(how, path):
            return await send(how, path, *args, **kwargs)
        real, client.homeserver = client.homeserver, front
        try:
            return await send(how, path, *args, **kwargs)
        finally:
            client.homeserver = real

    client.send = wrapped
    return made


async def upgrade_room(person: Person, room: str) -> str:
    """The homeserver's own room upgrade (``POST /rooms/{roomId}/upgrade``) to its default
    room version: a tombstone in the old room names the new one."""
    headers = {"Authorization": f"Bearer {person.client.access_token}"}
    base = f"{person.server.url}/_matrix/client/v3"
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{base}/capabilities") as answer:
            version = (await answer.json())["capabilities"]["m.room_versions"]["default"]
        async with http.post(
            f"{base}/rooms/{quote(room)}/upgrade", json={"new_version": version}
        ) as answer:
            body = await answer.json()
            assert answer.status == 200, body
    return str(body["replacement_room"])


async def owners_room(alice: Person, bot: str, bot_level: int) -> str:
    """A public room ``alice`` makes (power level 100) and invites the bot into, with
    ``bot_level``."""
    made = await alice.client.room_create(
        name="Owners' room",
        preset=RoomPreset.public_chat,
        invite=[bot],
        power_level_override={"users": {bot: bot_level}},  # alice: the creator
    )
    assert isinstance(made, RoomCreateResponse), made
    return str(made.room_id)
