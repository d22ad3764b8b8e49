"""Numbers past what a database holds, given to any command (an id, --limit, --group, a seed),
are one typed line naming the option, exit code 2: never a traceback (SQLite's driver cannot
even send them: OverflowError)."""

from __future__ import annotations

import pytest
import typer

from groupops.cli_options import check_numbers
from groupops.storage.db import LARGEST_ID
from tests.cli import error_line, run

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["undo", HUGE], "decision"),
        (["undo", f"-{HUGE}"], "decision"),
        (["tasks", "done", HUGE], "task"),
        (["forget", HUGE, "--yes"], "member"),
        (["outbox", "retry", HUGE], "ids"),
        (["outbox", "retry", "1", HUGE], "ids"),
        (["members", "--limit", HUGE], "--limit"),
        (["outbox", "list", "--limit", HUGE], "--limit"),
        (["leaderboard", "-g", "1", "--limit", HUGE], "--limit"),
        (["moderation", "log", "--limit", HUGE], "--limit"),
        (["demo", "--seed", HUGE], "--seed"),
        (["serve", "--seed", HUGE], "--seed"),
        (["undo", str(LARGEST_ID + 1)], "decision"),
    ],
)
def test_a_number_past_64_bits_is_one_line_naming_the_option(
    cli: typer.Typer, imported: str, args: list[str], where: str
) -> None:
    line = error_line(run(cli, *args, "--database-url", imported))
    assert line.startswith(f"error [invalid_option] {where}: "), line
    assert "too large: at most 9223372036854775807" in line or "too small" in line, line


@pytest.mark.parametrize(
    "args",
    [
        ["members", "--group", HUGE],
        ["leaderboard", "--group", HUGE],
        ["settings", "show", "--group", HUGE],
        ["moderation", "log", "--group", HUGE],
        ["settings", "set", "welcome.rules", "hi", "--group", HUGE],
    ],
)
def test_a_group_id_past_64_bits_is_no_group(
    cli: typer.Typer, imported: str, args: list[str]
) -> None:
    line = error_line(run(cli, *args, "--database-url", imported))
    assert line == f"error [not_found] group: no group '{HUGE}'", line


def test_a_digit_that_is_no_number_is_no_group(cli: typer.Typer, imported: str) -> None:
    line = error_line(run(cli, "members", "--group", "²", "--database-url", imported))
    assert line.startswith("error [not_found] group: no group '²'"), line


def test_the_largest_id_is_an_id_like_any_other(cli: typer.Typer, imported: str) -> None:
    """At the bound the database is asked, and answers that there is no such row."""
    big = str(LARGEST_ID)
    db = ("--database-url", imported)
    assert error_line(run(cli, "undo", big, *db)).startswith("error [not_found]")
    assert error_line(run(cli, "forget", big, "--yes", *db)).startswith("error [not_found]")
    assert error_line(run(cli, "tasks", "done", big, *db)).startswith("error [not_found]")
    assert error_line(run(cli, "outbox", "retry", big, *db)).startswith("error [not_found]")
    assert error_line(run(cli, "members", "-g", big, *db)).startswith("error [not_found]")
    res = run(cli, "members", "--limit", big, *db)
    assert res.exit_code == 0, res.output


def test_the_check_says_it_in_chinese(cli: typer.Typer, imported: str) -> None:
    line = error_line(
        run(cli, "members", "--limit", HUGE, "--database-url", imported, lang="zh_CN")
    )
    assert line == f"错误 [invalid_option] --limit：{HUGE} 太大：最大为 9223372036854775807", line


def test_the_check_leaves_other_values_alone() -> None:
    check_numbers({"limit": LARGEST_ID, "flag": True, "ids": [1, -LARGEST_ID - 1], "name": "x"})
