"""Connecting over plain http to another machine is warned about before a secret is sent
(QA security N5): the Matrix password and access token, the Telegram bot token. Not refused:
a private network's http://synapse:8008 is the operator's call."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from tests.cli import run

MATRIX = ["connect", "matrix", "--user", "@bot:example.invalid", "--password", "x"]


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "warning: --homeserver http://matrix.example.invalid is plain http to another"),
        ("zh_CN", "警告：--homeserver http://matrix.example.invalid 是通往另一台机器的明文 http"),
    ],
)
def test_plain_http_to_another_machine_is_warned_before_the_password_goes(
    cli: typer.Typer, tmp_path: Path, lang: str, said: str
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    home = "http://matrix.example.invalid"
    res = run(cli, *MATRIX, "--homeserver", home, "--database-url", url, lang=lang, COLUMNS="300")
    assert res.exit_code != 0  # no such server: the login fails after the warning
    lines = res.stderr.strip().splitlines()
    assert lines[0].startswith(said), res.stderr
    assert "platform_error" in lines[-1]


@pytest.mark.parametrize(
    "home",
    [
        "https://matrix.example.invalid",
        "http://localhost:1",
        "http://127.0.0.1:1",
        "http://[::1]:1",
    ],
)
def test_https_or_this_machine_is_not_warned(cli: typer.Typer, tmp_path: Path, home: str) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    res = run(cli, *MATRIX, "--homeserver", home, "--database-url", url)
    assert res.exit_code != 0
    assert "warning" not in res.stderr, res.stderr


def test_telegram_api_url_over_plain_http_is_warned(cli: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    token = "123456789:AAHabcdefghijklmnopqrstuvwxyz012345"
    api = "http://bot-api.example.invalid"
    res = run(cli, "connect", "telegram", "--token", token, "--api-url", api, "--database-url", url)
    assert res.exit_code != 0
    assert res.stderr.startswith(f"warning: --api-url {api} is plain http"), res.stderr
    assert "the bot token would go over the network unencrypted" in res.stderr
