"""Every help page reads whole at 80 columns, in English and in Chinese: nothing cut with "…",
Chinese broken between characters (never before a closing sign), the value kinds narrow
enough to leave the help its room, a docstring's paragraphs reflowed rather than broken where
the source was wrapped."""

from __future__ import annotations

import itertools
import re

import typer
from rich.console import Console
from rich.text import Text

from groupops.cli_layout import help_layout, line_breaks, reflowed
from tests.cli import run
from tests.test_cli_lang_everywhere import leaves

#: a cell cut short: "…" at the end of a line inside a panel
CUT = re.compile(r"…\s*│\s*$")


#: the pages of each language, rendered once per test process: every test here reads all of
#: them (~15 s a language), none changes them
_RENDERED: dict[tuple[int, str], dict[str, str]] = {}


def pages(cli: typer.Typer, lang: str) -> dict[str, str]:
    """Every help page of the command line in ``lang``, by its command path."""
    key = (id(cli), lang)
    if key not in _RENDERED:
        _RENDERED[key] = _render(cli, lang)
    return _RENDERED[key]


def _render(cli: typer.Typer, lang: str) -> dict[str, str]:
    root = typer.main.get_command(cli)
    paths = [(), *(p for p, _ in leaves(root) if p), ("connections",)]
    found = {}
    for path in paths:
        res = run(cli, *path, "--help", lang=lang)
        assert res.exit_code == 0, (path, res.output)
        found[" ".join(path)] = res.stdout
    return found


def test_no_help_page_is_cut_at_80_columns(cli: typer.Typer) -> None:
    for lang in ("en", "zh_CN"):
        for name, page in pages(cli, lang).items():
            cut = [line for line in page.splitlines() if CUT.search(line)]
            assert not cut, (lang, name, cut)
            assert all(len(line) <= 80 for line in page.splitlines()), (lang, name)


def test_chinese_help_wraps_between_characters_and_keeps_each_option_whole(
    cli: typer.Typer,
) -> None:
    page = run(cli, "members", "--help", lang="zh_CN").stdout
    # the help column: the last part of each line of the panel, after the kinds
    lines = [line for line in page.splitlines() if line.startswith("│")]
    helps = [re.split(r"\s{2,}", line.strip("│ "))[-1] for line in lines]
    column = " ".join(helps)
    assert "只列这个群的成员：编号或 source:chat_id（默认：所有群）" in column, column
    assert "数据库 URL（默认： sqlite:///var/groupops.db）。" in column, column
    assert "只列出这种状态的成员（默认：所 有状态）" in column, column  # between characters
    assert not [h for h in helps if h.startswith(("，", "。", "）", "：", "、"))], helps


def test_value_kinds_leave_the_help_its_room(cli: typer.Typer) -> None:
    page = run(cli, "outbox", "list", "--help").stdout
    assert "delivere\n" not in page and "|delivere " not in page  # broken at a |, not inside
    assert "which actions [default: dead]" in page
    status = next(line for line in page.splitlines() if "--status" in line)
    assert status.index("which actions") <= 46, status  # the help has 30 cells and more
    members = run(cli, "members", "--help").stdout
    assert "banne\n" not in members.replace(" ", "").replace("│", "")


def test_a_list_argument_is_shown_by_the_kind_of_one_value(cli: typer.Typer) -> None:
    assert "<path>" in run(cli, "import", "--help").stdout
    assert "<路径>" in run(cli, "import", "--help", lang="zh_CN").stdout
    assert "<int>" in run(cli, "outbox", "retry", "--help").stdout
    for lang in ("en", "zh_CN"):
        for name, page in pages(cli, lang).items():
            assert "list[" not in page, (lang, name)


def test_a_docstring_paragraph_is_not_broken_where_the_source_was(cli: typer.Typer) -> None:
    page = run(cli, "outbox", "list", "--help").stdout
    words = " ".join(page.split())
    assert "the order they are retried and sent in." in words
    described = page.split("╭")[0].splitlines()
    assert [line.strip() for line in described if line.strip() == "are"] == []
    # every line of a paragraph but its last is filled (no break where the source broke)
    for lang in ("en", "zh_CN"):
        for name, text in pages(cli, lang).items():
            top = [line.rstrip() for line in text.split("╭")[0].splitlines()[3:]]
            for line, after in itertools.pairwise(top):
                if line and after:  # a line followed by more of its paragraph
                    assert Text(line).cell_len >= 60, (lang, name, line)


def test_line_breaks_break_chinese_between_characters_not_before_closing_signs() -> None:
    text = "数据库 URL（默认：sqlite:///var/groupops.db）。"
    lines = cut(text, 16)
    assert lines[0] == "数据库 URL（默"  # between Chinese characters, not after the "（"
    assert cut(text, 13)[0] == "数据库 URL"
    assert all(not line.startswith(("）", "。", "：")) for line in lines), lines
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert cut("how many rows at most (1 or more)", 12) == [
        "how many ",
        "rows at most ",
        "(1 or more)",
    ]
    assert cut("<pending|sending|delivered|dead>", 18) == ["<pending|sending|", "delivered|dead>"]
    assert cut("abcdefghij", 4) == ["abcd", "efgh", "ij"]  # too long for any line: folded
    assert cut("2026-11-30 11:20", 10) == ["2026-11-30 ", "11:20"]  # not " 11:20"
    # a line with Chinese on it never ends in a space past the edge (rich would cut it "…")
    lines = cut("Asia/Shanghai 时区 06:00 开始", 18)
    assert lines[0] == "Asia/Shanghai 时", lines


def cut(text: str, width: int) -> list[str]:
    offsets = [0, *line_breaks(text, width), len(text)]
    return [text[a:b] for a, b in itertools.pairwise(offsets)]


def test_reflowed_joins_the_source_lines_of_a_paragraph() -> None:
    assert reflowed("oldest first: the order they\nare retried.") == (
        "oldest first: the order they are retried."
    )
    assert reflowed("按时间从早到晚列出，\n即重试的顺序") == "按时间从早到晚列出，即重试的顺序"
    assert reflowed("\bkept\nas is") == "\bkept\nas is"


def test_the_layout_is_put_back_after_the_help_page() -> None:
    from rich import text as rich_text
    from typer import rich_utils

    def now() -> tuple[object, ...]:
        return tuple(getattr(m, a) for m, a in swapped)

    swapped = [(rich_text, "divide_line"), (rich_utils, "Table"), (rich_utils, "rich_format_help")]
    before = now()
    with help_layout():
        assert now()[2] is not before[2]
    assert now() == before
    console = Console(width=20, record=True)
    console.print("数据库数据库数据库数据库数据库")  # rich's own wrapping, outside a help page
    assert console.export_text().splitlines()[0] == "数据库数据库数据库数"


def test_a_number_range_is_said_in_words_on_every_page(cli: typer.Typer) -> None:
    """Typer's ``<int range> [x>=1]`` and ``[0<=x<=65535]`` are notation to decode: the kind
    and its range in words, in both languages."""
    assert "<int> [0 to 65535]" in run(cli, "serve", "--help").stdout
    assert "<整数> [0 到 65535]" in run(cli, "serve", "--help", lang="zh_CN").stdout
    for lang in ("en", "zh_CN"):
        for name, page in pages(cli, lang).items():
            assert "x>=" not in page and "<=x" not in page and " range>" not in page, (name, page)


def test_a_command_in_its_groups_list_is_not_broken_where_its_source_was(
    cli: typer.Typer,
) -> None:
    page = run(cli, "--help").stdout
    ends = [line.rstrip(" │") for line in page.splitlines()]
    assert not [line for line in ends if line.endswith("interactive charts)")], page
    words = " ".join(page.replace("│", " ").split())
    assert "interactive charts) and DIR/metrics.json (every figure)" in words, page
