"""A Chinese operator's second round with the command line (QA findings 7, 8, 9, 12, 13):
the demo and serve speak GROUPOPS_LANG, settings mistakes are said in the operator's words
with the shape wanted, settings show tells a group's own values from the workspace's, dates
and titles read as Chinese, and refusals name the right form."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from tests.cli import error_line, run
from tests.conftest import REPO

GROUPOPS = Path(sys.executable).parent / "groupops"


# -- 7: demo and serve in the operator's language --------------------------------------------


def test_the_demo_summary_is_chinese_under_groupops_lang(cli: typer.Typer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    args = ("demo", "--days", "0.2", "--members", "12", "--database-url", url)
    done = run(cli, *args, lang="zh_CN", COLUMNS="200")
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert out.startswith("groupops 演示：约 12 位模拟成员，3 个沙盒群"), out
    for said in ("模拟时间 ", "总计", "已存事件", "主动退群", "通过进群验证", "演示数据库保存在"):
        assert said in out, said
    for english in ("simulated people", "Simulated time", "Totals", "events stored", "wall time"):
        assert english not in out, english


def test_serve_says_where_the_web_chat_is_in_chinese(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "GROUPOPS_LANG": "zh_CN",
        "PYTHONUNBUFFERED": "1",
    }
    url = f"sqlite:///{tmp_path}/g.db"
    proc = subprocess.Popen(
        [str(GROUPOPS), "serve", "--port", "0", "--database-url", url],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "http://" in line:
                break
        said = "".join(lines)
        started = r"groupops：沙盒网页群聊地址 http://127\.0\.0\.1:\d+（按 Ctrl\+C 停止）"
        assert re.search(started, said), said
        assert "sandbox web chat" not in said
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- 8: the commonest settings mistakes, in the operator's words with the shape wanted --------


def settings_of(cli: typer.Typer, url: str, *args: str) -> dict[str, Any]:
    shown = run(cli, "settings", "show", *args, "--database-url", url)
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("typed", ["签到,打卡", "签到，打卡", "签到、打卡", " 签到 , 打卡 "])
def test_a_list_of_words_may_be_typed_with_commas(
    cli: typer.Typer, imported: str, typed: str
) -> None:
    res = run(cli, "settings", "set", "checkin.keywords", typed, "-g", "1", "--database-url",
              imported, lang="zh_CN")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert settings_of(cli, imported, "-g", "1")["checkin"]["keywords"] == ["签到", "打卡"]


def test_one_word_is_a_list_of_one(cli: typer.Typer, imported: str) -> None:
    url = ("--database-url", imported)
    res = run(cli, "settings", "set", "moderation.keywords_zh", "代开发票", "-g", "1", *url)
    assert res.exit_code == 0, res.output
    assert settings_of(cli, imported, "-g", "1")["moderation"]["keywords_zh"] == ["代开发票"]


@pytest.mark.parametrize(
    ("typed", "stored"), [("是", True), ("否", False), ("开", True), ("关", False)]
)
def test_a_yes_no_setting_takes_the_chinese_words(
    cli: typer.Typer, imported: str, typed: str, stored: bool
) -> None:
    url = ("--database-url", imported)
    res = run(cli, "settings", "set", "checkin.goal_required", typed, "-g", "1", *url)
    assert res.exit_code == 0, res.output
    assert settings_of(cli, imported, "-g", "1")["checkin"]["goal_required"] is stored


LONG_RULES = "规" * 4001


@pytest.mark.parametrize(
    ("name", "typed", "chinese", "english"),
    [
        (
            "checkin.keywords",
            "['签到','打卡']",
            """请写成 JSON 列表（用英文双引号），例如 '["签到", "打卡"]'"""
            "；文字列表也可以写成 签到,打卡",
            """write a JSON list with double quotes, e.g. '["one", "two"]'""",
        ),
        (
            "checkin.goal_required",
            "也许",
            "请写 是 或 否（也可以写 开/关、yes/no、true/false、1/0）",
            "write yes or no (true/false, on/off and 1/0 work too)",
        ),
        (
            "points.message_cooldown_seconds",
            "1分钟",
            "请写一个整数（秒），例如 60",
            "write a whole number (seconds), e.g. 60",
        ),
        (
            "points.message_points",
            "一",
            "请写一个整数，例如 10",
            "write a whole number, e.g. 10",
        ),
        (
            "gate.timeout_seconds",
            "10",
            "30 到 86400 之间",
            "from 30 to 86400",
        ),
        (
            "welcome.rules",
            LONG_RULES,
            "最多 4000 个字符",
            "at most 4000 characters",
        ),
        (
            "welcome.template",
            "欢迎 {{ nmae }}",
            "未知占位符 'nmae'；可用：group, name, rules",
            "unknown placeholder 'nmae'; available: group, name, rules",
        ),
    ],
)
def test_a_settings_mistake_says_the_shape_wanted_in_one_language(
    cli: typer.Typer, imported: str, name: str, typed: str, chinese: str, english: str
) -> None:
    args = ("settings", "set", name, typed, "-g", "1", "--database-url", imported)
    zh = error_line(run(cli, *args, lang="zh_CN"))
    assert zh == f"错误 [invalid_settings] 群 1 {name}：{chinese}", zh
    assert "Input" not in zh and "should" not in zh and "undefined" not in zh
    en = error_line(run(cli, *args))
    assert en == f"error [invalid_settings] group 1 {name}: {english}", en


def test_pydantic_errors_are_said_by_their_type_not_their_english() -> None:
    from groupops.features.registry import pydantic_said
    from groupops.i18n import Catalogs

    zh = Catalogs().gettext("zh_CN")
    error = {"type": "less_than_equal", "loc": ("x",), "msg": "whatever", "ctx": {"le": 5}}
    said = pydantic_said(error)
    assert said is not None and said.localized_message(zh) == "最大 5"
    error = {"type": "too_long", "loc": ("options",), "msg": "?", "ctx": {"max_length": 8,
             "actual_length": 9, "field_type": "List"}}  # fmt: skip
    said = pydantic_said(error)
    assert said is not None and said.localized_message(zh) == "最多 8 项，这里有 9 项"
    assert pydantic_said({"type": "url_parsing", "loc": ("x",), "msg": "?"}) is None


# -- 9: settings show: the workspace's defaults, and what is set where ------------------------


def test_settings_show_without_a_group_shows_the_workspace_defaults(
    cli: typer.Typer, imported: str
) -> None:
    url = ("--database-url", imported)
    assert run(cli, "settings", "set", "welcome.rules", "工作区默认群规：友善", *url).exit_code == 0
    shown = settings_of(cli, imported)
    assert shown["welcome"]["rules"] == "工作区默认群规：友善"
    assert shown["checkin"]["keywords"]  # the built-in ones too: what a group inherits
    assert settings_of(cli, imported, "--own") == {"welcome": {"rules": "工作区默认群规：友善"}}
    assert settings_of(cli, imported, "-w", "default", "--own") == settings_of(
        cli, imported, "--own"
    )
    missing = error_line(run(cli, "settings", "show", "-w", "nope", *url, lang="zh_CN"))
    assert missing.startswith("错误 [not_found] "), missing


def test_settings_show_tells_a_groups_own_values_from_inherited_ones(
    cli: typer.Typer, imported: str
) -> None:
    url = ("--database-url", imported)
    run(cli, "settings", "set", "welcome.rules", "工作区默认群规：友善", *url)
    assert settings_of(cli, imported, "-g", "1", "--own") == {}
    assert settings_of(cli, imported, "-g", "1")["welcome"]["rules"] == "工作区默认群规：友善"
    res = run(cli, "settings", "set", "welcome.intro_prompt", "否", "-g", "1", *url, lang="zh_CN")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1] == "群 1 自己的 welcome 设置（其余沿用默认）：", res.stdout
    assert json.loads(res.stdout.split("\n", 2)[2]) == {"intro_prompt": False}
    assert settings_of(cli, imported, "-g", "1", "--own") == {"welcome": {"intro_prompt": False}}
    wrong = error_line(run(cli, "settings", "show", "-g", "1", "-w", "other", *url))
    assert "group 1 is not in workspace 'other'" in wrong, wrong
    ws = run(cli, "settings", "set", "welcome.rules", "新默认", *url, lang="zh_CN")
    assert (
        ws.stdout.splitlines()[1] == "工作区 'default' 的 welcome 默认设置（其余为内置默认）："
    ), ws.stdout


# -- 12: dates, times and wording --------------------------------------------------------------


def narrow(monkeypatch: pytest.MonkeyPatch, width: int) -> io.StringIO:
    """The commands print on a console this many cells wide (whatever COLUMNS says)."""
    from rich.console import Console

    from groupops import cli_output

    printed = io.StringIO()
    monkeypatch.setattr(cli_output, "out", Console(file=printed, width=width))
    return printed


def test_a_sentence_is_one_line_whatever_the_width(
    cli: typer.Typer, imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    printed = narrow(monkeypatch, 30)
    args = (
        "settings",
        "profile",
        "-g",
        "1",
        "--timezone",
        "Asia/Shanghai",
        "--title",
        "Python 入门训练营",
    )
    res = run(cli, *args, "--database-url", imported, lang="zh_CN")
    assert res.exit_code == 0, res.output
    assert printed.getvalue() == (
        "群 1：时区：UTC → Asia/Shanghai；名称：chat → Python 入门训练营\n"
    ), printed.getvalue()


def test_a_time_zone_is_never_cut_in_a_narrow_table(
    cli: typer.Typer, imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.cells import cell_len

    zone = "America/Argentina/ComodRivadavia"
    url = ("--database-url", imported)
    assert run(cli, "settings", "profile", "-g", "1", "--timezone", zone, *url).exit_code == 0
    printed = narrow(monkeypatch, 80)
    assert run(cli, "groups", *url, lang="zh_CN").exit_code == 0
    lines = printed.getvalue().splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert any(zone in line for line in lines), printed.getvalue()


def test_members_say_the_zone_of_their_times(
    cli: typer.Typer, imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from groupops import cli_output

    monkeypatch.setattr(cli_output.out, "width", 200)  # every heading on one line
    url = ("--database-url", imported)
    every = run(cli, "members", "--json", *url)
    assert '"joined_at": "2023-05-01 10:01:00' in every.stdout  # stored in UTC
    run(cli, "settings", "profile", "-g", "1", "--timezone", "Asia/Shanghai", *url)
    zh = run(cli, "members", "-g", "1", *url, lang="zh_CN", COLUMNS="200")
    assert "入群时间（Asia/Shanghai）" in zh.stdout and "2023-05-01 18:01" in zh.stdout, zh.stdout
    assert "2023-05-01 10:01" not in zh.stdout
    every = run(cli, "members", *url, lang="zh_CN", COLUMNS="200")
    assert "入群时间（UTC）" in every.stdout and "2023-05-01 10:01" in every.stdout, every.stdout
    assert (
        '"joined_at": "2023-05-01 10:01:00' in run(cli, "members", "-g", "1", "--json", *url).stdout
    )


def test_a_leaderboard_title_is_a_chinese_board(cli: typer.Typer) -> None:
    from datetime import UTC, datetime

    from groupops.cli_output import board_title

    when = datetime(2026, 11, 30, 4, tzinfo=UTC)
    assert board_title("Python 入门训练营", "day", when, "Asia/Shanghai", "zh_CN") == (
        "Python 入门训练营：日榜 2026-11-30"
    )
    assert board_title("Python 入门训练营", "week", when, "Asia/Shanghai", "zh_CN") == (
        "Python 入门训练营：周榜 2026-11-30 – 2026-12-06"
    )
    assert board_title("Runners", "month", when, "UTC", "en") == (
        "Runners: month 2026-11-01 – 2026-11-30"
    )


# -- 13: refusals and help that say the right form ---------------------------------------------


@pytest.mark.parametrize("typed", ["zh", "zh-CN", "zh_cn", "ZH-cn"])
def test_chinese_written_the_usual_ways_is_zh_cn(
    cli: typer.Typer, imported: str, typed: str
) -> None:
    url = ("--database-url", imported)
    res = run(cli, "settings", "profile", "-g", "1", "--language", typed, *url)
    assert res.exit_code == 0, res.output
    groups = json.loads(run(cli, "groups", "--json", *url).stdout)
    assert groups[0]["language"] == "zh_CN"
    listed = run(cli, "groups", *url, "--lang", typed)
    assert listed.exit_code == 0 and "群列表" in listed.stdout, listed.output


def test_an_unknown_zone_says_how_one_is_written(cli: typer.Typer, imported: str) -> None:
    for typed in ("北京", "UTC+8"):
        args = ("settings", "profile", "-g", "1", "--timezone", typed, "--database-url", imported)
        zh = error_line(run(cli, *args, lang="zh_CN"))
        assert zh == (
            f"错误 [invalid_option] --timezone：未知时区 '{typed}'："
            "请写时区名称，例如 Asia/Shanghai（北京时间）、Europe/Berlin 或 UTC"
        ), zh


def test_every_group_option_and_profile_option_says_what_it_is(cli: typer.Typer) -> None:
    from typer.main import get_command

    def commands(command: Any, path: str = "") -> Any:
        yield path, command
        for name, sub in (getattr(command, "commands", None) or {}).items():
            yield from commands(sub, f"{path} {name}".strip())

    seen = 0
    for path, command in commands(get_command(cli)):
        for param in command.params:
            if "--group" in param.opts or path == "settings profile":
                assert param.help, (path, param.opts)
                seen += 1
    assert seen >= 9
    shown = run(cli, "settings", "set", "--help", lang="zh_CN", COLUMNS="300")
    assert "moderation、gate、welcome、checkin、points" in shown.stdout, shown.stdout


def test_forget_checks_the_member_before_asking_and_names_them(
    cli: typer.Typer, imported: str
) -> None:
    url = ("--database-url", imported)
    res = run(cli, "forget", "99", *url, lang="zh_CN", input="y\n")
    assert error_line(res) == "错误 [not_found] 成员：没有成员 99", res.output
    assert "忘记" not in res.stdout  # nothing asked
    asked = run(cli, "forget", "1", *url, input="n\n")
    assert "Forget member 1 (Bob) everywhere?" in asked.stdout, asked.stdout


def test_a_misspelt_setting_gets_a_suggestion(cli: typer.Typer, imported: str) -> None:
    args = ("settings", "set", "welcome.tempalte", "hi", "-g", "1", "--database-url", imported)
    zh = error_line(run(cli, *args, lang="zh_CN"))
    assert "是否想输入 'welcome.template'？" in zh, zh
    en = error_line(run(cli, *args))
    assert "did you mean 'welcome.template'?" in en, en
