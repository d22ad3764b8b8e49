"""No help page or usage line shows a placeholder in braces: Typer wrote a required argument
as ``{name}`` (``Usage: groupops settings set [OPTIONS] {name} {value}``), which reads as a
template left unfilled. Every command's help, and the usage a missing argument prints, in
English and in Chinese, chosen by GROUPOPS_LANG, by --lang and by the terminal's LANG."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer
from typer.testing import Result

from tests.cli import run

BRACES = re.compile(r"[{}]")


def commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command and group of commands, the root included, with the words that name it."""
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from commands(sub, (*path, name))


def pages(cli: typer.Typer, path: tuple[str, ...], command: Any) -> Iterator[tuple[str, Result]]:
    """The help page of ``path`` in each language, each way the language is chosen."""
    for lang in ("en", "zh_CN"):
        yield f"GROUPOPS_LANG={lang}", run(cli, *path, "--help", lang=lang, COLUMNS="200")
        terminal = "zh_CN.UTF-8" if lang == "zh_CN" else "en_US.UTF-8"
        yield f"LANG={lang}", run(cli, *path, "--help", LC_ALL="", LANG=terminal, COLUMNS="200")
        if any(p.name == "lang" for p in command.params):
            other = "en_US.UTF-8" if lang == "zh_CN" else "zh_CN.UTF-8"
            flag = run(cli, *path, "--lang", lang, "--help", LC_ALL="", LANG=other, COLUMNS="200")
            yield f"--lang {lang}", flag


def test_no_help_page_shows_a_brace(cli: typer.Typer) -> None:
    root = typer.main.get_command(cli)
    leaks: list[tuple[str, str, str]] = []
    walked = 0
    for path, command in commands(root):
        for how, res in pages(cli, path, command):
            assert res.exit_code == 0, (path, how, res.output)
            walked += 1
            leaks += [(" ".join(path), how, line.strip()) for line in res.output.splitlines()]
    leaks = [leak for leak in leaks if BRACES.search(leak[2])]
    assert walked > 100, walked
    assert leaks == [], leaks[:20]


def test_required_and_optional_arguments_are_named_as_click_writes_them(cli: typer.Typer) -> None:
    for lang, options in (("en", "[OPTIONS]"), ("zh_CN", "[选项]")):
        page = run(cli, "settings", "set", "--help", lang=lang, COLUMNS="120").output
        usage = [line.strip() for line in page.splitlines() if "root settings set" in line]
        assert usage[0].endswith(f"root settings set {options} NAME VALUE"), page
        assert "[FILES]..." in run(cli, "analyze", "--help", lang=lang, COLUMNS="120").output
        assert "FILES..." in run(cli, "import", "--help", lang=lang, COLUMNS="120").output


def test_a_missing_argument_shows_the_usage_without_braces(cli: typer.Typer) -> None:
    root = typer.main.get_command(cli)
    needing = [
        path
        for path, command in commands(root)
        if any(p.param_type_name == "argument" and p.required for p in command.params)
    ]
    assert ("settings", "set") in needing and ("undo",) in needing, needing
    for path in needing:
        for lang in ("en", "zh_CN"):
            res = run(cli, *path, lang=lang, COLUMNS="200")
            assert res.exit_code == 2, (path, res.output)
            assert not BRACES.search(res.output), (path, lang, res.output)
