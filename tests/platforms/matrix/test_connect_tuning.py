"""`connect matrix` tunes the rates and time-outs the Matrix page names, and a later connect
that leaves an option out keeps what was stored (the defaults are a new connection's)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from groupops.cli import _register_all
from groupops.cli import app as cli
from groupops.platforms.matrix import config as matrix_config
from groupops.platforms.matrix.config import ConnectionStore, MatrixConfig
from groupops.storage.db import make_engine
from tests.cli import run

USER = "@bot:example.org"


async def logged_in(config: MatrixConfig) -> MatrixConfig:
    """The homeserver's answer to a right password (no homeserver needed here)."""
    return replace(config, password="", access_token="token-1", device_id="DEV")


def stored(database_url: str) -> MatrixConfig:
    db = make_engine(database_url)
    try:
        return ConnectionStore(db, f"matrix:{USER}").load()[0]
    finally:
        db.dispose()


def tuning(config: MatrixConfig) -> tuple[object, ...]:
    return (
        config.per_second,
        config.per_chat_per_minute,
        config.burst,
        config.sync_timeout_ms,
        config.request_timeout,
        config.auto_join,
    )


def test_tuning_options_are_stored_and_kept_when_left_out(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matrix_config, "login", logged_in)
    _register_all()
    runner = CliRunner()
    args = ["connect", "matrix", "--homeserver", "https://matrix.example.org", "--user", USER]
    args += ["--password", "secret", "--database-url", database_url]
    new = runner.invoke(cli, args)
    assert new.exit_code == 0, new.output
    assert tuning(stored(database_url)) == (0.2, 12.0, 10, 30_000, 60.0, True)
    tuned = [
        "--per-second", "5", "--per-room-per-minute", "30", "--burst", "4",
        "--sync-timeout", "20", "--request-timeout", "15", "--no-auto-join",
    ]  # fmt: skip
    first = runner.invoke(cli, [*args, *tuned])
    assert first.exit_code == 0, first.output
    wanted = (5.0, 30.0, 4, 20_000, 15.0, False)
    assert tuning(stored(database_url)) == wanted
    again = runner.invoke(cli, args)  # a new password, say: the tuning stays
    assert again.exit_code == 0, again.output
    assert tuning(stored(database_url)) == wanted
    one = runner.invoke(cli, [*args, "--per-second", "1"])
    assert one.exit_code == 0, one.output
    assert tuning(stored(database_url)) == (1.0, *wanted[1:])


def test_invited_by_is_stored_kept_when_left_out_and_cleared_with_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matrix_config, "login", logged_in)
    _register_all()
    runner = CliRunner()
    args = ["connect", "matrix", "--homeserver", "https://matrix.example.org", "--user", USER]
    args += ["--password", "secret", "--database-url", database_url]
    wanted = ("@olga:example.org", "@*:team.example.org")
    first = runner.invoke(cli, [*args, "--invited-by", "@olga:example.org, @*:team.example.org"])
    assert first.exit_code == 0, first.output
    assert stored(database_url).invited_by == wanted
    again = runner.invoke(cli, [*args, "--burst", "3"])
    assert again.exit_code == 0, again.output
    assert stored(database_url).invited_by == wanted
    bad = runner.invoke(cli, [*args, "--invited-by", "olga"])
    assert bad.exit_code != 0 and "'olga' is not a Matrix id" in bad.output, bad.output
    assert stored(database_url).invited_by == wanted
    cleared = runner.invoke(cli, [*args, "--invited-by", ""])
    assert cleared.exit_code == 0, cleared.output
    assert stored(database_url).invited_by == ()


BOUNDS = [
    ("--max-private-chats", "max_private_chats", matrix_config.MAX_PRIVATE_CHATS),
    ("--max-groups", "max_groups", matrix_config.MAX_GROUPS),
]


@pytest.mark.parametrize(("option", "name", "default"), BOUNDS)
def test_bounds_are_set_kept_when_left_out_and_checked(
    database_url: str, monkeypatch: pytest.MonkeyPatch, option: str, name: str, default: int
) -> None:
    """`--max-private-chats` sets how many private chats people opened with the bot it keeps,
    `--max-groups` how many groups it is in; a later connect without it (a new password, say)
    keeps it, a new connection has the default, and a value out of 0..100000 is refused with
    nothing stored."""
    monkeypatch.setattr(matrix_config, "login", logged_in)
    _register_all()
    runner = CliRunner()
    args = ["connect", "matrix", "--homeserver", "https://matrix.example.org", "--user", USER]
    args += ["--password", "secret", "--database-url", database_url]
    new = runner.invoke(cli, args)
    assert new.exit_code == 0, new.output
    assert getattr(stored(database_url), name) == default
    tuned = runner.invoke(cli, [*args, option, "50"])
    assert tuned.exit_code == 0, tuned.output
    assert getattr(stored(database_url), name) == 50
    again = runner.invoke(cli, [*args, "--burst", "3"])
    assert again.exit_code == 0, again.output
    assert getattr(stored(database_url), name) == 50
    for wrong in ("-1", "100001"):
        bad = runner.invoke(cli, [*args, option, wrong])
        assert bad.exit_code == 2 and name in bad.output, bad.output
        assert getattr(stored(database_url), name) == 50
    none = runner.invoke(cli, [*args, option, "0"])  # it accepts none
    assert none.exit_code == 0, none.output
    assert getattr(stored(database_url), name) == 0


@pytest.mark.parametrize(
    ("option", "en", "zh"),
    [
        (
            "--max-private-chats",
            "how many private chats people opened with the bot it keeps",
            "机器人同时最多保留多少个别人与它开的私聊",
        ),
        ("--max-groups", "how many groups the bot is in at a time", "机器人同时最多在多少个群里"),
    ],
)
def test_bounds_have_help_in_english_and_chinese(option: str, en: str, zh: str) -> None:
    """The option's help page says what it bounds, in the operator's language."""
    _register_all()
    shown = {
        lang: " ".join(
            run(cli, "connect", "matrix", "--help", lang=lang, COLUMNS="200").output.split()
        )
        for lang in ("en", "zh_CN")
    }
    assert option in shown["en"] and option in shown["zh_CN"]
    assert en in shown["en"]
    assert zh in shown["zh_CN"]
