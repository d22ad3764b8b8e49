"""Typed errors an operator reads, in Chinese with their values, and in English exactly as
before: database URLs, the core commands, the leaderboard, undo, the outbox, time zones,
feature settings and templates, feature loading, the demo and the report's folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from pydantic import ValidationError
from sqlalchemy import insert
from typer.testing import CliRunner, Result

from groupops.domain.errors import GroupopsError
from groupops.i18n import Catalogs
from tests.cli import error_line as line
from tests.cli import run

ZH = Catalogs().gettext("zh_CN")
EN = Catalogs().gettext("en")


def said(res: Result, text: str) -> None:
    assert line(res) == text, line(res)


def both(exc: GroupopsError, english: str, chinese: str) -> None:
    assert str(exc) == english
    assert exc.localized(EN) == english
    assert exc.localized(ZH) == chinese


# -- the database URL: every command prints these -------------------------------------------


def test_a_bad_database_url_is_said_in_chinese_with_the_url(
    cli: typer.Typer, tmp_path: Path
) -> None:
    cases = [
        (
            "notaurl",
            "'notaurl' is not a database URL (write sqlite:///path/to/file.db or"
            " postgresql://user@host:5432/name)",
            "'notaurl' 不是数据库 URL（请写 sqlite:///path/to/file.db 或"
            " postgresql://user@host:5432/name）",
        ),
        (
            "foo://bar",
            "foo://bar: unknown kind of database 'foo' (use sqlite:///path/to/file.db or"
            " postgresql://user@host:5432/name)",
            "foo://bar：未知的数据库类型 'foo'（请用 sqlite:///path/to/file.db 或"
            " postgresql://user@host:5432/name）",
        ),
        (
            f"sqlite:///{tmp_path}",
            f"sqlite:///{tmp_path}: {tmp_path} is a folder, not a file",
            f"sqlite:///{tmp_path}：{tmp_path} 是文件夹，不是文件",
        ),
        (
            f"sqlite:///{tmp_path}/typo.db",
            f"no database file {tmp_path}/typo.db: check the path, or make it with `groupops db"
            " upgrade` (empty) or `groupops demo` (a simulated month) and this --database-url",
            f"没有数据库文件 {tmp_path}/typo.db：请检查路径，或用 `groupops db upgrade`（空数据库）"
            "或 `groupops demo`（模拟一个月）加上这个 --database-url 创建它",
        ),
    ]
    for url, english, chinese in cases:
        said(
            run(cli, "groups", "--database-url", url, "--lang", "zh_CN"),
            f"错误 [database_unavailable] --database-url：{chinese}",
        )
        said(
            run(cli, "groups", "--database-url", url),
            f"error [database_unavailable] --database-url: {english}",
        )


def test_a_database_that_does_not_answer_keeps_the_drivers_words_and_hides_the_password(
    cli: typer.Typer,
) -> None:
    url = "postgresql://nobody:s3cret@127.0.0.1:1/x"
    zh = line(run(cli, "db", "upgrade", "--database-url", url, lang="zh_CN"))
    assert zh.startswith(
        "错误 [database_unavailable] --database-url：无法打开 postgresql://nobody:***@127.0.0.1:1/x："
    ), zh
    en = line(run(cli, "db", "upgrade", "--database-url", url))
    assert en.startswith(
        "error [database_unavailable] --database-url: cannot open"
        " postgresql://nobody:***@127.0.0.1:1/x: "
    ), en
    assert zh.split("x：", 1)[1] == en.split("x: ", 1)[1]  # the driver's own words, as they are
    assert "s3cret" not in zh + en


# -- the core commands ----------------------------------------------------------------------


def test_core_commands_refuse_in_chinese(cli: typer.Typer, imported: str) -> None:
    db = ("--database-url", imported)
    said(
        run(cli, "leaderboard", "-g", "1", "--at", "soon", *db, "--lang", "zh_CN"),
        "错误 [invalid_option] --at：'soon' 不是日期或时间（请写 2026-10-15 或 2026-10-15T08:00）",
    )
    said(
        run(cli, "leaderboard", "-g", "1", "--at", "soon", *db),
        "error [invalid_option] --at: 'soon' is not a date or time"
        " (write 2026-10-15 or 2026-10-15T08:00)",
    )
    said(
        run(cli, "leaderboard", "-g", "1", "--period", "year", *db, "--lang", "zh_CN"),
        "错误 [invalid_option] --period：未知周期 'year'：请选 day（日）、week（周）或 month（月）",
    )
    said(
        run(cli, "leaderboard", "-g", "1", "--period", "year", *db),
        "error [invalid_option] --period: unknown period 'year': choose day, week or month",
    )
    said(
        run(cli, "settings", "profile", "-g", "1", *db, lang="zh_CN"),
        "错误 [invalid_option] settings profile：没有要修改的内容：请给出 --timezone、--language"
        " 或 --title",
    )
    said(
        run(cli, "settings", "profile", "-g", "1", "--timezone", "Mars/Base", *db, lang="zh_CN"),
        "错误 [invalid_option] --timezone：未知时区 'Mars/Base'"
        "：请写时区名称，例如 Asia/Shanghai（北京时间）、Europe/Berlin 或 UTC",
    )
    said(
        run(cli, "settings", "profile", "-g", "1", "--timezone", "Mars/Base", *db),
        "error [invalid_option] --timezone: unknown time zone 'Mars/Base': write its name,"
        " e.g. Asia/Shanghai (Beijing time), Europe/Berlin or UTC",
    )
    said(
        run(cli, "outbox", "retry", "7", "9", *db, lang="zh_CN"),
        "错误 [not_found] 发件队列：没有编号为 7, 9 的死信动作",
    )
    said(
        run(cli, "outbox", "retry", "7", *db), "error [not_found] outbox: no dead action with id 7"
    )
    said(
        run(cli, "outbox", "retry", "7", "9", *db),
        "error [not_found] outbox: no dead action with ids 7, 9",
    )


def test_undo_refusals_name_the_decision_in_chinese(cli: typer.Typer, imported: str) -> None:
    from groupops.features.moderation.tables import moderation_decisions
    from groupops.storage.db import open_database

    db = open_database(imported)
    at = datetime(2026, 11, 1, 20, 44, tzinfo=UTC)
    row = {"created_at": at, "workspace_id": 1, "source": "sandbox", "chat_id": "runners"}
    with db.begin() as conn:
        conn.execute(
            insert(moderation_decisions).values(
                **row, id=5, rule="link", step="warn", undone_at=at, undone_by="alice"
            )
        )
        conn.execute(
            insert(moderation_decisions).values(
                **row, id=6, rule="undo", step="undo", undo_of=5, by="alice"
            )
        )
    db.dispose()
    url = ("--database-url", imported)
    zh = run(cli, "undo", "99", *url, lang="zh_CN")
    said(zh, "错误 [not_found] 撤销管理处理：没有管理处理 #99")
    said(
        run(cli, "undo", "99", *url),
        "error [not_found] moderation undo: no moderation decision #99",
    )
    said(
        run(cli, "undo", "6", *url, lang="zh_CN"),
        "错误 [conflict] 撤销管理处理：处理 #6 本身就是一次撤销（撤销的是 #5），不能再撤销",
    )
    said(
        run(cli, "undo", "6", *url),
        "error [conflict] moderation undo: decision #6 is itself an undo (of #5); it cannot be"
        " undone",
    )
    said(
        run(cli, "undo", "5", *url, lang="zh_CN"),
        "错误 [conflict] 撤销管理处理：处理 #5 已由 alice 于 2026-11-01 20:44 UTC 撤销",
    )
    said(
        run(cli, "undo", "5", *url),
        "error [conflict] moderation undo: decision #5 was already undone by alice at"
        " 2026-11-01 20:44 UTC",
    )


def test_undo_without_an_operator_is_one_line_not_a_traceback(
    cli: typer.Typer, imported: str
) -> None:
    said(
        run(cli, "undo", "1", "--by", " ", "--database-url", imported, lang="zh_CN"),
        "错误 [invalid_option] --by：请说明由谁撤销：填一个名字，会记入日志",
    )
    said(
        run(cli, "undo", "1", "--by", "", "--database-url", imported),
        "error [invalid_option] --by: say who undoes it: a name, kept in the log",
    )


# -- feature settings, templates and loading ------------------------------------------------


def refused(model: type, values: dict[str, object]) -> GroupopsError:
    """What a settings model says of ``values``, as :class:`SettingsRefused` says it."""
    from groupops.features.registry import SettingsRefused

    with pytest.raises(ValidationError) as caught:
        model.model_validate(values)  # type: ignore[attr-defined]
    return SettingsRefused(caught.value, default="settings", where="workspace default")


def test_settings_checks_are_said_in_chinese_and_pydantics_commonest_too() -> None:
    from groupops.features.moderation import parse_settings

    with pytest.raises(GroupopsError) as caught:
        parse_settings({"ladder": ["warn", "mute:5"], "keywords_zh": [" "], "flood_seconds": 0})
    both(
        caught.value,
        "moderation: ladder: ladder step 'mute:5': a mute lasts from 1 minute to"
        " 366 days; keywords_zh: empty keyword; flood_seconds: from 1 to 3600",
        "moderation：ladder：处罚步骤 'mute:5'：禁言时长须在 1 分钟到 366 天之间；"
        "keywords_zh：关键词为空；flood_seconds：1 到 3600 之间",
    )


@pytest.mark.parametrize(
    ("model", "values", "english", "chinese"),
    [
        (
            "groupops.features.moderation.settings:ModerationSettings",
            {"ladder": ["mute"], "allowed_domains": ["not a domain"]},
            "ladder: ladder step 'mute': say how long, e.g. mute:3600 or mute:1h;"
            " allowed_domains: 'not a domain' is not a domain like"
            " example.com or a link prefix like t.me/our_group",
            "ladder：处罚步骤 'mute'：请写明时长，例如 mute:3600 或 mute:1h；allowed_domains："
            "'not a domain' 既不是 example.com 这样的域名，也不是"
            " t.me/our_group 这样的链接前缀",
        ),
        (
            "groupops.features.moderation.settings:ModerationSettings",
            {"keywords_en": ["x" * 120]},
            f"keywords_en: keyword {'x' * 20!r}… is over 100 characters",
            f"keywords_en：关键词 {'x' * 20!r}… 超过 100 个字符",
        ),
        (
            "groupops.features.gate.settings:GateSettings",
            {"mode": "quiz", "question": "Who?", "options": ["a", "b"], "answer": 3},
            "settings: answer 3 is not one of the 2 options",
            "settings：答案 3 不在这 2 个选项之中",
        ),
        (
            "groupops.features.checkin.settings:CheckinSettings",
            {"keywords": [" "], "reply_template": "{{ name"},
            "keywords: at least one keyword is needed;"
            " reply_template: syntax error line 1:"
            " unexpected end of template, expected 'end of print statement'.",
            "keywords：至少需要一个关键词；reply_template："
            "第 1 行语法错误：unexpected end of template, expected"
            " 'end of print statement'.",
        ),
        (
            "groupops.features.points.settings:PointsSettings",
            {"levels": [{"name": "A", "points": 5}]},
            "levels: the first level must need 0 points",
            "levels：第一个等级所需积分必须为 0",
        ),
        (
            "groupops.features.welcome.settings:WelcomeSettings",
            {"template": "Hi {{ nick }}"},
            "template: unknown placeholder 'nick'; available: group, name, rules",
            "template：未知占位符 'nick'；可用：group, name, rules",
        ),
    ],
)
def test_each_features_own_checks_are_said_in_chinese(
    model: str, values: dict[str, object], english: str, chinese: str
) -> None:
    import importlib

    module, _, name = model.partition(":")
    exc = refused(getattr(importlib.import_module(module), name), values)
    both(exc, f"workspace default: {english}", f"workspace default：{chinese}")


def test_a_template_error_keeps_the_setting_name_and_says_the_rest_in_chinese() -> None:
    from groupops.domain.errors import TemplateError
    from groupops.engine.templates import MAX_TEMPLATE, TemplateRenderer

    renderer = TemplateRenderer()
    with pytest.raises(TemplateError) as caught:
        renderer.check("x" * (MAX_TEMPLATE + 1), {}, where="welcome.template")
    both(
        caught.value,
        "welcome.template: template longer than 4000 characters",
        "welcome.template：模板超过 4000 个字符",
    )
    with pytest.raises(TemplateError) as caught:
        renderer.check("{{ 2 ** 100 }}", {}, where="welcome.template")
    both(
        caught.value,
        "welcome.template: not allowed: exponent too large",
        "welcome.template：不允许：exponent too large",
    )


def test_a_feature_that_cannot_load_is_said_in_chinese() -> None:
    from groupops.features.registry import FeatureLoadError, load_feature

    with pytest.raises(FeatureLoadError) as caught:
        load_feature("groupops.features.welcome:Nope")
    english = str(caught.value)
    assert english.startswith("cannot load feature 'groupops.features.welcome:Nope': ")
    assert caught.value.localized(ZH) == (
        "无法加载功能 'groupops.features.welcome:Nope'：" + english.split("Nope': ", 1)[1]
    )
    with pytest.raises(FeatureLoadError) as caught:
        load_feature("groupops.features.base:FeatureSettings")
    both(
        caught.value,
        "feature 'groupops.features.base:FeatureSettings' lacks 'name'",
        "功能 'groupops.features.base:FeatureSettings' 缺少 'name'",
    )


# -- the demo and the report ----------------------------------------------------------------


def test_demo_refusals_are_said_in_chinese(cli: typer.Typer, imported: str) -> None:
    said(
        run(cli, "demo", "--days", "0", lang="zh_CN"),
        "错误 [invalid_option] demo：--days 0.0 须大于 0 且不超过 366",
    )
    said(
        run(cli, "demo", "--days", "0"),
        "error [invalid_option] demo: --days 0.0 must be above 0 and at most 366",
    )
    said(
        run(cli, "demo", "--members", "3", lang="zh_CN"),
        "错误 [invalid_option] demo：--members 3 须在 10 到 5000 之间",
    )
    said(
        run(cli, "demo", "--start", "tomorrow", lang="zh_CN"),
        "错误 [invalid_option] demo：--start 'tomorrow' 不是 2026-11-01 这样的日期",
    )
    said(
        run(cli, "demo", "--start", "tomorrow"),
        "error [invalid_option] demo: --start 'tomorrow' is not a date like 2026-11-01",
    )
    refused = line(run(cli, "demo", "--database-url", imported, lang="zh_CN"))
    assert refused.startswith(
        "错误 [demo_error] --database-url：数据库中已有事件；演示需要一个空数据库（它的总计会计入"
        "库中的全部内容）：请换一个，例如 --database-url sqlite:///"
    ), refused


def test_the_reports_folder_refusal_is_said_in_chinese(tmp_path: Path) -> None:
    from groupops.report import OutputNotWritable, check_out_dir

    target = tmp_path / "file"
    target.write_text("", encoding="utf-8")
    with pytest.raises(OutputNotWritable) as caught:
        check_out_dir(target / "out")
    both(caught.value, f"{target}/out: it is not a folder", f"{target}/out：它不是文件夹")


def test_settings_set_says_a_features_own_check_in_chinese(cli: typer.Typer, imported: str) -> None:
    """``settings set`` refuses with the feature's own words in the operator's language (the
    field named once), pydantic's own messages as pydantic says them."""
    args = ("settings", "set", "moderation.keywords_zh", '[" "]', "-g", "1")
    url = ("--database-url", imported)
    zh = line(run(cli, *args, *url, lang="zh_CN"))
    assert zh.endswith("moderation.keywords_zh：关键词为空"), zh
    assert zh.startswith("错误 [invalid_settings]") and "Value error" not in zh
    en = line(run(cli, *args, *url))
    assert en.endswith("moderation.keywords_zh: empty keyword"), en


def test_a_command_without_lang_answers_in_the_terminals_language(
    cli: typer.Typer, imported: str
) -> None:
    """``undo`` has no --lang: GROUPOPS_LANG, else the terminal's LANG, as ``demo`` and
    ``serve`` print the rest of their output."""
    url = ("--database-url", imported)
    env = {"COLUMNS": "80", "GROUPOPS_LANG": "", "LC_ALL": "", "LC_MESSAGES": ""}
    zh = CliRunner().invoke(cli, ["undo", "99", *url], env={**env, "LANG": "zh_CN.UTF-8"})
    assert line(zh) == "错误 [not_found] 撤销管理处理：没有管理处理 #99"
    en = CliRunner().invoke(cli, ["undo", "99", *url], env={**env, "LANG": "en_GB.UTF-8"})
    assert line(en).startswith("error [not_found]")
    # GROUPOPS_LANG speaks before the terminal
    both_set = {**env, "LANG": "zh_CN.UTF-8", "GROUPOPS_LANG": "en"}
    assert line(CliRunner().invoke(cli, ["undo", "99", *url], env=both_set)).startswith("error")
