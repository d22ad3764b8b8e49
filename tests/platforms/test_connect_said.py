"""What `groupops connect matrix` and `groupops connect telegram` say once the connection is
stored (one piece of code for both: platforms.commands.connected): the connection, the
workspace it is in (the one given for a new connection, its own when connected again without
--workspace), in the operator's language; and a tuning option left out keeps what was stored
on either platform."""

from __future__ import annotations

from dataclasses import replace

import pytest
from typer.testing import CliRunner

from groupops import cli_output
from groupops.cli import _register_all
from groupops.cli import app as cli
from groupops.platforms.matrix import config as matrix_config
from groupops.platforms.matrix.config import ConnectionStore, MatrixConfig
from groupops.platforms.telegram.config import ConnectionStore as TelegramStore
from groupops.storage.db import make_engine
from tests.platforms.telegram.conftest import TOKEN, fake_in_thread

USER = "@bot:example.org"


async def logged_in(config: MatrixConfig) -> MatrixConfig:
    """The homeserver's answer to a right password (no homeserver needed here)."""
    return replace(config, password="", access_token="token-1", device_id="DEV")


def said(runner: CliRunner, args: list[str]) -> list[str]:
    done = runner.invoke(cli, args)
    assert done.exit_code == 0, done.output
    return done.output.splitlines()


def test_connect_matrix_says_the_connection_and_its_workspace(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(matrix_config, "login", logged_in)
    monkeypatch.setattr(cli_output.out, "width", 200)  # the sentence on one line
    _register_all()
    runner = CliRunner()
    args = ["connect", "matrix", "--homeserver", "https://matrix.example.org", "--user", USER]
    args += ["--password", "pw", "--database-url", database_url]
    assert said(runner, [*args, "--workspace", "brandA", "--burst", "3"]) == [
        f"connected matrix:{USER} (workspace brandA); `groupops serve` runs it"
    ]
    assert said(runner, [*args, "--lang", "zh_CN"]) == [
        f"已连接 matrix:{USER}（工作区 brandA）；`groupops serve` 会运行它"
    ]
    db = make_engine(database_url)
    try:
        assert ConnectionStore(db, f"matrix:{USER}").load()[0].burst == 3  # left out: kept
    finally:
        db.dispose()


def test_connect_telegram_says_the_connection_and_its_workspace(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_output.out, "width", 200)  # the sentence on one line
    _register_all()
    runner = CliRunner()
    with fake_in_thread() as fake:
        args = ["connect", "telegram", "--token", TOKEN, "--api-url", fake.base_url]
        args += ["--database-url", database_url]
        assert said(runner, [*args, "--workspace", "brandA", "--burst", "1"]) == [
            "connected telegram:groupops_test_bot (workspace brandA); `groupops serve` runs it"
        ]
        assert said(runner, [*args, "--lang", "zh_CN"]) == [
            "已连接 telegram:groupops_test_bot（工作区 brandA）；`groupops serve` 会运行它"
        ]
    db = make_engine(database_url)
    try:
        source = "telegram:groupops_test_bot"
        assert TelegramStore(db, source).load()[0].burst == 1  # left out: kept
    finally:
        db.dispose()
