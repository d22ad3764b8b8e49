"""What `groupops connect telegram|matrix`, a stored connection and the sandbox refuse, in the
operator's language: the command's --lang (or GROUPOPS_LANG) gives Chinese with the same values,
and the English is word for word what it always was."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import update

from groupops.domain.errors import GroupopsError, InvalidSettings, NotFound
from groupops.engine.app import App
from groupops.i18n import Catalogs
from groupops.platforms.matrix import ConnectionStore as MatrixStore
from groupops.platforms.matrix import MatrixConfig
from groupops.platforms.sandbox import SandboxRefused
from groupops.platforms.sandbox.tables import sandbox_members
from groupops.platforms.telegram import ConnectionStore as TelegramStore
from groupops.platforms.telegram import TelegramConfig
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from tests.cli import error_line, run
from tests.conftest import T0
from tests.platforms.matrix.synapse import free_port
from tests.platforms.telegram.conftest import TOKEN, fake_in_thread

ZH = Catalogs().gettext("zh_CN")


def test_connect_telegram_refuses_a_malformed_token_in_chinese(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    args = ("connect", "telegram", "--token", "123:abc", "--database-url", url)
    zh = error_line(run(cli, *args, "--lang", "zh_CN"))
    assert zh.startswith("错误 [invalid_settings] Telegram 连接：机器人令牌看起来不像是 @BotFather")
    assert "20 到 100 个字母、数字、_ 或 -（例如 123456789:AAH...）" in zh
    assert "123:abc" not in zh  # a secret, even when malformed
    assert error_line(run(cli, *args, lang="zh_CN")) == zh  # GROUPOPS_LANG says the same
    en = error_line(run(cli, *args))
    assert en == (
        "error [invalid_settings] telegram connection: the bot token does not look like one"
        " from @BotFather: the bot's number, a colon, then 20 to 100 letters, digits, _ or -"
        " (e.g. 123456789:AAH...)"
    )


def test_connect_telegram_names_the_values_it_refuses_in_chinese(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    bad_api = ["connect", "telegram", "--token", TOKEN, "--database-url", url]
    bad_api += ["--api-url", "ftp://api.example/bot"]
    zh = error_line(run(cli, *bad_api, lang="zh_CN"))
    assert zh.endswith("Telegram 连接：base_url 必须是 http(s) 网址，收到的协议是 'ftp'"), zh
    en = error_line(run(cli, *bad_api))
    assert en.endswith("telegram connection: base_url must be an http(s) URL, got scheme 'ftp'")
    no_rate = ("connect", "telegram", "--token", TOKEN, "--database-url", url, "--burst", "0")
    assert error_line(run(cli, *no_rate, "--lang", "zh_CN")).endswith("速率限制必须大于零")
    assert TOKEN not in zh + en


def test_connect_telegram_says_what_telegram_answered_in_chinese(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    with fake_in_thread() as fake:
        args = ("connect", "telegram", "--api-url", fake.base_url, "--database-url", url)
        wrong = (*args, "--token", "1:AAHwrongTOKENwrongTOKEN_0000")
        zh = error_line(run(cli, *wrong, "--lang", "zh_CN"))
        assert zh == "错误 [platform_error] telegram getMe：Telegram 拒绝了这个机器人令牌"
        en = error_line(run(cli, *wrong))
        assert en == "error [platform_error] telegram getMe: Telegram refused the bot token"
        fake.fail("500", 2, methods={"getMe"})
        zh = error_line(run(cli, *args, "--token", TOKEN, "--lang", "zh_CN"))
        en = error_line(run(cli, *args, "--token", TOKEN))
    head_zh = "错误 [platform_error] telegram getMe：无法连接 Bot API："
    head_en = "error [platform_error] telegram getMe: cannot reach the Bot API: "
    assert zh.startswith(head_zh) and en.startswith(head_en), (zh, en)
    said = en.removeprefix(head_en)
    assert said and zh.removeprefix(head_zh) == said  # what Telegram said, as it said it
    assert TOKEN not in zh + en and "AAHwrong" not in zh + en


def test_connect_matrix_refuses_a_bad_homeserver_and_user_in_chinese(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    base = ("connect", "matrix", "--password", "pw", "--database-url", url)
    bad_server = (*base, "--homeserver", "matrix.example.org", "--user", "@bot:example.org")
    zh = error_line(run(cli, *bad_server, "--lang", "zh_CN"))
    assert zh == (
        "错误 [invalid_settings] Matrix 连接：homeserver（主服务器）必须是 http(s) 网址，"
        "收到的是 'matrix.example.org'"
    )
    en = error_line(run(cli, *bad_server))
    assert en == (
        "error [invalid_settings] matrix connection: homeserver must be an http(s) URL,"
        " got 'matrix.example.org'"
    )
    bad_user = (*base, "--homeserver", "https://matrix.example.org", "--user", "bot")
    zh = error_line(run(cli, *bad_user, lang="zh_CN"))
    assert zh.endswith("必须是完整的 Matrix ID，例如 @bot:example.org，收到的是 'bot'"), zh
    en = error_line(run(cli, *bad_user))
    assert en.endswith("user must be a full Matrix id like @bot:example.org, got 'bot'")


def test_connect_matrix_to_an_unreachable_homeserver_in_chinese(
    cli: typer.Typer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    server = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    args = ["connect", "matrix", "--homeserver", server, "--user", "@bot:example.org"]
    args += ["--password", "s3cret-pw", "--database-url", url]
    zh = error_line(run(cli, *args, "--lang", "zh_CN"))
    head_zh = (
        f"错误 [platform_error] 在 {server} 上登录 Matrix 用户 @bot:example.org：无法连接主服务器："
    )
    assert zh.startswith(head_zh), zh
    en = error_line(run(cli, *args))
    head_en = (
        f"error [platform_error] matrix login of @bot:example.org on {server}:"
        " cannot reach the homeserver: "
    )
    assert en.startswith(head_en), en
    assert zh.removeprefix(head_zh) == en.removeprefix(head_en) != ""  # the same exception
    assert "s3cret-pw" not in zh + en


def test_a_stored_connection_is_refused_in_chinese(database_url: str) -> None:
    db = make_engine(database_url)
    try:
        upgrade(db)
        with pytest.raises(NotFound) as missing:
            TelegramStore(db, "telegram:nobody_bot").load()
        with pytest.raises(NotFound) as missing_matrix:
            MatrixStore(db, "matrix:@nobody:example.org").load()
    finally:
        db.dispose()
    assert str(missing.value) == "connections: no connection 'telegram:nobody_bot'"
    assert missing.value.localized(ZH) == "连接：没有连接 'telegram:nobody_bot'"
    assert missing_matrix.value.localized(ZH) == "连接：没有连接 'matrix:@nobody:example.org'"

    refused: list[GroupopsError] = []
    for make in (
        lambda: TelegramConfig.from_json({"token": TOKEN, "tokn": "x", "mode_": "y"}),
        lambda: TelegramConfig.from_json({"username": "b"}),
        lambda: MatrixConfig.from_json({"homeserver": "https://m.org"}),
        lambda: MatrixConfig("https://m.org", "@b:m.org", password="x", sync_timeout_ms=-1),
    ):
        with pytest.raises(InvalidSettings) as bad:
            make()
        refused.append(bad.value)
    assert [str(e) for e in refused] == [
        "telegram connection: unknown settings ['mode_', 'tokn']",
        "telegram connection: missing setting 'token'",
        "matrix connection: missing settings ['user_id']",
        "matrix connection: sync_timeout_ms must be 0..300000",
    ]
    assert [e.localized(ZH) for e in refused] == [
        "Telegram 连接：未知的设置 ['mode_', 'tokn']",
        "Telegram 连接：缺少设置 'token'",
        "Matrix 连接：缺少设置 ['user_id']",
        "Matrix 连接：sync_timeout_ms 必须在 0..300000 之间",
    ]


def test_what_the_sandbox_refuses_a_person_is_said_in_chinese(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=())
    sandbox = app.sandbox
    sandbox.create_chat("c1", "读书会")
    sandbox.join("c1", "u1", "小明")
    sandbox.join("c1", "u2", "小红")

    def refusal(act: Callable[[], object]) -> GroupopsError:
        with pytest.raises(GroupopsError) as refused:
            act()
        return refused.value

    def set_member(user_id: str, **values: object) -> None:
        with app.db.begin() as conn:
            conn.execute(
                update(sandbox_members)
                .where(sandbox_members.c.chat_id == "c1", sandbox_members.c.user_id == user_id)
                .values(**values)
            )

    set_member("u1", muted_until=T0 + timedelta(hours=2, minutes=5))
    set_member("u2", status="banned")
    said = [
        refusal(lambda: sandbox.post("c1", "u1", "hello")),
        refusal(lambda: sandbox.join("c1", "u2", "小红")),
        refusal(lambda: sandbox.post("c1", "u3", "hello")),
        refusal(lambda: sandbox.post("c1", "u1", "x" * 70_000)),
        refusal(lambda: sandbox.leave("c1", "u3")),
        refusal(lambda: sandbox.react("c1", "u1", "99999")),
        refusal(lambda: sandbox.join("nope", "u1", "小明")),
    ]
    assert all(isinstance(e, SandboxRefused) for e in said[:5])
    assert [str(e) for e in said] == [
        "c1: 小明 is muted until 2026-11-02 03:05 (UTC)",  # no group yet: no zone of its own
        "c1: 小红 is banned from 读书会",
        "c1: not a member of this chat",  # u3 has no name anywhere: no id either
        "c1: message of 70000 characters is over the 65536 limit",
        "c1: not a member of this chat",  # one wording for leaving and posting
        "c1: no message 99999",
        "sandbox: no sandbox chat 'nope'",
    ]
    assert [e.localized(ZH) for e in said] == [
        "c1：小明 已被禁言至 2026-11-02 03:05（UTC）",
        "c1：小红 已被「读书会」封禁",
        "c1：不是这个群聊的成员",
        "c1：消息有 70000 个字符，超过了 65536 个字符的上限",
        "c1：不是这个群聊的成员",
        "c1：没有消息 99999",
        "sandbox：沙盒里没有群聊 'nope'",
    ]
