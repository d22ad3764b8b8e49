"""`groupops connect telegram` as an operator runs it (QA platforms findings 6, 7, 10): a
webhook URL serve would never answer is refused naming the path; a connection stays in its
workspace (another --workspace is refused, not reported as moved); without a terminal the
missing token is a typed error naming GROUPOPS_TELEGRAM_TOKEN, not GetPassWarning and
"Aborted."."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from groupops.cli import _register_all
from groupops.cli import app as cli
from tests.platforms.telegram.conftest import TOKEN, fake_in_thread


def _runner() -> CliRunner:
    _register_all()
    return CliRunner()


def test_webhook_url_must_end_in_the_bots_hook_path(database_url: str) -> None:
    runner = _runner()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        wrong = runner.invoke(
            cli,
            ["connect", "telegram", *args, "--webhook-url", "https://ops.example/hooks/telegram/x"],
        )
        assert wrong.exit_code == 2, wrong.output
        assert "/hooks/telegram/groupops_test_bot" in wrong.output
        assert "--webhook-url" in wrong.output and TOKEN not in wrong.output
        zh = runner.invoke(
            cli,
            [
                "connect",
                "telegram",
                *args,
                "--webhook-url",
                "https://ops.example/tg",
                "--lang",
                "zh_CN",
            ],
        )
        assert zh.exit_code == 2 and "必须以" in zh.output
        right = runner.invoke(
            cli,
            [
                "connect",
                "telegram",
                *args,
                "--webhook-url",
                "https://ops.example/bots/hooks/telegram/groupops_test_bot",
            ],
        )
        assert right.exit_code == 0, right.output


def test_a_connection_stays_in_its_workspace(database_url: str) -> None:
    runner = _runner()
    with fake_in_thread() as fake:
        args = ["--token", TOKEN, "--api-url", fake.base_url, "--database-url", database_url]
        made = runner.invoke(cli, ["connect", "telegram", *args, "--workspace", "brandA"])
        assert made.exit_code == 0 and "brandA" in made.output, made.output
        moved = runner.invoke(cli, ["connect", "telegram", *args, "--workspace", "default"])
        assert moved.exit_code == 2, moved.output
        assert "error [conflict]" in moved.output and "brandA" in moved.output
        again = runner.invoke(cli, ["connect", "telegram", *args])  # no --workspace: where it is
        assert again.exit_code == 0 and "(workspace brandA)" in again.output, again.output
        spaces = runner.invoke(cli, ["connect", "telegram", *args, "--workspace", "no such ws"])
        assert spaces.exit_code == 2 and "workspace slug" in spaces.output
    listed = runner.invoke(cli, ["connections", "--json", "--database-url", database_url])
    assert [r["workspace"] for r in json.loads(listed.output)] == ["brandA"]


def test_no_terminal_no_token_is_a_typed_error(database_url: str) -> None:
    runner = _runner()
    with fake_in_thread() as fake:
        done = runner.invoke(
            cli,
            ["connect", "telegram", "--api-url", fake.base_url, "--database-url", database_url],
            input="",
            env={"GROUPOPS_TELEGRAM_TOKEN": ""},
        )
    assert done.exit_code == 2, done.output
    assert "GROUPOPS_TELEGRAM_TOKEN" in done.output and "--token" in done.output
    assert "Aborted" not in done.output and "Warning" not in done.output
    matrix = runner.invoke(
        cli,
        ["connect", "matrix", "--homeserver", "http://127.0.0.1:9", "--user", "@b:x"],
        input="",
        env={"GROUPOPS_MATRIX_PASSWORD": ""},
    )
    assert matrix.exit_code == 2 and "GROUPOPS_MATRIX_PASSWORD" in matrix.output


def test_help_does_not_mark_prompted_secrets_required() -> None:
    runner = _runner()
    for platform, option in (("telegram", "--token"), ("matrix", "--password")):
        shown = runner.invoke(cli, ["connect", platform, "--help"], env={"COLUMNS": "200"})
        line = next(x for x in shown.output.splitlines() if option in x)
        assert "required" not in line and "*" not in line, line
