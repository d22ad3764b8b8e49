"""Every command takes --lang (README: "--lang en or --lang zh_CN chooses per command"): its
help page, its usage errors, its output and its typed errors are in that language, whatever
GROUPOPS_LANG says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from groupops.cli import REGISTRARS
from tests.cli import error_line, import_runners, run


def leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command a person runs, with the words that name it."""
    subs = getattr(command, "commands", None) or {}
    if not subs or getattr(command, "invoke_without_command", False):
        yield path, command
    for name, sub in subs.items():
        yield from leaves(sub, (*path, name))


def test_every_registered_command_takes_lang(cli: typer.Typer) -> None:
    root = typer.main.get_command(cli)
    found = [(path, c) for path, c in leaves(root) if path]
    modules = {c.callback.__module__ for _, c in found if c.callback is not None}
    for spec in REGISTRARS:  # every area's commands are walked
        assert spec.partition(":")[0] in modules, spec
    assert len(found) >= 20, [p for p, _ in found]
    for path, command in found:
        assert any(p.name == "lang" for p in command.params), path
        res = run(cli, *path, "--lang", "zh_CN", "--help", lang="en")
        assert res.exit_code == 0, (path, res.output)
        assert "用法" in res.output and "Usage" not in res.output, (path, res.output)
        res = run(cli, *path, "--help", "--lang=en", lang="zh_CN")
        assert res.exit_code == 0 and "Usage" in res.output, (path, res.output)


def test_lang_chooses_the_output_and_the_errors(cli: typer.Typer, tmp_path: Path) -> None:
    url = ("--database-url", import_runners(cli, tmp_path))
    said = run(cli, "db", "upgrade", *url, "--lang", "zh_CN", lang="en")
    assert said.exit_code == 0 and said.stdout.startswith("数据库"), said.output
    said = run(
        cli, "settings", "set", "welcome.rules", "不要发广告", "-g", "1", *url, "--lang", "zh"
    )
    assert said.exit_code == 0 and "已为群 1 保存" in said.stdout, said.output
    said = run(cli, "settings", "set", "welcome.rules", "x", "-g", "1", *url, lang="zh_CN", **{})
    assert "已为群 1 保存" in said.stdout, said.output
    said = run(cli, "settings", "set", "welcome.rules", "x", "-g", "1", *url, "--lang", "en")
    assert said.stdout.startswith("welcome.rules saved for group 1."), said.output
    line = error_line(run(cli, "undo", "99", *url, "--lang", "zh_CN", lang="en"))
    assert line.startswith("错误 [not_found]"), line
    line = error_line(run(cli, "tasks", "done", "7", *url, "--lang", "en", lang="zh_CN"))
    assert line.startswith("error [not_found]"), line
    res = run(cli, "undo", "1", "--bogus", *url, "--lang", "zh_CN", lang="en")
    assert res.exit_code == 2 and "没有选项 --bogus" in res.output, res.output
