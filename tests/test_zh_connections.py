"""`groupops connections` in Chinese: a failing connection's health and its last error are
joined by the full-width colon (出错：…, not 出错: …), and how it receives is said in Chinese
(轮询, not polling); English and --json keep the stored words."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from groupops.platforms import commands

FAILING: dict[str, Any] = {
    "id": "telegram:helper_bot",
    "platform": "telegram",
    "workspace": "default",
    "receives": "polling",
    "health": "failing",
    "last_error": "HTTP 502",
    "synced": True,
}


def listed(
    rows: list[dict[str, Any]], lang: str, monkeypatch: pytest.MonkeyPatch, width: int = 80
) -> str:
    from groupops import cli_output

    page = io.StringIO()
    console = Console(file=page, width=width)
    monkeypatch.setattr(cli_output, "out", console)
    monkeypatch.setattr(commands, "out", console)
    commands.show_connections(rows, lang)
    return page.getvalue()


def test_a_failing_connection_says_its_error_after_a_chinese_colon(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zh = listed([FAILING], "zh_CN", monkeypatch)
    assert "出错：HTTP 502" in zh, zh
    assert "出错:" not in zh and "polling" not in zh and "轮询" in zh, zh
    en = listed([FAILING], "en", monkeypatch)
    assert "failing: HTTP 502" in en and "polling" in en, en


def test_each_way_of_receiving_is_said_in_chinese(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        {**FAILING, "id": f"telegram:bot{i}", "receives": way, "health": "ok"}
        for i, way in enumerate(("polling", "webhook", "sync"))
    ]
    zh = listed(rows, "zh_CN", monkeypatch)
    assert "轮询" in zh and "同步" in zh and "webhook 回调" in zh, zh
    assert "正常" in zh and " ok " not in zh


@pytest.mark.parametrize(
    ("stored", "english", "chinese"),
    [
        # the platform's call stays, groupops' words are said again, the platform's stay
        ("getUpdates: failed: Bad Gateway", "getUpdates: failed: Bad Gateway",
         "getUpdates: 失败：Bad Gateway"),
        (": timed out: Timed out", ": timed out: Timed out", "超时：Timed out"),
        ("sync: homeserver error 502: Bad Gateway", "sync: homeserver error 502: Bad Gateway",
         "sync: 服务器错误 502：Bad Gateway"),
        ("not connected", "not connected", "未连接"),
        ("HTTP 502", "HTTP 502", "HTTP 502"),  # words groupops did not write: as stored
    ],
)  # fmt: skip
def test_a_failing_connections_error_is_said_in_the_listings_language(
    stored: str, english: str, chinese: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last error says groupops' own phrases (failed, timed out, homeserver error) in the
    operator's language, as the outbox's dead letters do; English keeps the stored words."""
    row = {**FAILING, "last_error": stored}
    zh = listed([row], "zh_CN", monkeypatch, width=160)  # wide: the error on one line
    assert "出错：" + chinese in zh, zh
    en = listed([row], "en", monkeypatch, width=160)
    assert "failing: " + english in en, en


def test_a_group_not_left_says_its_error_in_the_listings_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = {
        "chat_id": "-1001",
        "title": "Spam",
        "by": "42",
        "by_name": "Eve",
        "at": "2026-01-02T03:04:05+00:00",
        "left": False,
        "error": "telegram:helper_bot leaveChat: failed: Bad Gateway",
    }
    row = {**FAILING, "health": "ok", "refused": [refused]}
    zh = listed([row], "zh_CN", monkeypatch)
    assert "leaveChat: 失败：Bad Gateway" in zh, zh
    en = listed([row], "en", monkeypatch)
    assert "not left yet (telegram:helper_bot leaveChat: failed: Bad Gateway)" in en, en


def test_the_listing_heads_its_columns_in_the_operators_language(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The listing's headings are the listings' own (cli_output.LABELS), one definition."""
    row = {**FAILING, "health": "ok"}
    heads = {
        lang: [c.strip() for c in listed([row], lang, monkeypatch, 200).splitlines()[2].split("┃")]
        for lang in ("en", "zh_CN")
    }
    assert heads["en"][1:-1] == ["id", "workspace", "receives", "health", "synced"]
    assert heads["zh_CN"][1:-1] == ["编号", "工作区", "接收方式", "状态", "已同步"]
