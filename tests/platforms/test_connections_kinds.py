"""`groupops connections` shows the sandbox and imported chats as what they are (the built-in
web chat, an import) with nothing to report, not as bots with health '—' and synced 'no'
(QA docs #14)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from groupops.platforms import commands
from groupops.platforms.connections import list_connections, store_connection
from groupops.storage.db import make_engine


def shown(rows: list[dict[str, object]], lang: str, monkeypatch: pytest.MonkeyPatch) -> str:
    from groupops import cli_output

    page = io.StringIO()
    console = Console(file=page, width=160)
    monkeypatch.setattr(cli_output, "out", console)  # where listings print
    monkeypatch.setattr(commands, "out", console)
    commands.show_connections(rows, lang)
    return page.getvalue()


def test_the_sandbox_and_an_import_are_not_shown_as_silent_bots(
    imported: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_engine(imported)
    store_connection(db, "sandbox", "sandbox", {}, datetime.now(UTC))  # as serve makes it
    rows = list_connections(db)
    db.dispose()
    en = shown(rows, "en", monkeypatch)
    sandbox = next(line for line in en.splitlines() if "sandbox" in line)
    assert "built in (the web chat)" in sandbox and "nothing to report" in sandbox, en
    imports = next(line for line in en.splitlines() if "import:" in line)
    assert "an import (files)" in imports and "nothing to report" in imports, en
    assert "—" not in en and " no " not in en
    zh = shown(rows, "zh_CN", monkeypatch)
    assert "内置（网页聊天）" in zh and "导入（文件）" in zh and "无可报告" in zh, zh


def test_the_list_reads_whole_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80 columns nothing an operator reads is cut: the id whole, the kinds and 'nothing to
    report' wrapped between words (the health column shrank to nothing and the table ran past
    the right edge)."""
    from groupops import cli_output

    rows: list[dict[str, object]] = [
        {
            "id": "telegram:community_helper_bot",
            "platform": "telegram",
            "workspace": "default",
            "receives": "polling",
            "health": "failing",
            "last_error": "network: the Bot API did not answer within 30 s",
            "synced": True,
        },
        {"id": "sandbox", "platform": "sandbox", "workspace": "default", "receives": "",
         "health": "", "synced": False},
        {"id": "import:whatsapp", "platform": "whatsapp", "workspace": "default",
         "receives": "", "health": "", "synced": False},
    ]  # fmt: skip
    for lang, words in (
        ("en", ["built in (the web chat)", "an import (files)", "nothing to report", "yes"]),
        ("zh_CN", ["内置（网页聊天）", "导入（文件）", "无可报告", "是"]),
    ):
        page = io.StringIO()
        console = Console(file=page, width=80)
        monkeypatch.setattr(cli_output, "out", console)
        monkeypatch.setattr(commands, "out", console)
        commands.show_connections(rows, lang)
        text = page.getvalue()
        lines = text.splitlines()
        assert all(len(line) <= 80 for line in lines), text
        assert "…" not in text, text
        assert "telegram:community_helper_bot" in text, text  # the id on one line
        # each column read top to bottom: a cell wrapped onto more lines stays in one piece
        columns: dict[int, list[str]] = {}
        for line in lines:
            for i, part in enumerate(line.split("│")[1:-1]):
                if part.strip():
                    columns.setdefault(i, []).append(part.strip())
        joiner = "" if lang == "zh_CN" else " "
        read = [joiner.join(parts) for parts in columns.values()]
        for said in words:
            assert any(said in column for column in read), (said, read)
