"""The command line as the tests drive it: one run in this process, the one line a refused
command prints, and a small imported WhatsApp group to run commands on."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

import typer
import typer.testing
from typer.testing import CliRunner, Result

#: a WhatsApp export: a group, a member added, one message
RUNNERS = (
    '1/5/23, 10:00 - Ann created group "Runners"\n'
    "1/5/23, 10:01 - Ann added Bob\n"
    "1/5/23, 10:03 - Bob: hello\n"
)


def cli_app() -> typer.Typer:
    """The real command line with every command registered."""
    from groupops.cli import _register_all, app

    _register_all()
    return app


def run(cli: typer.Typer, *args: str, lang: str | None = None, **env: str) -> Result:
    """One command, 80 columns wide, in ``lang`` (GROUPOPS_LANG) or else English whatever
    the machine's locale; ``env`` adds or overrides variables."""
    base = {"COLUMNS": "80", "GROUPOPS_LANG": lang or "", "LC_ALL": "C.UTF-8"}
    with mock.patch.object(typer.testing, "_get_command", _built):
        return CliRunner().invoke(cli, list(args), env={**base, **env})


#: the command of each Typer app, built once per test process: typer's CliRunner builds it
#: again on every invoke (every command's parameters from its signature and type hints, ~25 ms
#: a run, half the time of a help page); ``groupops`` builds it once when it starts, and the
#: language is chosen when a command runs, not when it is built
_COMMANDS: dict[int, tuple[typer.Typer, Any]] = {}


def _built(cli: typer.Typer) -> Any:
    found = _COMMANDS.get(id(cli))
    if found is None or found[0] is not cli:
        found = _COMMANDS[id(cli)] = (cli, typer.main.get_command(cli))
    return found[1]


def error_line(res: Result) -> str:
    """The one line a refused command prints (exit code 2, no traceback)."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


def import_runners(cli: typer.Typer, folder: Path) -> str:
    """A database in ``folder`` holding :data:`RUNNERS`, imported; its URL."""
    chat = folder / "chat.txt"
    chat.write_text(RUNNERS, encoding="utf-8")
    url = f"sqlite:///{folder}/db.sqlite"
    assert run(cli, "import", str(chat), "--database-url", url).exit_code == 0
    return url
