"""`groupops groups` says how the bot is in each group, as the platform last said: removed,
banned, the rights groupops needs that it lacks, ok, or nothing when never said; --json
carries it as stored (bot_in_chat, bot_status, bot_missing, bot_changed_at)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
import typer

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.engine.outbox import queue_actions
from tests.cli import run
from tests.conftest import T0

SRC = "telegram:testbot"
ALL = {"can_delete_messages": True, "can_restrict_members": True, "can_invite_users": True}


def said(n: int, chat: str, status: str, rights: dict[str, bool], in_chat: bool = True) -> Event:
    return Event(
        SRC,
        f"r{n}",
        EventKind.BOT_RIGHTS_CHANGED,
        T0 + timedelta(minutes=n),
        chat_id=chat,
        user_id="1",
        user_name="Olga",
        data={"status": status, "in_chat": in_chat, "rights": rights, "chat_title": f"G{chat}"},
    )


@pytest.fixture
def four_groups(make_app: Callable[..., App]) -> App:
    app = make_app(features=())
    app.sandbox.create_chat("quiet", "Never said")
    app.handle([app.sandbox.join("quiet", "u1", "Ann")])
    app.handle(
        [
            said(1, "-1", "administrator", ALL),
            said(2, "-2", "kicked", {}, in_chat=False),
            said(3, "-3", "administrator", {**ALL, "can_delete_messages": False}),
        ]
    )
    return app


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["", "ok", "bot removed", "cannot delete messages"]),
        ("zh_CN", ["", "正常", "机器人已被移出", "不能删除消息"]),
    ],
)
def test_the_listing_says_how_the_bot_is_in_each_group(
    four_groups: App, database_url: str, cli: typer.Typer, lang: str, words: list[str]
) -> None:
    res = run(cli, "groups", "--database-url", database_url, lang=lang, COLUMNS="200")
    assert res.exit_code == 0, res.output
    lines = [line for line in res.stdout.splitlines() if line.strip()]
    rows = {
        chat: line for line in lines for chat in ("quiet", "-1", "-2", "-3") if f" {chat} " in line
    }
    for chat, word in zip(("quiet", "-1", "-2", "-3"), words, strict=True):
        assert rows[chat].split("│")[-2].strip() == word, rows[chat]
    heading = "bot" if lang == "en" else "机器人"
    assert any(heading in line for line in lines[:4]), res.stdout


def test_json_carries_the_bot_as_stored(
    four_groups: App, database_url: str, cli: typer.Typer
) -> None:
    res = run(cli, "groups", "--database-url", database_url, "--json")
    listed = {g["chat_id"]: g for g in json.loads(res.stdout)}
    got = {
        chat: (g["bot_in_chat"], g["bot_status"], g["bot_missing"]) for chat, g in listed.items()
    }
    assert got == {
        "quiet": (True, "", []),
        "-1": (True, "administrator", []),
        "-2": (False, "kicked", []),
        "-3": (True, "administrator", ["can_delete_messages"]),
    }
    assert listed["-2"]["bot_changed_at"].startswith("2026-11-02 01:02")
    assert "bot" not in listed["-2"]  # the words are the table's


def test_a_dead_letter_for_a_group_the_bot_left_says_why_in_the_operators_language(
    four_groups: App, database_url: str, cli: typer.Typer
) -> None:
    with four_groups.db.begin() as conn:
        queue_actions(
            conn,
            [(Action(ActionKind.SEND, SRC, "-2", text="broadcast"), None)],
            workspace_id=1,
            now=T0,
            feature="broadcast",
        )
    url = ("--database-url", database_url)
    zh = run(cli, "outbox", "list", *url, lang="zh_CN")
    en = run(cli, "outbox", "list", *url)
    assert "未发送：机器人不在该群" in zh.stdout, zh.stdout
    assert "not sent: the bot is not in the group" in en.stdout, en.stdout
