"""Operator functions and the CLI over them: settings, groups, members, outbox, owner tasks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import typer

from groupops.domain.errors import Conflict, InvalidOption, InvalidSettings, NotFound
from groupops.engine import admin, settings_admin, settings_read
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry
from tests.cli import error_line, run

WELCOME = "groupops.features.welcome:WelcomeFeature"


@pytest.fixture
def app_with_group(make_app: Callable[..., App]) -> App:
    app = make_app(features=(WELCOME,))
    app.sandbox.create_chat("g1", "Group One")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    return app


def registry() -> FeatureRegistry:
    return FeatureRegistry.load((WELCOME,), extensions=False)


def test_group_setting_overrides_workspace_default(app_with_group: App) -> None:
    db = app_with_group.db
    settings_admin.set_setting(db, registry(), feature="welcome", key="rules", value="No ads.")
    eff = settings_admin.set_setting(
        db, registry(), feature="welcome", key="intro_prompt", value=False, group_ref="sandbox:g1"
    )
    assert eff["rules"] == "No ads." and eff["intro_prompt"] is False
    shown = settings_read.effective_settings(db, registry(), "1")
    assert shown["welcome"]["rules"] == "No ads." and shown["welcome"]["intro_prompt"] is False


def test_invalid_settings_name_the_problem_and_write_nothing(app_with_group: App) -> None:
    db = app_with_group.db
    with pytest.raises(InvalidSettings, match=r"burst_threshold: from 2 to 1000"):
        settings_admin.set_setting(
            db, registry(), feature="welcome", key="burst_threshold", value=1, group_ref="1"
        )
    with pytest.raises(InvalidSettings, match="unknown placeholder 'config'; available: "):
        settings_admin.set_setting(
            db, registry(), feature="welcome", key="template", value="{{ config }}", group_ref="1"
        )
    with pytest.raises(InvalidSettings, match="no feature 'welcom'"):
        settings_admin.set_setting(
            db, registry(), feature="welcom", key="x", value=1, group_ref="1"
        )
    with pytest.raises(NotFound, match="no group"):
        settings_admin.set_setting(
            db, registry(), feature="welcome", key="rules", value="x", group_ref="sandbox:nope"
        )
    with pytest.raises(InvalidOption, match="unknown time zone 'Mars/Base'"):
        settings_admin.set_group_profile(db, "1", timezone="Mars/Base")
    assert settings_read.effective_settings(db, registry(), "1")["welcome"]["burst_threshold"] == 3


def test_cli_lists_and_reports_typed_errors(
    app_with_group: App, database_url: str, cli: typer.Typer
) -> None:
    url = ("--database-url", database_url)
    res = run(cli, "groups", "--json", *url)
    assert res.exit_code == 0, res.output
    groups = json.loads(res.stdout)
    assert [(g["chat_id"], g["title"], g["members"]) for g in groups] == [("g1", "Group One", 1)]
    res = run(cli, "members", "--json", "-g", "sandbox:g1", *url)
    assert res.exit_code == 0, res.output
    assert [m["display_name"] for m in json.loads(res.stdout)] == ["Ann"]
    line = error_line(run(cli, "settings", "profile", "-g", "1", "--timezone", "Nowhere/X", *url))
    assert "invalid_option" in line and "Nowhere/X" in line, line
    line = error_line(run(cli, "outbox", "retry", "42", *url))
    assert "no dead action with id 42" in line and "[" not in line.split("no dead action")[1]
    line = error_line(run(cli, "outbox", "retry", "42", "7", *url))
    assert "no dead action with ids 7, 42" in line, line
    res = run(cli, "db", "upgrade", *url)
    assert res.exit_code == 0 and "revision" in res.output, res.output


def test_forget_member_removes_their_data_but_keeps_group_totals(app_with_group: App) -> None:
    from sqlalchemy import func, select

    from groupops.storage.tables import events, identities, members

    app = app_with_group
    app.handle([app.sandbox.post("g1", "u1", "my phone is 13800001111")])
    with app.db.connect() as conn:
        mid = conn.execute(select(members.c.id)).scalar_one()
    result = admin.forget_member(app.db, registry(), mid)
    assert result == {"events_scrubbed": 2, "memberships_removed": 1}
    with app.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 2
        texts = [r[0] for r in conn.execute(select(events.c.text))]
        assert "13800001111" not in "".join(texts)
        assert conn.execute(select(func.count()).select_from(identities)).scalar_one() == 0
    with pytest.raises(NotFound, match=f"no member {mid}"):
        admin.forget_member(app.db, registry(), mid)


def add_owner_tasks(app: App, n: int) -> list[int]:
    """``n`` open owner tasks in the app's group, as a platform that cannot kick leaves them."""
    from sqlalchemy import insert, select

    from groupops.storage.tables import groups, owner_tasks

    with app.db.begin() as conn:
        group = conn.execute(select(groups)).one()
        return [
            conn.execute(
                insert(owner_tasks)
                .values(
                    workspace_id=group.workspace_id,
                    group_id=group.id,
                    source=group.source,
                    chat_id=group.chat_id,
                    action={"kind": "kick", "user_id": f"u{i}"},
                    text=f"kick u{i} by hand",
                    feature="moderation",
                    status="open",
                    created_at=datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
                )
                .returning(owner_tasks.c.id)
            ).scalar_one()
            for i in range(n)
        ]


def test_tasks_dismiss_closes_an_open_task_and_refuses_any_other(
    app_with_group: App, database_url: str, cli: typer.Typer
) -> None:
    first, second, third = add_owner_tasks(app_with_group, 3)
    url = ("--database-url", database_url)
    res = run(cli, "tasks", "dismiss", str(first), *url)
    assert (res.exit_code, res.stdout.strip()) == (0, f"owner task {first} dismissed"), res.output

    def listed(status: str) -> list[int]:
        shown = run(cli, "tasks", "list", "--status", status, "--json", *url)
        assert shown.exit_code == 0, shown.output
        return [t["id"] for t in json.loads(shown.stdout)]

    assert listed("dismissed") == [first]
    assert listed("open") == [second, third]
    again = error_line(run(cli, "tasks", "dismiss", str(first), *url))
    assert again == f"error [conflict] owner task: owner task {first} is already dismissed"
    assert run(cli, "tasks", "done", str(second), *url).exit_code == 0
    done = error_line(run(cli, "tasks", "dismiss", str(second), *url))
    assert done == (
        f"error [conflict] owner task: owner task {second} is already done: "
        "only an open task can be dismissed"
    )
    assert listed("done") == [second]
    missing = error_line(run(cli, "tasks", "dismiss", "9999", *url))
    assert missing == "error [not_found] owner task: no owner task 9999"
    zh = run(cli, "tasks", "dismiss", str(third), *url, lang="zh_CN")
    assert zh.stdout.strip() == f"人工任务 {third} 已忽略（不再处理）", zh.output
    assert listed("dismissed") == [first, third] and listed("open") == []
    with pytest.raises(Conflict, match="already dismissed"):
        admin.dismiss_owner_task(app_with_group.db, third, datetime.now(UTC))
