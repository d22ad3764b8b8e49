"""The bot's command menu (setMyCommands): the "/" keywords of the features enabled by default
in the connection's workspace, in English (the default list) and in Chinese (``zh``), for every
group chat; sent again only when they change, and a refusal never stops the connection."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeChat
from telegram.error import BadRequest

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry
from groupops.i18n import Catalogs
from groupops.platforms.connections import live_companions
from groupops.platforms.telegram import TelegramAdapter, TelegramConfig
from groupops.platforms.telegram.config import connect
from groupops.platforms.telegram.menu import MENU_EVERY, telegram_menu
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from groupops.web import WebConfig, create_web_app
from tests.helpers import until, wait_until
from tests.platforms.telegram.conftest import GROUP, TOKEN, fake_in_thread, run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

GROUPS = {"type": "all_group_chats"}
#: the default workspace's menu: welcome's /help (its /rules only once there are rules),
#: check-in's three commands, the points feature's two, in the engine's order of features
DEFAULT_MENU = [
    ("help", "the commands I answer in this group"),
    ("checkin", "check in for today (a goal may follow)"),
    ("makeup", "use a make-up card for your last missed day"),
    ("checkin_rank", "today's check-in ranking"),
    ("points", "your points, level and place this month"),
    ("top", "this month's points leaderboard"),
]
ALICE = FakeBotApi.person(501, "Alice")
POINTS = "groupops.features.points:PointsFeature"


def listed(fake: FakeBotApi, language: str = "") -> list[tuple[str, str]]:
    return [(c["command"], c["description"]) for c in fake.command_list(GROUPS, language)]


def with_menu(app: App, adapter: TelegramAdapter) -> TelegramAdapter:
    """The adapter reading the menu as ``groupops serve`` gives it (App.command_menu)."""
    adapter.menu = lambda: app.command_menu(adapter.source)
    return adapter


def set_default(app: App, feature: str, key: str, value: Any) -> None:
    settings_admin.set_setting(app.db, app.registry, feature=feature, key=key, value=value)


def later(app: App) -> None:
    app.clock.advance(MENU_EVERY + 1)  # type: ignore[attr-defined]


def test_menu_registered_in_english_and_chinese(make_app: Callable[..., App]) -> None:
    app = make_app()

    async def go() -> None:
        async with telegram(app, poll_timeout=1) as (fake, adapter):
            with_menu(app, adapter)
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            await until(lambda: len(fake.calls("setMyCommands")) == 2)
            fake.post(GROUP, ALICE, "hello")  # and the connection receives as ever
            await until(lambda: len(stored(app)) == 1)
            stop.set()
            await asyncio.wait_for(task, 10)
            assert listed(fake) == DEFAULT_MENU
            t = Catalogs().gettext("zh_CN")
            chinese = listed(fake, "zh")
            assert chinese == [(name, t(does)) for name, does in DEFAULT_MENU]
            assert chinese != DEFAULT_MENU  # translated
            assert fake.command_list() == []  # not the default scope: not in private chats
            _, state = adapter.store.load()
            assert state["commands"] == {
                "": [list(c) for c in DEFAULT_MENU],
                "zh": [list(c) for c in chinese],
            }

    run(go())


def test_rules_command_once_there_are_rules(make_app: Callable[..., App]) -> None:
    app = make_app()
    set_default(app, "welcome", "rules", "Be kind.")

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            await with_menu(app, adapter).sync_menu()
            assert [name for name, _ in listed(fake)][:2] == ["rules", "help"]
            assert listed(fake)[0] == ("rules", "the group's rules")

    run(go())


def test_not_sent_again_when_nothing_changed(make_app: Callable[..., App]) -> None:
    app = make_app()

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            await with_menu(app, adapter).sync_menu()
            assert len(fake.calls("setMyCommands")) == 2
            later(app)
            await adapter.sync_menu()
            # a restart: a new adapter, the state as stored
            await adapter.close()
            again = with_menu(app, TelegramAdapter(adapter.config, store=adapter.store))
            await again.connect()
            try:
                await again.sync_menu()
            finally:
                await again.close()
            assert len(fake.calls("setMyCommands")) == 2

    run(go())


def test_sent_again_after_a_keyword_changed(make_app: Callable[..., App]) -> None:
    app = make_app()

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            await with_menu(app, adapter).sync_menu()
            set_default(app, "checkin", "keywords", ["签到", "/daka"])
            await adapter.sync_menu()  # within the minute: not looked at yet
            assert len(fake.calls("setMyCommands")) == 2
            later(app)
            await adapter.sync_menu()
            assert [name for name, _ in listed(fake)] == [
                "help",
                "daka",
                "makeup",
                "checkin_rank",
                "points",
                "top",
            ]
            assert [name for name, _ in listed(fake, "zh")] == [name for name, _ in listed(fake)]
            # a group's own settings do not change the workspace's menu
            app.sandbox.create_chat("c1", "Own settings")
            app.handle([app.sandbox.join("c1", "admin", "Admin", is_admin=True)])
            settings_admin.set_setting(
                app.db, app.registry, feature="points", key="enabled", value=False, group_ref="1"
            )
            later(app)
            await adapter.sync_menu()
            assert len(fake.calls("setMyCommands")) == 4
            set_default(app, "points", "enabled", False)  # a feature turned off by default
            later(app)
            await adapter.sync_menu()
            assert [name for name, _ in listed(fake)] == ["help", "daka", "makeup", "checkin_rank"]
            assert len(fake.calls("setMyCommands")) == 6
            for feature in ("welcome", "checkin"):
                set_default(app, feature, "enabled", False)
            later(app)
            await adapter.sync_menu()  # nothing left: the lists are deleted
            assert listed(fake) == listed(fake, "zh") == []
            assert len(fake.calls("deleteMyCommands")) == 2

    run(go())


def test_a_refusal_is_logged_and_the_connection_goes_on(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    refusal = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"

    async def go() -> None:
        async with telegram(app, poll_timeout=1) as (fake, adapter):
            fake.fail("400", 2, {"setMyCommands"}, description=refusal)
            with_menu(app, adapter)
            stop = asyncio.Event()
            task = asyncio.create_task(adapter.run(stop))
            await until(lambda: len(fake.calls("setMyCommands", ok_only=False)) == 2)
            fake.post(GROUP, ALICE, "still here")
            await until(lambda: len(stored(app)) == 1)
            later(app)  # the next look: the same lists, refused as they are: not sent again
            fake.post(GROUP, ALICE, "and here")
            await until(lambda: len(stored(app)) == 2)
            stop.set()
            await asyncio.wait_for(task, 10)
            assert len(fake.calls("setMyCommands", ok_only=False)) == 2
            assert listed(fake) == []
            _, state = adapter.store.load()
            assert "commands" not in state
            assert (state.get("health") or {}).get("status") == "ok"
            # connecting again (a restart, a new token) tries once more
            await adapter.close()
            await adapter.connect()
            await adapter.sync_menu()
            assert listed(fake) == DEFAULT_MENU

    with caplog.at_level(logging.WARNING, logger="groupops.platforms.telegram.adapter"):
        run(go())
    warnings = [r.getMessage() for r in caplog.records if "command menu" in r.getMessage()]
    said = BadRequest(refusal).message  # as python-telegram-bot words it
    assert len(warnings) == 2 and all(f"refused: {said}" in w for w in warnings)
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_a_menu_that_cannot_be_read_is_logged(
    make_app: Callable[..., App], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    def broken() -> Any:
        raise RuntimeError("database gone")

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            adapter.menu = broken
            await adapter.sync_menu()
            assert fake.calls("setMyCommands") == []

    with caplog.at_level(logging.WARNING, logger="groupops.platforms.telegram.adapter"):
        run(go())
    assert any("command menu not read: database gone" in r.getMessage() for r in caplog.records)


def test_only_words_telegram_takes_as_commands() -> None:
    long = "a" * 33
    menu = {
        "en": [
            ("签到", "check in"),
            ("/CheckIn", "check in"),
            ("/checkin", "check in (again)"),
            ("/签到", "check in"),
            ("/check-in", "check in"),
            (f"/{long}", "too long"),
            ("/", "nothing"),
            ("/top", "x" * 300),
            ("/blank", "  "),
        ]
        + [(f"/c{i}", "many") for i in range(120)],
        "zh_CN": [("帮助", "列表"), ("/help", "列表")],
    }
    lists = telegram_menu(menu)
    assert lists[""][:3] == [["checkin", "check in"], ["top", "x" * 256], ["blank", "/blank"]]
    assert len(lists[""]) == 100
    assert lists["zh"] == [["help", "列表"]]


def test_the_fake_checks_as_the_bot_api_does() -> None:
    """python-telegram-bot against the fake: Telegram's own refusals."""

    async def go() -> None:
        fake = await FakeBotApi(TOKEN).start()
        fake.add_chat(GROUP, "Study group")
        bot = Bot(TOKEN, base_url=fake.base_url)
        try:
            await bot.initialize()
            scope = BotCommandScopeAllGroupChats()
            refused = {
                "Bad Request: BOT_COMMAND_INVALID": ([BotCommand("CheckIn", "x")], None),
                "Bad Request: command must be non-empty": ([BotCommand("/", "x")], None),
                "Bad Request: command length must not exceed 32": (
                    [BotCommand("a" * 33, "x")],
                    None,
                ),
                "Bad Request: command description must be non-empty": (
                    [BotCommand("a", " ")],
                    None,
                ),
                "Bad Request: command description length must not exceed 256": (
                    [BotCommand("a", "x" * 257)],
                    None,
                ),
                "Bad Request: BOT_COMMANDS_TOO_MUCH": (
                    [BotCommand(f"c{i}", "x") for i in range(101)],
                    None,
                ),
                "Bad Request: invalid language code specified": ([BotCommand("a", "x")], "eng"),
            }
            for text, (commands, language) in refused.items():
                with pytest.raises(BadRequest) as caught:
                    await bot.set_my_commands(commands, scope=scope, language_code=language)
                assert caught.value.message == BadRequest(text).message
            with pytest.raises(BadRequest, match=r"^Chat not found$"):
                await bot.set_my_commands([BotCommand("a", "x")], scope=BotCommandScopeChat(1))
            # a leading "/" and spaces are dropped, as Telegram stores them
            assert await bot.set_my_commands([BotCommand(" /top ", " board ")], scope=scope)
            assert await bot.set_my_commands([BotCommand("hilfe", "Liste")], language_code="de")
            (got,) = await bot.get_my_commands(scope=scope)
            assert (got.command, got.description) == ("top", "board")
            assert await bot.get_my_commands(scope=scope, language_code="de") == ()
            assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["hilfe"]
            assert await bot.delete_my_commands(scope=scope)
            assert await bot.get_my_commands(scope=scope) == ()
        finally:
            await bot.shutdown()
            await fake.stop()

    run(go())


def test_serve_registers_the_menu_of_the_connection_s_workspace(database_url: str) -> None:
    with fake_in_thread() as fake:
        db = make_engine(database_url)
        try:
            upgrade(db)
            connect(
                db,
                TelegramConfig(TOKEN, base_url=fake.base_url, poll_timeout=1),
                datetime.now(UTC),
                workspace="club",
            )
            settings_admin.set_setting(  # the connection's workspace, not "default"
                db,
                FeatureRegistry.load((POINTS,), extensions=False),
                feature="points",
                key="points_keywords",
                value=["积分", "/score"],
                workspace="club",
            )
            companions = live_companions(db)
        finally:
            db.dispose()
        config = WebConfig(
            database_url=database_url,
            features=(POINTS,),
            extensions=False,
            secret="s",
            groups=(),
        )
        with TestClient(create_web_app(config, companions=companions)):
            wait_until(lambda: len(fake.calls("setMyCommands")) == 2, timeout=10)
            time.sleep(0.1)
        assert listed(fake) == [("score", DEFAULT_MENU[-2][1]), DEFAULT_MENU[-1]]
