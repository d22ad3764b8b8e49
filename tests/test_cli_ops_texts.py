"""An operator's first steps and day-to-day listings (QA platforms findings 9, 13, 16): the
default workspace's settings right after `db upgrade`, outbox and groups tables that keep what
an operator types or reads whole in 80 columns, and the Chinese and English they are told in."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from tests.cli import RUNNERS, run


def test_defaults_can_be_set_right_after_db_upgrade(cli: typer.Typer, tmp_path: Path) -> None:
    """The workspace every group joins exists for `settings` before the first connect, serve
    or import: an operator prepares the rules first, and the first group inherits them."""
    url = ("--database-url", f"sqlite:///{tmp_path}/db.sqlite")
    assert run(cli, "db", "upgrade", *url).exit_code == 0
    shown = run(cli, "settings", "show", "--own", *url)
    assert shown.exit_code == 0 and json.loads(shown.stdout) == {}, shown.output
    res = run(cli, "settings", "set", "welcome.rules", "No ads", *url)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("welcome.rules saved as the default of workspace 'default'.")
    own = run(cli, "settings", "show", "--own", *url)
    assert json.loads(own.stdout) == {"welcome": {"rules": "No ads"}}
    chat = tmp_path / "chat.txt"
    chat.write_text(RUNNERS, encoding="utf-8")
    assert run(cli, "import", str(chat), *url).exit_code == 0
    group = run(cli, "settings", "show", "--group", "1", *url)
    assert json.loads(group.stdout)["welcome"]["rules"] == "No ads"
    # only the default one is made on demand: another name is still a typo to refuse
    other = run(cli, "settings", "set", "welcome.rules", "x", "-w", "brandA", *url)
    assert other.exit_code == 2 and "no workspace 'brandA'" in other.stderr
