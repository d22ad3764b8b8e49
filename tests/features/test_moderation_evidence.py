"""The moderation log says its evidence in the operator's language: evidence in groupops' own
words (a flood, an undo, the blacklist) is stored as a template with its values; what a
detector quotes, and rows stored before, are shown as they are."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import insert, select

from groupops.cli_output import log_line
from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.features.moderation import moderation_log, undo_decision
from groupops.features.moderation.ops import read_evidence
from groupops.features.moderation.tables import moderation_decisions
from groupops.i18n import Catalogs

ZH = Catalogs().gettext("zh_CN")
EN = Catalogs().gettext("en")


def flooded(make_app: Callable[..., App]) -> App:
    app = make_app(features=("groupops.features.moderation:ModerationFeature",))
    app.sandbox.create_chat("g1", "Python 入门训练营")
    app.handle([app.sandbox.join("g1", "u1", "小明")])
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=2))
    for key, value in {"flood_messages": 6, "flood_seconds": 10}.items():
        settings_admin.set_setting(
            app.db, app.registry, feature="moderation", key=key, value=value, group_ref="1"
        )
    app.engine.directory.invalidate()
    for i in range(6):
        app.handle([app.sandbox.post("g1", "u1", f"第 {i} 条")])
        clock.advance(1)
    return app


def test_a_flood_is_said_in_chinese_and_english(make_app: Callable[..., App]) -> None:
    app = flooded(make_app)
    (row,) = moderation_log(app.db)
    assert row["evidence"] == "6 messages in 10 s"  # --json keeps the English as before
    assert row["evidence_values"] == {"count": 6, "seconds": 10}
    assert log_line(row, ZH)["evidence"] == "10 秒内发了 6 条消息"
    assert log_line(row, EN)["evidence"] == "6 messages in 10 s"
    assert log_line(row)["evidence"] == "6 messages in 10 s"


def test_an_undo_names_the_rule_and_step_in_the_operators_words(
    make_app: Callable[..., App],
) -> None:
    app = flooded(make_app)
    (row,) = moderation_log(app.db)
    undo_decision(app.db, row["id"], by="operator", now=app.clock.now())
    undo = moderation_log(app.db)[0]
    assert undo["evidence"] == f"undid #{row['id']} (flood, warn)"
    assert log_line(undo, ZH)["evidence"] == f"撤销了 #{row['id']}（刷屏，警告）"


def test_rows_stored_before_are_read_back_and_quoted_evidence_shown_as_it_is(
    make_app: Callable[..., App],
) -> None:
    app = flooded(make_app)
    with app.db.begin() as conn:
        first = conn.execute(select(moderation_decisions)).first()
        assert first is not None
        old = {k: v for k, v in first._mapping.items() if k != "id"}
        for evidence in ("5 messages in 10 s", "加我微信", '{"evidence": "unknown"}'):
            conn.execute(insert(moderation_decisions).values({**old, "evidence": evidence}))
    rows = moderation_log(app.db)[:3]
    assert [log_line(r, ZH)["evidence"] for r in rows] == [
        '{"evidence": "unknown"}',
        "加我微信",
        "10 秒内发了 5 条消息",  # an older version's English, read back (stored_texts)
    ]
    assert [r["evidence_template"] for r in rows] == [None, None, None]


def test_read_evidence_never_fails() -> None:
    # groupops' own words: the English, the msgid and its values
    flood = '{"evidence": "flood", "values": {"count": 5, "seconds": 60}}'
    assert read_evidence(flood) == (
        "5 messages in 60 s",
        "{count} messages in {seconds} s",
        {"count": 5, "seconds": 60},
    )
    # anything else is shown as stored: no evidence, quoted text, and marked JSON that is cut
    # short, names no known evidence, lacks a value its text needs or has no values object
    assert read_evidence(None) == ("", None, {})
    for stored in (
        "",
        "x",
        "加我微信",
        '{"evidence": ',
        '{"evidence": "unknown", "values": {}}',
        '{"evidence": "flood", "values": {}}',
        '{"evidence": "flood", "values": [1]}',
        '{"evidence": "flood"}',
    ):
        assert read_evidence(stored) == (stored, None, {}), stored
