"""A listing in Chinese breaks its lines between words and characters, never inside a Latin
word: a heading reads 入群时间 / （Asia/Shanghai）, not 入群时间（Asia/Shan / ghai）; and a table
is as wide as its title, so the title reads on one line (a leaderboard's month was split over
two)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from groupops import cli_output


def printed(monkeypatch: pytest.MonkeyPatch, *args: object, **kwargs: object) -> str:
    page = io.StringIO()
    monkeypatch.setattr(cli_output, "out", Console(file=page, width=80))
    cli_output.table(*args, **kwargs)  # type: ignore[arg-type]
    return page.getvalue()


def test_a_chinese_heading_breaks_before_its_bracket_not_inside_a_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        {
            "id": i,
            "display_name": "助教 Lily",
            "user_id": "owner-course-assistant",
            "status": "active",
            "joined_at": "2026-11-01 05:30",
            "introduced_at": "2026-11-01 09:01",
        }
        for i in range(3)
    ]
    zone = "（Asia/Shanghai）"
    page = printed(
        monkeypatch,
        rows,
        list(rows[0]),
        "成员",
        "zh_CN",
        {"joined_at": f"入群时间{zone}", "introduced_at": f"自我介绍时间{zone}"},
    )
    assert "Asia/Shan" not in page.replace("Asia/Shanghai", ""), page
    assert page.count(zone) == 2, page


def test_a_table_is_as_wide_as_its_title(monkeypatch: pytest.MonkeyPatch) -> None:
    title = "Python 入门训练营: month 2026-11-01 – 2026-11-30"
    rows = [{"rank": 1, "member": "Carlos", "points": 276}]
    page = printed(monkeypatch, rows, ["rank", "member", "points"], title)
    assert page.splitlines()[0].strip() == title, page


def test_dead_letters_with_one_error_say_it_whole_under_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Dead letters that all ran out of attempts on the same error: the error is said once,
    whole, under the table (in its column it was cut to 'telegram: 4…'), as are the
    attempts."""
    error = "telegram: 403 Forbidden: bot was kicked from the group chat"
    rows = [
        {
            "id": 11 + i,
            "created_at": "2026-10-31 22:04",
            "chat_id": "course",
            "kind": "group message",
            "what": "👋 吴瑾，欢迎！为确认你不是机器人",
            "attempts": 5,
            "last_error": error,
        }
        for i in range(3)
    ]
    page = printed(monkeypatch, rows, list(rows[0]), "outbox: dead letter")
    flat = " ".join(page.split())
    assert f"on every row: attempts 5, last error {error}" in flat, page
    assert "group message" in page, page  # the kind has its room again
