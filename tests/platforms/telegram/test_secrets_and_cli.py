"""The bot token is in every Bot API URL: it must never reach a log line (httpx logs each URL,
python-telegram-bot its base URL), an error message, the CLI's output or `connections`."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from groupops.cli import _register_all
from groupops.cli import app as cli
from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError, InvalidSettings, PlatformError
from groupops.engine.app import App
from groupops.platforms.telegram import ConnectionStore, TelegramConfig
from groupops.platforms.telegram.config import identify
from groupops.storage.db import make_engine
from tests.platforms.telegram.conftest import GROUP, TOKEN, fake_in_thread, run, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi


def test_token_never_in_logs_or_errors(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = make_app(features=())
    errors: list[str] = []

    async def go() -> None:
        async with telegram(app, request_timeout=0.3, hang_seconds=0.6) as (fake, adapter):
            fake.post(GROUP, FakeBotApi.person(1, "A"), "hi")
            fake.fail("500", 2, methods={"getUpdates"})
            fake.fail("429", 1, methods={"getUpdates"}, retry_after=1)
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop, timeout=0))
            for _ in range(300):
                if fake.served:
                    break
                await asyncio.sleep(0.02)
            stop.set()
            await asyncio.wait_for(task, 10)
            for kind in ("500", "timeout", "429"):
                fake.fail(kind, 1)
                try:
                    await adapter.perform(
                        Action(ActionKind.SEND, adapter.source, str(GROUP), text="x"),
                        idempotency_key="k",
                    )
                except PlatformError as exc:
                    errors.append(str(exc))
            assert fake.served  # the poll loop came through its failures
            wrong = TelegramConfig(
                "7000001:AAHwrongTOKENwrongTOKEN_0000000000", base_url=fake.base_url
            )
            with pytest.raises(PlatformError) as refused:
                await identify(wrong)
            errors.append(str(refused.value))
            assert "refused the bot token" in str(refused.value)

    run(go())
    assert len(errors) == 4
    assert all(TOKEN not in e and "AAHwrong" not in e for e in errors)
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in text and "AAHwrong" not in text
    # the filter worked (the lines were logged, masked), not a silent logger
    assert any(r.name == "httpx" and "/bot***/getUpdates" in r.getMessage() for r in caplog.records)
    assert any("next try in" in r.getMessage() for r in caplog.records)


def test_malformed_token_is_not_echoed() -> None:
    with pytest.raises(InvalidSettings) as bad:
        TelegramConfig("not-a-token-but-secret-anyway")
    assert "not-a-token" not in str(bad.value)
    assert TOKEN not in repr(TelegramConfig(TOKEN))


def test_connect_telegram_and_connections(database_url: str) -> None:
    _register_all()
    runner = CliRunner()
    with fake_in_thread() as fake:
        args = ["--api-url", fake.base_url, "--database-url", database_url]
        done = runner.invoke(cli, ["connect", "telegram", "--token", TOKEN, *args])
        assert done.exit_code == 0, done.output
        assert "telegram:groupops_test_bot" in done.output and TOKEN not in done.output
        wrong = runner.invoke(
            cli, ["connect", "telegram", "--token", "1:AAHwrongTOKENwrongTOKEN_0000", *args]
        )
        assert wrong.exit_code == 2 and "refused" in wrong.output
        assert "AAHwrong" not in wrong.output
        malformed = runner.invoke(cli, ["connect", "telegram", "--token", "hunter2", *args])
        assert malformed.exit_code == 2 and "hunter2" not in malformed.output
        hook = runner.invoke(
            cli,
            [
                "connect",
                "telegram",
                "--token",
                TOKEN,
                *args,
                "--webhook-url",
                "https://ops.example/hooks/telegram/groupops_test_bot",
            ],
        )
        assert hook.exit_code == 0, hook.output
    db = make_engine(database_url)
    try:
        config, state = ConnectionStore(db, "telegram:groupops_test_bot").load()
        assert config.token == TOKEN and config.bot_id == str(fake.bot_id)
        assert config.mode == "webhook" and len(config.webhook_secret) >= 32
        assert state == {}
    finally:
        db.dispose()
    listed = runner.invoke(cli, ["connections", "--json", "--database-url", database_url])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert ("telegram:groupops_test_bot", "telegram") in [(r["id"], r["platform"]) for r in rows]
    assert TOKEN not in listed.output and config.webhook_secret not in listed.output
    zh = runner.invoke(cli, ["connections", "--lang", "zh_CN", "--database-url", database_url])
    assert zh.exit_code == 0, zh.output
    assert "接收方式" in zh.output and "receives" not in zh.output  # the heads, in --lang
    assert ("否" in zh.output or "是" in zh.output) and "False" not in zh.output


def test_live_companions_include_telegram(database_url: str) -> None:
    from groupops.platforms.connections import live_companions

    with fake_in_thread() as fake:
        db = make_engine(database_url)
        try:
            from groupops.storage.migrate import upgrade

            upgrade(db)
            from datetime import UTC, datetime

            from groupops.platforms.telegram.config import connect

            connect(db, TelegramConfig(TOKEN, base_url=fake.base_url), datetime.now(UTC))
            names = [c.name for c in live_companions(db)]
        finally:
            db.dispose()
    assert "telegram:groupops_test_bot" in names


def test_typed_errors_have_where() -> None:
    with pytest.raises(GroupopsError) as bad:
        TelegramConfig(
            TOKEN, mode="webhook", webhook_url="http://public.example/x", webhook_secret="s"
        )
    assert bad.value.where == "telegram connection" and "https" in bad.value.message
