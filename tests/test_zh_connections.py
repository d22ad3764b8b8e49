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


def listed(rows: list[dict[str, Any]], lang: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from groupops import cli_output

    page = io.StringIO()
    console = Console(file=page, width=80)
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
