"""Texts groupops stored in English are said in the operator's language when shown: the reason
a feature writes on an action (an owner task shows it: 'kick u2 (gate: no answer in time
(failed gates: 1))' read so in a Chinese listing), and moderation evidence in groupops' own
words stored by versions before the log kept its template ('6 messages in 10 s'). What a
person wrote (a dismissal's reason, quoted evidence) is shown as written, and --json keeps
what is stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import typer
from sqlalchemy import insert

from groupops.cli_output import log_line
from groupops.domain.actions import ActionKind
from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.features.registry import DEFAULT_FEATURES, FeatureRegistry
from groupops.i18n import Catalogs
from groupops.platforms.sandbox import SandboxAdapter
from groupops.platforms.sandbox.adapter import SANDBOX_CAPABILITIES
from groupops.stored_texts import evidence_said, reason_said
from tests.cli import run
from tests.test_cli_tasks_reason import columns

ZH = Catalogs().gettext("zh_CN")
#: what the platform cannot do: each becomes an owner task carrying the feature's reason
BY_HAND = {ActionKind.KICK, ActionKind.BAN, ActionKind.MUTE, ActionKind.UNMUTE, ActionKind.DELETE}


@pytest.fixture
def tasks_made(make_app: Callable[..., App]) -> App:
    """A group on a platform that cannot remove, mute or delete, where moderation stops a
    flood and the join gate times a newcomer out: owner tasks, with the features' reasons."""
    app = make_app()
    caps = replace(SANDBOX_CAPABILITIES, actions=SANDBOX_CAPABILITIES.actions - BY_HAND)
    app.platforms.add(SandboxAdapter(app.db, app.clock, capabilities=caps))
    app.sandbox.create_chat("g1", "Runners")
    app.handle([app.sandbox.join("g1", "admin", "Admin", is_admin=True)])
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    registry = FeatureRegistry.load(DEFAULT_FEATURES, extensions=False)
    set_it = settings_admin.set_setting
    set_it(app.db, registry, feature="gate", key="enabled", value=True, group_ref="1")
    set_it(app.db, registry, feature="moderation", key="ladder", value=["mute:3600"], group_ref="1")
    app.engine.directory.invalidate()
    for i in range(7):  # a flood: 6 messages in 10 s
        app.handle([app.sandbox.post("g1", "u1", f"hello {i} there friends")])
    app.handle([app.sandbox.join("g1", "u2", "Newbie")])
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=10))
    app.engine.tick()  # the gate's time is up
    return app


def test_a_tasks_feature_reason_is_said_in_the_operators_language(
    tasks_made: App, database_url: str, cli: typer.Typer
) -> None:
    url = ("--database-url", database_url)
    zh = columns(run(cli, "tasks", "list", *url, lang="zh_CN").stdout)
    text = "".join(zh[3].split())  # wrapped in the table: read without the line breaks
    assert "删除消息8（群管：刷屏（10秒内发了6条消息））" in text, zh
    assert "UTC（群管：刷屏（10秒内发了6条消息））" in text, zh  # the mute's
    assert "移出u2（进群验证：未在时限内回答（累计1次未通过进群验证））" in text, zh
    assert "moderation:" not in text and "gate:" not in text and "messages" not in text
    en = columns(run(cli, "tasks", "list", *url).stdout)[3]
    assert "UTC (moderation: flood (6 messages in 10 s))" in en, en
    assert "kick u2 (gate: no answer in time (failed gates: 1))" in en, en
    stored = json.loads(run(cli, "tasks", "list", "--json", *url, lang="zh_CN").stdout)
    assert "Please kick user u2 in chat g1 — gate: no answer in time (failed gates: 1)" in [
        t["text"] for t in stored
    ]


@pytest.mark.parametrize(
    ("stored", "chinese"),
    [
        ("gate: raid", "进群验证：短时间内涌入大量新成员，暂停接纳"),
        ("gate: until the newcomer answers", "进群验证：直到新人回答问题"),
        ("gate: the newcomer has not answered yet", "进群验证：新人还没有回答问题"),
        ("gate: the question comes after joining", "进群验证：先让其入群，入群后再提问"),
        ("gate: wrong answers (failed gates: 3)", "进群验证：回答错误（累计 3 次未通过进群验证）"),
        ("gate: answered", "进群验证：已回答"),
        ("gate: turned off", "进群验证：已关闭"),
        ("undo of moderation decision #12", "撤销管理处理 #12"),
        ("moderation: blacklisted for link in Runners", "群管：因链接在「Runners」被拉黑"),
        ("blacklisted", "在黑名单中"),
        ("moderation: contact (加我微信)", "群管：私加好友（加我微信）"),  # quoted: as found
        (
            "moderation: cross_group (seen in 3 groups: buy cheap likes)",
            "群管：多群重复发送（在 3 个群出现：buy cheap likes）",
        ),
        ("flood", "flood"),  # a bare word is not a reason the features write
        ("kicked by hand in the WeCom app", "kicked by hand in the WeCom app"),  # a person's
    ],
)
def test_every_reason_the_features_write_is_said_again(stored: str, chinese: str) -> None:
    assert reason_said(stored, ZH) == chinese
    assert reason_said(stored) == stored  # English: as stored


def test_evidence_stored_before_its_template_was_kept_is_said_in_the_operators_language(
    cli: typer.Typer, imported: str
) -> None:
    from groupops.features.moderation.tables import moderation_decisions
    from groupops.storage.db import open_database

    at = datetime(2026, 11, 1, 20, 44, tzinfo=UTC)
    row = {"created_at": at, "workspace_id": 1, "source": "sandbox", "chat_id": "runners"}
    old = {  # what versions before the template stored, and quoted evidence
        5: ("flood", "mute", "6 messages in 10 s"),
        6: ("blacklist", "kick", "blacklisted for link in Runners (decision #5)"),
        7: ("link", "warn", "example.com/6 messages in 10 s"),
    }
    db = open_database(imported)
    with db.begin() as conn:
        for id_, (rule, step, evidence) in old.items():
            values = {**row, "id": id_, "rule": rule, "step": step, "evidence": evidence}
            conn.execute(insert(moderation_decisions).values(**values))
    db.dispose()
    url = ("--database-url", imported)
    zh = run(cli, "moderation", "log", *url, lang="zh_CN").stdout  # cut to the terminal
    assert "│ 10 秒内发了" in zh and "│ 因链接在" in zh and "│ example.com/6" in zh, zh
    listed = json.loads(run(cli, "moderation", "log", "--json", *url, lang="zh_CN").stdout)
    assert {e["id"]: e["evidence"] for e in listed} == {i: e for i, (_, _, e) in old.items()}
    shown = {e["id"]: log_line(e, ZH)["evidence"] for e in listed}  # as the table says them
    assert shown == {
        5: "10 秒内发了 6 条消息",
        6: "因链接在「Runners」被拉黑（处理 #5）",
        7: "example.com/6 messages in 10 s",  # quoted: as found
    }
    assert evidence_said("seen in 2 groups: 广告", ZH) == "在 2 个群出现：广告"
    assert evidence_said("undid #3 (flood, mute)", ZH) == "撤销了 #3（刷屏，禁言）"


def test_a_task_about_the_bot_is_said_in_the_operators_language_whatever_the_groups(
    make_app: Callable[..., App], database_url: str, cli: typer.Typer
) -> None:
    """The bot's own tasks are written in the group's language (a Chinese group's, an English
    group's) and read in the operator's: the rights it lacks said again from those the task
    names."""
    from tests.engine.fakes import FlakyAdapter
    from tests.engine.test_bot_presence import ADMIN_RIGHTS, SRC, rights_event

    app = make_app()
    app.platforms.add(FlakyAdapter(SRC))
    lacking = {**ADMIN_RIGHTS, "can_delete_messages": False}
    app.handle([rights_event(1, "administrator", rights=lacking)])  # a new group: zh_CN
    app.handle([rights_event(2, "administrator", chat="-200", rights=ADMIN_RIGHTS)])
    settings_admin.set_group_profile(app.db, "2", language="en")
    app.engine.directory.invalidate()
    app.handle([rights_event(3, "kicked", chat="-200", in_chat=False, at=5)])
    url = ("--database-url", database_url)
    stored = json.loads(run(cli, "tasks", "list", "--json", *url).stdout)
    first, second = (t["text"] for t in stored)  # as written: in each group's language
    assert first.startswith("在群「Group -100」") and second.startswith("The bot was removed")
    zh = "".join(columns(run(cli, "tasks", "list", *url, lang="zh_CN").stdout)[3].split())
    assert "机器人被Alice移出了群「Group-200」：该群不再发送或执行任何操作。" in zh, zh
    assert "在群「Group-100」中，机器人已不能删除消息（由Alice更改）" in zh, zh
    en = " ".join(columns(run(cli, "tasks", "list", *url).stdout)[3].split())
    assert "In group Group -100 the bot may no longer delete messages (changed by Alice):" in en
    assert "moderation cannot remove ads and spam" in en, en
    assert "The bot was removed from group Group -200 by Alice" in en, en
