"""`groupops tasks list` says what a task asks for in the operator's language, from the action
its platform could not take ('mute u42 until 2026-11-24 12:00 UTC (flood)', 禁言 u42，直到 …),
not the stored English with an ISO time ('Please mute user u42 in chat … until
2026-11-24T12:00:00+00:00'); and names the group by its title (its chat id was cut to 'wrk-…').
--json keeps the stored text and the platform's ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import typer
from sqlalchemy import insert, select

from groupops.domain.actions import Action, ActionKind
from groupops.engine.app import App
from groupops.engine.outbox import describe
from groupops.i18n import Catalogs
from groupops.storage.tables import groups, owner_tasks
from groupops.stored_texts import task_text
from tests.cli import run
from tests.test_cli_tasks_reason import columns

MUTE = Action(
    kind=ActionKind.MUTE,
    source="wecom",
    chat_id="wrk-chat-12345",
    user_id="u42",
    until=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
    reason="flood",
)


def row(action: Action) -> dict[str, object]:
    text = action.text if action.kind == ActionKind.OWNER_TASK else describe(action)
    return {"action": action.to_json(), "text": text}


def test_a_task_is_said_from_its_action_in_both_languages() -> None:
    assert task_text(row(MUTE)) == "mute u42 until 2026-11-24 12:00 UTC (flood)"
    zh = Catalogs().gettext("zh_CN")
    assert task_text(row(MUTE), zh) == "禁言 u42，直到 2026-11-24 12:00 UTC（flood）"
    dm = Action(
        kind=ActionKind.DIRECT_MESSAGE,
        source="wecom",
        chat_id="c",
        user_id="u9",
        text="请先阅读群规",
    )
    assert task_text(row(dm), zh) == "私信 u9：请先阅读群规"
    own = Action(kind=ActionKind.OWNER_TASK, source="wecom", chat_id="c", text="Approve 张三")
    assert task_text(row(own), zh) == "Approve 张三"  # a feature's own words, as stored
    assert task_text({"action": "not json", "text": "as stored"}) == "as stored"


def test_the_listing_names_the_group_and_says_the_task(
    make_app: Callable[..., App], database_url: str, cli: typer.Typer
) -> None:
    app = make_app()
    app.sandbox.create_chat("g1", "Runners 跑团")
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    with app.db.begin() as conn:
        group = conn.execute(select(groups)).one()
        conn.execute(
            insert(owner_tasks).values(
                workspace_id=group.workspace_id,
                group_id=group.id,
                source=group.source,
                chat_id=group.chat_id,
                action=MUTE.to_json(),
                text=describe(MUTE),
                feature="moderation",
                created_at=datetime(2026, 11, 24, 5, 0, tzinfo=UTC),
            )
        )
    url = ("--database-url", database_url)
    page = run(cli, "tasks", "list", *url).stdout
    read = columns(page)
    assert read[1] == "group Runners 跑团", read
    assert read[3] == "text mute u42 until 2026-11-24 12:00 UTC (flood)", read
    assert "T12:00:00" not in page and "Please" not in page
    zh = columns(run(cli, "tasks", "list", *url, lang="zh_CN").stdout)
    assert zh[3].replace(" ", "") == "文字禁言u42，直到2026-11-2412:00UTC（flood）", zh
    (stored,) = json.loads(run(cli, "tasks", "list", "--json", *url).stdout)
    assert stored["text"] == describe(MUTE) and stored["chat_id"] == group.chat_id
