"""`analyze` with neither files nor --group says what to give without "(not both)"; `import`
says its counts in plain words, "1 file", "2 files" (QA docs #14)."""

from __future__ import annotations

from pathlib import Path

import typer

from tests.cli import run

CHAT = "[1/2/24, 10:00:00] Ann: hello\n[1/2/24, 10:01:00] Bob: hi\n"


def test_analyze_without_files_or_group_does_not_say_not_both(cli: typer.Typer) -> None:
    neither = run(cli, "analyze")
    assert neither.exit_code == 2
    assert "give export files, or --group" in neither.output, neither.output
    assert "not both" not in neither.output
    both = run(cli, "analyze", "x.txt", "--group", "1")
    assert both.exit_code == 2 and "not both" in both.output, both.output


def test_import_counts_are_plain_words(cli: typer.Typer, tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text(CHAT, encoding="utf-8")
    second.write_text(CHAT.replace("hello", "hey"), encoding="utf-8")
    url = ("--database-url", f"sqlite:///{tmp_path}/db.sqlite")
    one = run(cli, "import", str(first), *url)
    assert one.exit_code == 0, one.output
    assert "1 file: 2 new events stored, 0 already there." in one.stdout, one.stdout
    two = run(cli, "import", str(first), str(second), *url)
    assert "2 files: 2 new events stored, 2 already there." in two.stdout, two.stdout
    single = tmp_path / "c.txt"
    single.write_text(CHAT.splitlines()[0] + "\n", encoding="utf-8")
    lone = run(cli, "import", str(single), *url)
    assert "1 file: 1 new event stored, 0 already there." in lone.stdout, lone.stdout
    zh = run(cli, "import", str(first), "--no-store", lang="zh_CN")
    assert "已读取 1 个文件，共 2 条事件；未写入数据库（--no-store）。" in zh.stdout, zh.stdout
    assert "(s)" not in one.stdout + two.stdout + lone.stdout
