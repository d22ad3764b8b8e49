"""The Telegram adapter's own words in its errors (a dead letter's last error, a connection's
health) are defined once, in engine.deadletters: each error is raised with that very object and
its values apart, stores the English it stored before (rows written by earlier versions read
back the same), and a zh_CN operator reads it in Chinese (``outbox list`` and ``connections``
through error_words), the platform's own words after it as they are."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.error import ChatMigrated

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine import deadletters
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.deadletters import error_words, list_outbox
from groupops.engine.outbox import failure_text, queue_actions
from groupops.i18n import Catalogs
from groupops.platforms import supervise
from groupops.platforms.commands import error_said
from groupops.platforms.connections import list_connections
from groupops.platforms.telegram import TelegramAdapter, botapi
from tests.helpers import until
from tests.platforms.telegram.conftest import GROUP, run, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

SOURCE = "telegram:groupops_test_bot"
G = str(GROUP)
CHANNEL = "-1005550001"  # a member speaking as their channel
BASIC, SUPER = "-4001", "-1004001"
ALICE = FakeBotApi.person(501, "Alice")

#: the texts, as stored (the deliverer's failure_text: class, connection, call, words, as
#: earlier versions wrote them too), the definition each was made with, and the Chinese a zh_CN
#: operator reads
TEXTS: dict[str, tuple[str, str, str]] = {
    "buttons too long": (
        f"PlatformError: {SOURCE} send in {G}: button data longer than 64 bytes",
        deadletters.BUTTON_DATA_TOO_LONG,
        "按钮数据超过 64 字节",
    ),
    "malformed buttons": (
        f"PlatformError: {SOURCE} send in {G}: malformed buttons: 'data'",
        deadletters.MALFORMED_BUTTONS,
        "按钮格式不对：'data'",
    ),
    "channel muted": (
        f"PlatformError: {SOURCE} mute in {G}: {CHANNEL} is a channel speaking in the group:"
        " Telegram cannot mute it, only ban it",
        deadletters.CHANNEL_ONLY_BAN,
        f"{CHANNEL} 是在群里发言的频道：Telegram 不能对频道执行“禁言”，只能封禁它",
    ),
    "channel banned for a while": (
        f"PlatformError: {SOURCE} ban in {G}: {CHANNEL} is a channel speaking in the group:"
        " Telegram bans a channel for good only, so a ban with an end cannot be done; ban it"
        " without one",
        deadletters.CHANNEL_BAN_FOR_GOOD,
        f"{CHANNEL} 是在群里发言的频道：Telegram 只能永久封禁频道，做不到有期限的封禁；"
        "请去掉期限再封禁",
    ),
    "no such action": (
        f"PlatformError: {SOURCE}: telegram cannot owner_task",
        deadletters.CANNOT,
        "telegram 不支持“人工任务”",
    ),
    "disabled": (
        f"PlatformError: {SOURCE}: the connection is disabled (groupops connections enable"
        " turns it on again)",
        deadletters.DISABLED,
        "该连接已停用（用 groupops connections enable 重新启用）",
    ),
    "too old to delete": (
        f"PlatformError: {SOURCE} delete in {G}: Telegram lets bots delete messages for 48"
        " hours only",
        deadletters.DELETE_TOO_OLD,
        "Telegram 只允许机器人删除 48 小时内的消息",
    ),
    "bad chat id": (
        f"PlatformError: {SOURCE} send in abc: bad chat id 'abc'",
        deadletters.BAD_CHAT_ID,
        "群编号无效：'abc'",
    ),
    "bad user id": (
        f"PlatformError: {SOURCE} kick in {G}: bad user id 'someone'",
        deadletters.BAD_USER_ID,
        "用户编号无效：'someone'",
    ),
    "bad message id": (
        f"PlatformError: {SOURCE} pin in {G}: bad message id 'x'",
        deadletters.BAD_MESSAGE_ID,
        "消息编号无效：'x'",
    ),
    "another chat's message": (
        f"PlatformError: {SOURCE}: message '-1009:5' is not one of group {G}",
        deadletters.NOT_OF_GROUP,
        f"消息 '-1009:5' 不属于群 {G}",
    ),
    "posted before the upgrade": (
        f"PlatformError: {SOURCE} delete in {BASIC}: the message was posted before the group"
        f" became supergroup {SUPER}; Telegram keeps it in the old group, where the bot can no"
        " longer act",
        deadletters.POSTED_BEFORE_UPGRADE,
        f"这条消息发在该群升级为超级群 {SUPER} 之前；Telegram 把它留在了旧群，"
        "机器人在那里已无法操作",
    ),
    "became a supergroup": (
        f"PlatformError: {SOURCE} mute in {BASIC}: the group became supergroup {SUPER}",
        deadletters.BECAME_SUPERGROUP,
        f"该群已升级为超级群 {SUPER}",
    ),
    "refused": (
        f"PlatformError: {SOURCE} send in -100555: refused: Chat not found",
        deadletters.REFUSED,
        "被拒绝：Chat not found",
    ),
    "failed": (
        f"PlatformError: {SOURCE} send in {G}: failed: Internal Server Error",
        deadletters.FAILED,
        "失败：Internal Server Error",
    ),
    "rate limited": (
        f"PlatformError: {SOURCE} send in {G}: rate limited: Flood control exceeded. Retry in"
        " 7 seconds",
        deadletters.RATE_LIMITED,
        "被限流：Flood control exceeded. Retry in 7 seconds",
    ),
    "not connected": (
        f"PlatformError: {SOURCE}: not connected",
        deadletters.NOT_CONNECTED,
        "未连接",
    ),
    "token refused": (
        f"TokenRefused: {SOURCE} send in {G}: {deadletters.TOKEN_REFUSED}",
        deadletters.TOKEN_REFUSED,
        "机器人令牌被拒绝（已被撤销？）：请用 @BotFather 给的令牌运行"
        " `groupops connect telegram --token …`；正在运行的 serve 会自动用上它",
    ),
}


@pytest.fixture
def zh(locale_dir: Path) -> Callable[[str], str]:
    return Catalogs(locale_dir).gettext("zh_CN")


def act(kind: ActionKind, chat: str = G, **kw: Any) -> Action:
    return Action(kind, SOURCE, chat, **kw)


async def _refusal(adapter: TelegramAdapter, action: Action) -> PlatformError:
    with pytest.raises(PlatformError) as refused:
        await adapter.perform(action, idempotency_key=f"k{id(action)}")
    return refused.value


def test_each_text_is_made_with_its_definition_stored_as_before_and_said_in_chinese(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    """Each refusal made by the adapter itself, through the fake Bot API: stored as earlier
    versions stored it, its template the definition's very object, and in Chinese for zh_CN."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)

    async def go() -> dict[str, PlatformError]:
        made: dict[str, PlatformError] = {}
        async with telegram(app) as (fake, adapter):
            too_long = [[{"text": "ok", "data": "x" * 65}]]
            made["buttons too long"] = await _refusal(
                adapter, act(ActionKind.SEND, text="hi", data={"buttons": too_long})
            )
            made["malformed buttons"] = await _refusal(
                adapter, act(ActionKind.SEND, text="hi", data={"buttons": [[{"text": "ok"}]]})
            )
            made["channel muted"] = await _refusal(adapter, act(ActionKind.MUTE, user_id=CHANNEL))
            made["channel banned for a while"] = await _refusal(
                adapter,
                act(ActionKind.BAN, user_id=CHANNEL, until=clock.now() + timedelta(hours=1)),
            )
            made["no such action"] = await _refusal(adapter, act(ActionKind.OWNER_TASK, text="x"))
            old = (clock.now() - timedelta(hours=49)).isoformat()
            made["too old to delete"] = await _refusal(
                adapter, act(ActionKind.DELETE, message_id="7", data={"message_at": old})
            )
            made["bad chat id"] = await _refusal(adapter, act(ActionKind.SEND, "abc", text="x"))
            made["bad user id"] = await _refusal(adapter, act(ActionKind.KICK, user_id="someone"))
            made["bad message id"] = await _refusal(adapter, act(ActionKind.PIN, message_id="x"))
            made["another chat's message"] = await _refusal(
                adapter, act(ActionKind.DELETE, message_id="-1009:5")
            )
            posted = clock.now().isoformat()
            clock.advance(timedelta(minutes=1))
            adapter.note_migration(BASIC, SUPER)
            made["posted before the upgrade"] = await _refusal(
                adapter, act(ActionKind.DELETE, BASIC, message_id="3", data={"message_at": posted})
            )
            made["became a supergroup"] = adapter._error(
                ChatMigrated(int(SUPER)), f"mute in {BASIC}"
            )
            made["refused"] = await _refusal(adapter, act(ActionKind.SEND, "-100555", text="x"))
            fake.fail("500", 1)
            made["failed"] = await _refusal(adapter, act(ActionKind.SEND, text="x"))
            fake.fail("429", 1, retry_after=7)
            made["rate limited"] = await _refusal(adapter, act(ActionKind.SEND, text="x"))
            fake.token = "7000001:AAHanotherTOKENfromBotFather_abcdefgh"  # revoked
            made["token refused"] = await _refusal(adapter, act(ActionKind.SEND, text="x"))
            await adapter.close()
            made["not connected"] = await _refusal(adapter, act(ActionKind.SEND, text="x"))
            adapter.config = dataclasses.replace(adapter.config, enabled=False)
            made["disabled"] = await _refusal(adapter, act(ActionKind.SEND, text="x"))
        return made

    made = run(go())
    assert set(made) == set(TEXTS)
    for name, (stored, definition, chinese) in TEXTS.items():
        exc = made[name]
        assert failure_text(exc) == stored, name
        assert exc.template is definition, name
        row = {"last_error": stored, "source": SOURCE}
        assert error_words(row, zh) == chinese, name


def test_a_dead_letter_and_a_connections_health_read_back_in_chinese(
    make_app: Callable[..., App], zh: Callable[[str], str]
) -> None:
    """Through the deliverer: a mute of a channel is a dead letter that outbox list says in
    Chinese. Through the receive loop: a batch of updates the engine cannot take leaves a
    health that connections says in Chinese."""
    app = make_app(features=())

    def broken(_: object) -> None:
        raise RuntimeError("the database went away")

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            with app.db.begin() as conn:
                queue_actions(
                    conn,
                    [(act(ActionKind.MUTE, user_id=CHANNEL), None)],
                    workspace_id=1,
                    now=app.clock.now(),
                    feature="moderation",
                    capabilities_of=app.platforms.capabilities,
                )
            await app.deliver()
            (dead,) = list_outbox(app.db, "dead")
            assert dead["last_error"] == TEXTS["channel muted"][0]
            assert error_words(dead, zh) == TEXTS["channel muted"][2]
            adapter.handle = broken
            fake.post(GROUP, ALICE, "hello")
            stop = asyncio.Event()
            loop = asyncio.create_task(adapter.run(stop, timeout=0))
            await until(lambda: adapter.store.state().get("health", {}).get("error"))
            stop.set()
            await loop

    run(go())
    (row,) = [r for r in list_connections(app.db) if r["id"] == SOURCE]
    assert row["last_error"] == "updates not handled: RuntimeError: the database went away"
    assert error_said(row["last_error"], SOURCE, zh) == (
        "更新未能处理：RuntimeError: the database went away"
    )


def _fixed(template: str) -> str:
    """The longest run of a template's own words, with the brace of the value after it if
    there is one, its first 40 characters: what a copy written out would contain on one line
    (``f"refused: {message}"``)."""
    words = max(re.split(r"\{\w+\}", template), key=len)
    return template[template.index(words) :][: len(words) + 1][:40]


TELEGRAM = Path(botapi.__file__).resolve().parent


def test_no_telegram_module_writes_a_defined_text_out_again() -> None:
    """The Telegram adapter (and the refusal it shares with the other platforms) raise with the
    definitions: none of their words is written out in its modules, so a rewording in
    engine.deadletters cannot leave an English copy that the reader no longer knows."""
    sources = {
        str(path.relative_to(TELEGRAM.parent)): path.read_text(encoding="utf-8")
        for path in [*TELEGRAM.glob("*.py"), Path(supervise.__file__)]
    }
    for _name, (_stored, definition, _chinese) in TEXTS.items():
        fixed = _fixed(definition)
        # in a string on one line ("refused: " is a comment's word as well)
        written = re.compile(r"[\"'][^\"'\n]*" + re.escape(fixed))
        copies = [name for name, text in sources.items() if written.search(text)]
        assert not copies, (fixed, copies)
