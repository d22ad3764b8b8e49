"""`groupops connections` shows the sandbox and imported chats as what they are (the built-in
web chat, an import) with nothing to report, not as bots with health '—' and synced 'no'
(QA docs #14)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from groupops.platforms.connections import store_connection
from groupops.storage.db import make_engine
from tests.cli import run


def test_the_sandbox_and_an_import_are_not_shown_as_silent_bots(
    cli: typer.Typer, imported: str
) -> None:
    db = make_engine(imported)
    store_connection(db, "sandbox", "sandbox", {}, datetime.now(UTC))  # as serve makes it
    db.dispose()
    url = ("--database-url", imported)
    en = run(cli, "connections", *url, COLUMNS="160").stdout
    sandbox = next(line for line in en.splitlines() if "sandbox" in line)
    assert "built in (the web chat)" in sandbox and "nothing to report" in sandbox, en
    imports = next(line for line in en.splitlines() if "import:" in line)
    assert "an import (files)" in imports and "nothing to report" in imports, en
    assert "—" not in en and " no " not in en
    zh = run(cli, "connections", *url, lang="zh_CN", COLUMNS="160").stdout
    assert "内置（网页聊天）" in zh and "导入（文件）" in zh and "无可报告" in zh, zh
