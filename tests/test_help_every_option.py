"""Every option and argument of every command says what it is for, in English and in Chinese,
and an option that takes no value (--json, --yes, --help) is shown as a flag, not `<bool>`."""

from __future__ import annotations

import typer
from babel.messages.mofile import read_mo

from groupops.i18n import LOCALE_DIR
from tests.cli import run
from tests.test_cli_lang_everywhere import leaves


def test_every_option_and_argument_has_help_in_both_languages(cli: typer.Typer) -> None:
    root = typer.main.get_command(cli)
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "groupops.mo").open("rb") as f:
        zh = {m.id: m.string for m in read_mo(f) if isinstance(m.id, str) and m.id}
    missing, untranslated = [], []
    for path, command in leaves(root):
        for param in command.params:
            if getattr(param, "hidden", False):
                continue
            text = getattr(param, "help", None)
            if not text:
                missing.append((" ".join(path), param.name))
            elif not zh.get(text):
                untranslated.append(text)
    assert missing == [], missing
    assert untranslated == [], untranslated


def test_flags_are_shown_as_flags(cli: typer.Typer) -> None:
    root = typer.main.get_command(cli)
    for path, _command in leaves(root):
        for lang in ("en", "zh_CN"):
            res = run(cli, *path, "--help", lang=lang, COLUMNS="120")
            assert res.exit_code == 0, (path, res.output)
            assert "<bool>" not in res.stdout, (path, res.stdout)
    page = run(cli, "groups", "--help").stdout
    assert "print JSON instead of a table" in " ".join(page.replace("│", " ").split())
