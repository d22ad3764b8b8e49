"""What a webhook post costs before it proves itself (QA security N3): the Telegram route
checks its secret header before the body is read, and the body limit in front of it counts the
body, never holds it, so a post without the secret that streams its body (no Content-Length)
is refused at its headers; and serve bounds the connections open at once."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import typer
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.types import Message
from typer.main import get_command

from groupops.platforms.telegram.adapter import TelegramAdapter
from groupops.platforms.telegram.webhook import SECRET_HEADER, telegram_webhook_route
from groupops.web import WebConfig, create_web_app
from groupops.web.app import HOOK_MAX_BODY
from groupops.web.runtime import Companion
from groupops.web.security import BodyLimit
from groupops.web.server import ServeOptions
from tests.helpers import wait_until
from tests.web.conftest import LiveServer

SECRET = "hook_secret-0123456789abcdefABCDEF"
PATH = "/hooks/telegram/t_bot"
CHUNK = 64 * 1024


class _Config:
    webhook_secret = SECRET
    enabled = True


class _Bot:
    """What the webhook route asks of a Telegram adapter: its secret, and the updates."""

    source = "telegram:t_bot"

    def __init__(self) -> None:
        self.config = _Config()
        self.updates: list[dict[str, Any]] = []

    async def process(self, updates: list[dict[str, Any]]) -> None:
        self.updates += updates


def _route(bot: _Bot) -> Any:
    return telegram_webhook_route(lambda name: cast(TelegramAdapter, bot) if name else None)


def _hook(bot: _Bot) -> Companion:
    async def idle(app: object, stop: asyncio.Event) -> None:
        await stop.wait()

    return Companion(bot.source, idle, routes=[_route(bot)])


def _post(headers: dict[str, str], chunks: int) -> tuple[int, int, list[Message], _Bot]:
    """A chunked post (no Content-Length) of ``chunks`` 64 KiB parts straight to the ASGI app
    as the web app stacks it: its status, how many parts were read, and what was sent."""
    bot = _Bot()
    app = BodyLimit(Starlette(routes=[_route(bot)]), 64 * 1024, {"/hooks/": HOOK_MAX_BODY})
    scope = {
        "type": "http",
        "method": "POST",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"transfer-encoding", b"chunked")]
        + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        if read == chunks:
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": b" " * CHUNK, "more_body": read < chunks}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert len(starts) == 1, sent
    return int(starts[0]["status"]), read, sent, bot


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({SECRET_HEADER: "not-the-secret"}, 403)]
)
def test_a_post_without_the_secret_is_refused_before_its_body_is_read(
    headers: dict[str, str], status: int
) -> None:
    answered, read, _, bot = _post(headers, chunks=15)  # 960 KiB: under the webhook's limit
    assert (answered, read) == (status, 0)
    assert bot.updates == []


def test_a_post_with_the_secret_is_cut_at_the_limit_while_read() -> None:
    answered, read, sent, bot = _post({SECRET_HEADER: SECRET}, chunks=40)
    assert answered == 413
    assert read == HOOK_MAX_BODY // CHUNK + 1  # no further than the limit
    assert b"too_large" in b"".join(m.get("body", b"") for m in sent)
    assert bot.updates == []


def test_a_chunked_update_with_the_secret_is_handled(web_config: WebConfig) -> None:
    bot = _Bot()

    def body() -> Iterator[bytes]:
        yield b'{"update_id": 7, '
        yield b'"message": {}}'

    with TestClient(create_web_app(web_config, companions=[_hook(bot)])) as client:
        posted = client.post(PATH, content=body(), headers={SECRET_HEADER: SECRET})
        refused = client.post(PATH, content=body())
    assert posted.json() == {"ok": True}
    assert refused.status_code == 401
    assert bot.updates == [{"update_id": 7, "message": {}}]


def test_served_a_post_without_the_secret_is_answered_at_its_headers(
    web_config: WebConfig,
) -> None:
    """Through uvicorn as serve runs it: the headers of a chunked post and not a byte of body;
    the answer comes all the same (before this, the server waited for up to 1 MB)."""
    with (
        LiveServer(web_config, companions=[_hook(_Bot())]) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn,
    ):
        conn.sendall(
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n".encode()
        )
        head = conn.recv(4096)
    assert head.startswith(b"HTTP/1.1 401 "), head


def test_serve_answers_503_while_its_connections_are_all_open(web_config: WebConfig) -> None:
    def status() -> int:
        return httpx.get(server.url + "/api/groups", timeout=5).status_code

    with LiveServer(web_config, options=ServeOptions(max_connections=2)) as server:
        assert status() == 200
        with socket.create_connection(("127.0.0.1", server.port), timeout=10):  # idle
            wait_until(lambda: status() == 503, timeout=10, what="503 with 2 connections open")
        wait_until(lambda: status() == 200, timeout=10, what="200 once the idle one closed")


def test_serves_default_bound_is_the_command_lines(cli: typer.Typer) -> None:
    serve = get_command(cli).commands["serve"]  # type: ignore[attr-defined]
    option = next(p for p in serve.params if p.name == "max_connections")
    assert option.default == ServeOptions().max_connections == 100
