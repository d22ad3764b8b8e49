"""A Telegram connection that fails, at start or while serving, keeps trying (QA platforms
findings 1 and 2): Telegram unreachable or answering 5xx when the companion starts is retried
with back-off, never a dead companion; a refused (revoked) token is said as such, not as
"Endpoint 'getUpdates' not found", and a new token stored by ``groupops connect telegram`` is
taken up by the running loop without a restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from groupops.engine.app import App
from groupops.platforms import supervise
from tests.helpers import until
from tests.platforms.telegram.conftest import GROUP, TOKEN, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

NEW_TOKEN = "7000001:AAHnewTOKENneverShownEither_0123456789"
ALICE = FakeBotApi.person(501, "Alice")


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervise, "WATCH_EVERY", 0.05)


def test_telegram_down_at_start_is_retried_not_dropped(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, connect=False) as (fake, adapter):
            fake.fail("502", 2, methods={"getMe"})  # Telegram (or the network) not there yet
            fake.post(GROUP, ALICE, "hello")
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            await until(lambda: len(stored(app)) == 1)
            assert not task.done()  # the loop lives on
            stop.set()
            await asyncio.wait_for(task, 10)
            assert adapter.store.load()[1]["health"]["status"] == "ok"

    with caplog.at_level(logging.INFO, logger="groupops"):
        asyncio.run(go())
    failures = [r for r in caplog.records if "getMe" in r.getMessage()]
    assert len(failures) == 2
    ours = [r for r in caplog.records if r.name.startswith("groupops")]
    assert all(r.exc_info is None for r in ours)  # one line each, no traceback
    assert "next try in 1s" in failures[0].getMessage()
    assert "next try in 2s" in failures[1].getMessage()
    assert not failures[0].getMessage().count("telegram:groupops_test_bot") > 1
    assert any("working again" in r.getMessage() for r in caplog.records)
    assert any("connected to the Bot API" in r.getMessage() for r in caplog.records)


def test_refused_token_at_start_says_so_and_a_new_one_is_taken_up(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, connect=False) as (fake, adapter):
            fake.token = NEW_TOKEN  # revoked at @BotFather: the stored one is refused
            fake.post(GROUP, ALICE, "hello")
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            await until(
                lambda: adapter.store.load()[1].get("health", {}).get("status") == "failing"
            )
            health = adapter.store.load()[1]["health"]
            assert "token was refused" in health["error"]
            assert not stored(app)
            # the operator runs `groupops connect telegram --token NEW` (it stores the config)
            config, _ = adapter.store.load()
            adapter.store.ensure(replace(config, token=NEW_TOKEN), app.clock.now())
            await until(lambda: len(stored(app)) == 1)
            stop.set()
            await asyncio.wait_for(task, 10)

    with caplog.at_level(logging.INFO, logger="groupops"):
        asyncio.run(go())
    lines = [r.getMessage() for r in caplog.records]
    refused = [m for m in lines if "token was refused" in m]
    assert len(refused) == 1 and "groupops connect telegram" in refused[0]
    assert "next try in 300s" in refused[0]
    assert any("settings changed" in m for m in lines)
    assert not any(TOKEN in m or NEW_TOKEN in m for m in lines)


def test_token_revoked_while_polling_is_named_and_fixed_by_connect(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, connect=False) as (fake, adapter):
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            fake.post(GROUP, ALICE, "one")
            await until(lambda: len(stored(app)) == 1)
            fake.token = NEW_TOKEN
            fake.post(GROUP, ALICE, "two")
            await until(lambda: any("token was refused" in r.getMessage() for r in caplog.records))
            config, _ = adapter.store.load()
            adapter.store.ensure(replace(config, token=NEW_TOKEN), app.clock.now())
            await until(lambda: len(stored(app)) == 2)
            stop.set()
            await asyncio.wait_for(task, 10)

    with caplog.at_level(logging.INFO, logger="groupops"):
        asyncio.run(go())
    lines = [r.getMessage() for r in caplog.records]
    assert not any("Endpoint" in m for m in lines)
    assert any("working again" in m for m in lines)


def test_a_bug_reading_the_stored_settings_is_said_and_backed_off_not_hidden(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    """Not "nothing changed" (QA code review finding 14): the loop says the error, waits and
    tries again, and goes on once the settings can be read."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            load = adapter.store.load
            calls = {"n": 0}

            def broken() -> Any:
                calls["n"] += 1
                if calls["n"] <= 2:
                    raise TypeError("from_json() got an unexpected keyword argument 'x'")
                return load()

            adapter.store.load = broken  # type: ignore[method-assign]
            fake.post(GROUP, ALICE, "hello")
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            await until(lambda: len(stored(app)) == 1)
            assert not task.done()
            stop.set()
            await asyncio.wait_for(task, 10)

    with caplog.at_level(logging.INFO, logger="groupops"):
        asyncio.run(go())
    failures = [r.getMessage() for r in caplog.records if "TypeError" in r.getMessage()]
    assert failures and "unexpected keyword argument 'x'" in failures[0]
    assert "next try in" in failures[0]
