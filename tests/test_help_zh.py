"""The help pages of the command line speak the operator's language: Chinese with
GROUPOPS_LANG=zh_CN or a Chinese terminal (LANG), English exactly as before otherwise; and
every help text of the live command tree has its Chinese in the compiled catalogue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
from babel.messages.mofile import read_mo
from typer import rich_utils

from groupops.cli import help_texts, library_texts
from groupops.i18n import LOCALE_DIR
from tests.cli import run


def flat(text: str) -> str:
    """The page without its spacing and box borders (rich wraps lines at 80 columns)."""
    return "".join(text.split()).replace("│", "")


def shows(output: str, *phrases: str) -> bool:
    page = flat(output)
    return all(flat(phrase) in page for phrase in phrases)


def test_the_main_help_is_chinese_for_a_chinese_operator(cli: typer.Typer) -> None:
    zh = run(cli, "--help", lang="zh_CN")
    assert zh.exit_code == 0, zh.output
    assert shows(zh.stdout, "groupops：运营聊天社群。", "─ 选项 ─", "─ 命令 ─")
    assert shows(zh.stdout, "列出各群及其在群成员数。", "显示此帮助并退出。")
    en = run(cli, "--help")
    assert shows(en.stdout, "groupops: run chat communities.", "─ Options ─", "─ Commands ─")
    assert shows(en.stdout, "List groups with their active member counts.")
    assert "列出" not in en.stdout and "选项" not in en.stdout


def test_a_command_help_is_chinese_and_english_is_unchanged(cli: typer.Typer) -> None:
    zh = run(cli, "members", "--help", lang="zh_CN")
    assert zh.exit_code == 0, zh.output
    assert shows(zh.stdout, "列出成员（用 --group ID 或 source:chat_id 只列一个群的）。")
    assert shows(zh.stdout, "最多显示多少行（1 或以上）", "[默认：100]", "en 或 zh_CN")
    en = run(cli, "members", "--help")
    assert shows(en.stdout, "List members (of one group with --group ID or source:chat_id).")
    assert shows(en.stdout, "how many rows at most (1 or more)", "[default: 100]", "─ Options ─")


def test_settings_set_help_keeps_names_and_examples(cli: typer.Typer) -> None:
    zh = run(cli, "settings", "set", "--help", lang="zh_CN")
    assert zh.exit_code == 0, zh.output
    assert shows(zh.stdout, "为一个群设置某项设置；未指定 --group 时设置工作区默认值。")
    assert shows(zh.stdout, "功能.设置项，例如 welcome.rules", "─ 参数 ─", "[必填]")
    assert shows(zh.stdout, "数据库 URL（默认：sqlite:///var/groupops.db）。")
    en = run(cli, "settings", "set", "--help")
    assert shows(en.stdout, "Set a setting for one group, or the workspace default when no")
    assert shows(en.stdout, "feature.setting, e.g. welcome.rules", "─ Arguments ─", "[required]")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.stdout)


def test_chinese_help_does_not_leak_into_the_next_command(cli: typer.Typer) -> None:
    english = {
        name: getattr(rich_utils, name) for name in ("OPTIONS_PANEL_TITLE", "DEFAULT_STRING")
    }
    assert run(cli, "leaderboard", "--help", lang="zh_CN").exit_code == 0
    assert {name: getattr(rich_utils, name) for name in english} == english
    tree = typer.main.get_command(cli)
    assert tree.help == "groupops: run chat communities."
    assert "Points leaderboard" in run(cli, "--help").stdout


def test_a_chinese_terminal_gets_chinese_help_from_the_installed_command() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    env.update(LANG="zh_CN.UTF-8", GROUPOPS_LANG="", COLUMNS="80")
    groupops = Path(sys.executable).parent / "groupops"
    out = subprocess.run(
        [str(groupops), "settings", "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert shows(out.stdout, "功能设置：工作区默认值、各群的覆盖值。", "─ 命令 ─")


def test_every_help_text_has_chinese(cli: typer.Typer) -> None:
    """A command, option or group added without its Chinese in zh_CN.help.po (and
    `make i18n-extract i18n` run) fails here."""
    with (LOCALE_DIR / "zh_CN/LC_MESSAGES/groupops.mo").open("rb") as f:
        zh = read_mo(f)
    texts = help_texts(typer.main.get_command(cli)) + library_texts()
    assert len(texts) > 50 and "No such command {name!r}." in texts
    missing = [text for text in texts if text not in zh or not zh[text].string]
    assert not missing, f"no Chinese for these help texts (zh_CN.help.po): {missing}"


def test_a_malformed_command_line_is_said_in_chinese(cli: typer.Typer) -> None:
    """Typer's frame around a usage error, its usage line and its sentence follow the
    language, a number's bound too (pydantic's "Input should be greater than ...")."""
    zh = run(cli, "members", "--limit", "0", lang="zh_CN")
    assert zh.exit_code == 2
    assert shows(zh.output, "─ 错误 ─", "用法：root members [选项]")
    assert shows(
        zh.output, "运行 'root members --help' 查看帮助。", "'--limit' 的值无效：须不小于 1"
    )
    assert "Input should" not in zh.output
    assert "Error" not in zh.output and "Usage" not in zh.output
    en = run(cli, "members", "--limit", "0")
    assert shows(en.output, "─ Error ─", "Usage: root members [OPTIONS]")
    assert shows(en.output, "Invalid value for '--limit': must be at least 1")
    assert "错误" not in en.output


def test_each_kind_of_usage_error_is_said_in_chinese(cli: typer.Typer) -> None:
    cases = {
        ("membrs",): ("没有命令 'membrs'。是否想输入 'members'？", "Did you mean 'members'?"),
        ("members", "--limt", "3"): ("没有选项 --limt （是否想输入：--limit）", "No such option"),
        ("undo",): ("缺少参数 'decision'。", "Missing argument 'decision'."),
        ("undo", "1", "2"): ("多出了参数：2", "Got unexpected extra argument"),
        ("members", "--limit"): ("选项 '--limit' 需要一个值。", "requires an argument"),
    }
    for args, (chinese, english) in cases.items():
        zh = run(cli, *args, lang="zh_CN")
        assert zh.exit_code == 2 and shows(zh.output, chinese), (args, zh.output)
        en = run(cli, *args)
        assert en.exit_code == 2 and shows(en.output, english), (args, en.output)
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in en.output), en.output


def test_a_value_out_of_range_names_the_option_and_its_range_in_both_languages(
    cli: typer.Typer,
) -> None:
    """Our words, not pydantic's ("Input should be less than or equal to 65535"): the whole
    range the option allows, and a value that is no number said as such."""
    cases = {
        ("serve", "--port", "70000"): (
            "Invalid value for '--port': must be 0 to 65535",
            "'--port' 的值无效：须在 0 到 65535 之间",
        ),
        ("serve", "--port", "-1"): (
            "Invalid value for '--port': must be 0 to 65535",
            "'--port' 的值无效：须在 0 到 65535 之间",
        ),
        ("members", "--limit", "-5"): (
            "Invalid value for '--limit': must be at least 1",
            "'--limit' 的值无效：须不小于 1",
        ),
        ("members", "--limit", "abc"): (
            "Invalid value for '--limit': must be a whole number",
            "'--limit' 的值无效：须是整数",
        ),
        ("demo", "--days", "many"): (
            "Invalid value for '--days': must be a number",
            "'--days' 的值无效：须是数字",
        ),
    }
    for args, (english, chinese) in cases.items():
        en = run(cli, *args)
        assert en.exit_code == 2 and shows(en.output, english), (args, en.output)
        zh = run(cli, *args, lang="zh_CN")
        assert zh.exit_code == 2 and shows(zh.output, chinese), (args, zh.output)
        for res in (en, zh):
            assert "Input should" not in res.output and "parse" not in res.output, res.output
