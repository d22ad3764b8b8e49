"""No English left in Chinese output (QA docs #13): undo's unnamed operator, the colon after
an error's place, settings refusals in groupops' words in both languages, and the help
pages' value kinds and usage line."""

from __future__ import annotations

from datetime import UTC, datetime

import typer
from sqlalchemy import insert, select

from groupops.domain.errors import InvalidOption
from groupops.i18n import Catalogs
from tests.cli import error_line, run


def test_an_undo_without_by_is_an_operator_in_the_operators_language(
    cli: typer.Typer, imported: str
) -> None:
    from groupops.features.moderation.tables import moderation_decisions
    from groupops.storage.db import open_database

    db = open_database(imported)
    at = datetime(2026, 11, 1, 20, 44, tzinfo=UTC)
    row = {"created_at": at, "workspace_id": 1, "source": "sandbox", "chat_id": "runners"}
    with db.begin() as conn:
        conn.execute(insert(moderation_decisions).values(**row, id=5, rule="link", step="warn"))
    db.dispose()
    url = ("--database-url", imported)
    assert run(cli, "undo", "5", *url).exit_code == 0
    db = open_database(imported)
    with db.connect() as conn:
        stored = conn.execute(
            select(moderation_decisions.c.undone_by).where(moderation_decisions.c.id == 5)
        ).scalar()
    db.dispose()
    assert stored == "operator"  # what the log keeps: no name was given
    zh = error_line(run(cli, "undo", "5", *url, lang="zh_CN"))
    assert zh.startswith("错误 [conflict] 撤销管理处理：处理 #5 已由 运营者 于 2026-"), zh
    en = error_line(run(cli, "undo", "5", *url))
    assert "was already undone by an operator at" in en, en
    from groupops.cli_output import log_line

    row = {"undone_at": at, "undone_by": stored, "step": "warn"}
    assert log_line(row, Catalogs().gettext("zh_CN"))["undone"].endswith("，由 运营者")
    assert log_line(row)["undone"].endswith("by an operator")


def test_the_place_of_a_chinese_error_ends_in_a_chinese_colon() -> None:
    zh = Catalogs().gettext("zh_CN")
    exc = InvalidOption("x", where="--limit")
    assert exc.localized(zh) == "--limit：x"
    assert exc.localized(lambda s: s) == "--limit: x"
    assert str(exc) == "--limit: x"


def test_english_settings_refusals_are_in_groupops_words(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    low = error_line(
        run(cli, "settings", "set", "welcome.burst_window_seconds", "1", "-g", "1", *url)
    )
    assert low.endswith("welcome.burst_window_seconds: from 5 to 3600"), low
    long = error_line(run(cli, "settings", "set", "welcome.rules", "x" * 5000, "-g", "1", *url))
    assert long.endswith("welcome.rules: at most 4000 characters"), long
    assert "Input should" not in low and "String should" not in long


def test_chinese_help_says_value_kinds_and_the_usage_line_in_chinese(cli: typer.Typer) -> None:
    zh = run(cli, "members", "--help", lang="zh_CN", COLUMNS="120").stdout
    assert "<文本>" in zh and "<整数>" in zh and "[最小 1]" in zh, zh
    assert "<str>" not in zh and "<int" not in zh and "x>=" not in zh
    assert "[选项]" in zh and "[OPTIONS]" not in zh
    top = run(cli, "--help", lang="zh_CN").stdout
    assert "[选项] 命令 [参数]..." in top and "COMMAND" not in top, top
    en = run(cli, "members", "--help", COLUMNS="120").stdout
    assert "<str>" in en and "<int> [at least 1]" in en and "[OPTIONS]" in en
    assert "x>=" not in en and "int range" not in en  # Typer's notation, said in words
