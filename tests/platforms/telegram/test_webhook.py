"""The webhook: the fake Bot API posts updates with the secret header to the route served by
uvicorn; requests without the header (401), with another secret (403), or not an update (400)
are refused before anything is stored."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from groupops.engine.app import App
from groupops.platforms.telegram.webhook import (
    SECRET_HEADER,
    telegram_webhook_app,
    telegram_webhook_route,
    webhook_path,
)
from tests.helpers import until
from tests.platforms.telegram.conftest import GROUP, run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

SECRET = "hook_secret-0123456789abcdefABCDEF"
ALICE = FakeBotApi.person(501, "Alice")


@asynccontextmanager
async def serving(app: object) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def webhook_config() -> dict[str, Any]:
    return {
        "mode": "webhook",
        "webhook_secret": SECRET,
        "webhook_url": "http://127.0.0.1:9/hooks/telegram/groupops_test_bot",
    }


def test_updates_posted_by_telegram_are_handled(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, **webhook_config()) as (fake, adapter):
            web = telegram_webhook_app({adapter.config.username: adapter})
            async with serving(web) as base:
                url = base + webhook_path(adapter.config.username)
                adapter.config = type(adapter.config)(
                    **{**adapter.config.to_json(), "webhook_url": url}
                )
                adapter.store.ensure(adapter.config, app.clock.now())  # run() reads the store
                stop = asyncio.Event()
                task = asyncio.create_task(adapter.run(stop))
                fake.join(GROUP, ALICE)
                fake.post(GROUP, ALICE, "hello from the webhook")
                for _ in range(500):
                    if len(stored(app)) == 2:
                        break
                    await asyncio.sleep(0.02)
                fake.webhook = dict(fake.webhook or {}, secret_token="not-the-secret")
                fake.post(GROUP, ALICE, "forged")  # the same route, a wrong secret: refused
                for _ in range(100):
                    if any(status == 403 for _, status in fake.webhook_posts):
                        break
                    await asyncio.sleep(0.02)
                stop.set()
                await asyncio.wait_for(task, 5)
            assert fake.calls("setWebhook")[0].params["secret_token"] == SECRET
            assert [s for _, s in fake.webhook_posts][:2] == [200, 200]
            assert 403 in [s for _, s in fake.webhook_posts]

    run(go())
    assert [r.kind for r in stored(app)] == ["member_joined", "message"]
    assert stored(app)[1].text == "hello from the webhook"


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b'{"update_id": 1}', 401),
        ({SECRET_HEADER: ""}, b'{"update_id": 1}', 401),
        ({SECRET_HEADER: "wrong"}, b'{"update_id": 1}', 403),
        ({SECRET_HEADER: SECRET[:-1]}, b'{"update_id": 1}', 403),
        ({SECRET_HEADER: SECRET + "x"}, b'{"update_id": 1}', 403),
        ({SECRET_HEADER: SECRET}, b"not json", 400),
        ({SECRET_HEADER: SECRET}, b'{"no": "update id"}', 400),
        ({SECRET_HEADER: SECRET}, b"[1, 2]", 400),
    ],
)
def test_bad_requests_are_refused_before_anything_is_stored(
    make_app: Callable[..., App], headers: dict[str, str], body: bytes, status: int
) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, **webhook_config()) as (_, adapter):
            route = telegram_webhook_route(
                lambda name: adapter if name == "groupops_test_bot" else None
            )
            from starlette.applications import Starlette

            web = Starlette(routes=[route])  # mounted in another app, as `groupops serve` would
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=web), base_url="http://hook"
            ) as client:
                answer = await client.post(
                    webhook_path("groupops_test_bot"), content=body, headers=headers
                )
                assert answer.status_code == status
                unknown = await client.post(
                    webhook_path("someone_else"), content=b"{}", headers={SECRET_HEADER: SECRET}
                )
                assert unknown.status_code == 404
                get = await client.get(webhook_path("groupops_test_bot"))
                assert get.status_code == 405

    run(go())
    assert stored(app) == []


def test_the_secret_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check goes through hmac.compare_digest (not ==, which stops at the first difference)."""
    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)

    class _Adapter:
        class config:
            webhook_secret = SECRET

    async def go() -> int:
        web = telegram_webhook_app(lambda name: _Adapter())  # type: ignore[arg-type,return-value]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://hook"
        ) as client:
            answer = await client.post(
                webhook_path("x"), content=b"{}", headers={SECRET_HEADER: "guess"}
            )
            return answer.status_code

    assert run(go()) == 403
    assert seen == [(b"guess", SECRET.encode())]


def test_a_malformed_update_posted_is_answered_200_and_skipped(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram posts an update again until it gets a 2xx, and the ones after it wait: one the
    adapter cannot read is logged and answered 200, and the next ones come."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, **webhook_config()) as (fake, adapter):
            web = telegram_webhook_app({adapter.config.username: adapter})
            async with serving(web) as base:
                url = base + webhook_path(adapter.config.username)
                await adapter.start_webhook()  # the fake posts from now on ...
                fake.webhook = {"url": url, "secret_token": SECRET}  # ... to this server
                fake.post(GROUP, ALICE, "before")
                bad = fake.push({"message": {"chat": {"type": "group"}, "date": 1, "text": "x"}})
                fake.post(GROUP, ALICE, "after")
                with caplog.at_level("WARNING", logger="groupops.platforms.telegram"):
                    await until(lambda: len(fake.webhook_posts) >= 3)
                assert fake.webhook_posts == [(bad - 1, 200), (bad, 200), (bad + 1, 200)]
                assert f"update {bad} skipped" in caplog.text

    run(go())
    assert [r.text for r in stored(app)] == ["before", "after"]
