"""`groupops tasks dismiss ID --reason TEXT` keeps why a task is not to be done: `tasks list
--status dismissed` shows it (its own column, in both languages), --json carries it, and a
blank or too long reason is refused with nothing changed. Migration 0012 adds the column to a
database that has dismissed tasks already (SQLite here; PostgreSQL with
GROUPOPS_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import typer
from sqlalchemy import inspect, select, text

from groupops.engine import admin
from groupops.engine.app import App
from groupops.storage.tables import owner_tasks
from tests.cli import error_line, run
from tests.engine.test_admin_cli import add_owner_tasks


@pytest.fixture
def app_with_group(make_app: Callable[..., App]) -> App:
    app = make_app()
    app.sandbox.create_chat("g1", "Group One")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    return app


def test_a_dismissed_task_keeps_its_reason_and_the_listing_shows_it(
    app_with_group: App, database_url: str, cli: typer.Typer
) -> None:
    first, second = add_owner_tasks(app_with_group, 2)
    url = ("--database-url", database_url)
    why = "kicked by hand in the WeCom app"
    res = run(cli, "tasks", "dismiss", str(first), "--reason", f"  {why} ", *url)
    assert res.exit_code == 0, res.output
    assert run(cli, "tasks", "dismiss", str(second), *url).exit_code == 0
    listed = run(cli, "tasks", "list", "--status", "dismissed", "--json", *url)
    got = {t["id"]: t["reason"] for t in json.loads(listed.stdout)}
    assert got == {first: why, second: None}
    page = run(cli, "tasks", "list", "--status", "dismissed", *url).stdout
    read = columns(page)
    assert f"reason {why} (none given)" in read, read
    assert "dismissed (UTC)" in read[4] and "moderation" in read[2], read
    zh = columns(run(cli, "tasks", "list", "--status", "dismissed", *url, lang="zh_CN").stdout)
    assert "原因" in zh[-1] and "（未说明）" in zh[-1] and "忽略时间 （UTC）" in zh[4], zh
    assert zh[2].startswith("功能 moderation"), zh  # as settings name it, whole
    opened = run(cli, "tasks", "list", *url).stdout  # an open task has no reason column
    assert "reason" not in opened and "dismissed" not in opened


def columns(page: str) -> list[str]:
    """Each column of a listing read top to bottom, its lines joined by spaces."""
    found: dict[int, list[str]] = {}
    for line in page.splitlines():
        for i, part in enumerate(line.replace("┃", "│").split("│")[1:-1]):
            if part.strip():
                found.setdefault(i, []).append(part.strip())
    return [" ".join(parts) for _, parts in sorted(found.items())]


def test_a_blank_or_too_long_reason_is_refused_and_the_task_stays_open(
    app_with_group: App, database_url: str, cli: typer.Typer
) -> None:
    (task,) = add_owner_tasks(app_with_group, 1)
    url = ("--database-url", database_url)
    blank = error_line(run(cli, "tasks", "dismiss", str(task), "--reason", "  ", *url))
    assert blank == (
        "error [invalid_option] --reason: the reason is empty: say why, or leave --reason out"
    )
    long = error_line(run(cli, "tasks", "dismiss", str(task), "--reason", "x" * 501, *url))
    assert long.endswith("--reason: the reason is 501 characters long: at most 500"), long
    zh = error_line(run(cli, "tasks", "dismiss", str(task), "--reason", "", *url, lang="zh_CN"))
    assert zh.startswith("错误 [invalid_option] --reason：原因是空的"), zh
    still = json.loads(run(cli, "tasks", "list", "--json", *url).stdout)
    assert [(t["id"], t["status"], t["reason"]) for t in still] == [(task, "open", None)]
    admin.dismiss_owner_task(app_with_group.db, task, datetime.now(UTC), "x" * 500)


def test_the_migration_adds_a_reason_to_a_database_with_dismissed_tasks(
    database_url: str,
) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from groupops.storage.db import make_engine
    from groupops.storage.migrate import alembic_config, current, upgrade

    def head(db: Any) -> str | None:
        return ScriptDirectory.from_config(alembic_config(db)).get_current_head()

    db = make_engine(database_url)
    try:
        upgrade(db)
        command.downgrade(alembic_config(db), "0011")  # 0012's downgrade, then its upgrade
        assert "reason" not in {c["name"] for c in inspect(db).get_columns("owner_tasks")}
        with db.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO owner_tasks (workspace_id, source, chat_id, action, text,"
                    " feature, status, created_at) VALUES (1, 'wecom', 'c', '{}', 'kick u1',"
                    " 'moderation', 'dismissed', '2026-11-01 00:00:00.000000+00:00')"
                )
            )
        upgrade(db)
        assert current(db) == head(db)
        with db.connect() as conn:
            kept = conn.execute(select(owner_tasks.c.text, owner_tasks.c.reason)).all()
            conn.rollback()
        assert [tuple(row) for row in kept] == [("kick u1", None)]
    finally:
        db.dispose()


def test_an_empty_listing_reads_as_one_sentence(cli: typer.Typer, imported: str) -> None:
    """A listing's status is in brackets after its title, so that an empty one does not read
    'owner tasks: to do: nothing to list'."""
    url = ("--database-url", imported)
    assert run(cli, "tasks", "list", *url).stdout.strip() == (
        "owner tasks (to do): nothing to list"
    )
    zh = run(cli, "tasks", "list", "--status", "dismissed", *url, lang="zh_CN").stdout
    assert zh.strip() == "人工任务（已忽略）：暂无记录", zh
