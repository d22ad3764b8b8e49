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
    page = io.StringIO()
    monkeypatch.setattr(commands, "out", Console(file=page, width=160))
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
