"""Listings cut at their --limit say so, with how many there are in all (on stderr, so --json
stays one document), and `members` lists one status with --status."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer

from tests.cli import error_line, run


@pytest.fixture(scope="module")
def month(cli: typer.Typer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three simulated days of the demo's three groups: joins, kicks, leaves, moderation
    decisions, points, delivered actions."""
    url = f"sqlite:///{tmp_path_factory.mktemp('listings')}/demo.sqlite"
    res = run(cli, "demo", "--days", "3", "--members", "60", "--json", "--database-url", url)
    assert res.exit_code == 0, res.output
    return url


def rows(cli: typer.Typer, url: str, *args: str, most: int = 100000) -> list[dict[str, Any]]:
    res = run(cli, *args, "--json", "--limit", str(most), "--database-url", url)
    assert res.exit_code == 0, res.output
    assert res.stderr == "", res.stderr  # nothing cut, nothing said
    found: list[dict[str, Any]] = json.loads(res.stdout)
    return found


LISTINGS = [
    ("members",),
    ("members", "--group", "1"),
    ("outbox", "list", "--status", "delivered"),
    ("leaderboard", "--group", "1", "--at", "2026-11-02"),
]


@pytest.mark.parametrize("listing", LISTINGS)
def test_a_cut_listing_says_how_many_there_are(
    cli: typer.Typer, month: str, listing: tuple[str, ...]
) -> None:
    total = len(rows(cli, month, *listing))
    assert total > 2, listing
    res = run(cli, *listing, "--limit", "2", "--json", "--database-url", month)
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)) == 2  # stdout stays one JSON document
    assert res.stderr.strip() == f"showing 2 of {total}; --limit to see more"
    table = run(cli, *listing, "--limit", "2", "--database-url", month, lang="zh_CN")
    assert table.stderr.strip() == f"显示 {total} 条中的 2 条；用 --limit 查看更多", table.stderr
    whole = run(cli, *listing, "--limit", str(total), "--database-url", month)
    assert whole.exit_code == 0 and whole.stderr == "", whole.output  # all shown: no word


def test_the_moderation_log_says_when_it_is_cut(cli: typer.Typer, month: str) -> None:
    total = len(rows(cli, month, "moderation", "log", most=1000))
    assert 2 < total < 1000, total
    res = run(cli, "moderation", "log", "--limit", "2", "--database-url", month)
    assert res.stderr.strip() == f"showing 2 of {total}; --limit to see more"
    by_group = len(rows(cli, month, "moderation", "log", "-g", "1", most=1000))
    res = run(cli, "moderation", "log", "-g", "1", "--limit", "1", "--database-url", month)
    assert res.stderr.strip() == f"showing 1 of {by_group}; --limit to see more"


def test_the_moderation_log_refuses_a_limit_it_would_not_keep(cli: typer.Typer, month: str) -> None:
    """It reads 1000 decisions at most: more is refused, not cut to 1000 without a word."""
    res = run(cli, "moderation", "log", "--limit", "1001", "--database-url", month)
    assert error_line(res) == "error [invalid_option] --limit: 1001 is too large: at most 1000"


def test_members_lists_one_status(cli: typer.Typer, month: str) -> None:
    every = rows(cli, month, "members")
    statuses = {r["status"] for r in every}
    assert {"active", "kicked"} <= statuses, statuses
    for status in statuses:
        only = rows(cli, month, "members", "--status", status)
        assert only == [r for r in every if r["status"] == status]
    in_course = rows(cli, month, "members", "-g", "1", "--status", "kicked")
    assert in_course and all(r["group_id"] == 1 and r["status"] == "kicked" for r in in_course)
    kicked = [r for r in every if r["status"] == "kicked"]
    res = run(cli, "members", "--status", "kicked", "--limit", "1", "--database-url", month)
    assert res.stderr.strip() == f"showing 1 of {len(kicked)}; --limit to see more"
    assert "members (removed)" in res.stdout  # the title names the status, in words
    res = run(cli, "members", "--status", "banned", "--database-url", month)
    assert res.exit_code == 0 and "members (banned): nothing to list" in res.stdout, res.output


def test_members_refuses_an_unknown_status_naming_the_known_ones(
    cli: typer.Typer, month: str
) -> None:
    res = run(cli, "members", "--status", "gone", "--database-url", month)
    assert res.exit_code == 2 and "--status" in res.output
    for status in ("active", "left", "kicked", "banned"):
        assert status in res.output


def test_the_cut_word_is_not_said_of_a_short_listing(cli: typer.Typer, imported: str) -> None:
    res = run(cli, "members", "--database-url", imported)
    assert res.exit_code == 0 and res.stderr == "", res.output


def test_outbox_list_says_when_and_what_each_action_was(cli: typer.Typer, month: str) -> None:
    """A dead letter is read to be retried: the listing shows when the action was made and the
    start of what it says (or whom it is for), on one line each, in any language."""
    res = run(
        cli, "outbox", "list", "--status", "delivered", "--limit", "3",
        "--database-url", month, COLUMNS="120",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    first = rows(cli, month, "outbox", "list", "--status", "delivered")[0]
    start = " ".join(first["payload"]["text"].split())[:10]
    assert "created" in res.stdout and "what" in res.stdout
    assert str(first["created_at"])[:16] in res.stdout and start in res.stdout
    zh = run(
        cli, "outbox", "list", "--status", "delivered", "--limit", "3",
        "--database-url", month, lang="zh_CN", COLUMNS="120",
    )  # fmt: skip
    assert "创建时间" in zh.stdout and "内容" in zh.stdout and start in zh.stdout


def test_members_of_one_group_leave_out_what_every_row_shares(cli: typer.Typer, month: str) -> None:
    """With --group, the group's id and platform are the same on every row: not shown, so
    the names, statuses and times have the room (80 columns)."""
    one = run(cli, "members", "--group", "1", "--limit", "3", "--database-url", month)
    every = run(cli, "members", "--limit", "3", "--database-url", month)
    assert one.exit_code == every.exit_code == 0

    def columns(output: str) -> int:
        top = next(line for line in output.splitlines() if line.startswith("┏"))
        return top.count("┳") + 1

    # the first three members of every group are all in group 1: where 80 columns are too
    # few, what every row shares is said once under the table (the names keep their room)
    assert columns(every.stdout) == 6, every.stdout
    assert "on every row: source sandbox, group id 1" in every.stdout, every.stdout
    assert columns(one.stdout) == 6  # no source, no group id
    assert "on every row" not in one.stdout  # not even said: --group named the group
