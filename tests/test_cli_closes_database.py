"""Every command closes the database it opened: in a test run (or anything else calling the
command line in-process) a command that left its engine open kept its connections, their
SQLite file handles and the write-ahead log open for as long as the process ran."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import event
from sqlalchemy.pool import Pool

from tests.cli import import_runners, run


class Connections:
    """DBAPI connections opened and closed by any engine while it listens."""

    def __init__(self) -> None:
        self.open: set[int] = set()
        self.made = 0

    def connected(self, dbapi_conn: Any, _record: Any) -> None:
        self.open.add(id(dbapi_conn))
        self.made += 1

    def closed(self, dbapi_conn: Any, _record: Any) -> None:
        self.open.discard(id(dbapi_conn))


@pytest.fixture
def connections() -> Iterator[Connections]:
    seen = Connections()
    hooks = [("connect", seen.connected), ("close", seen.closed), ("close_detached", seen.closed)]
    for name, hook in hooks:
        event.listen(Pool, name, hook)
    try:
        yield seen
    finally:
        for name, hook in hooks:
            event.remove(Pool, name, hook)


COMMANDS = [
    ["db", "upgrade"],
    ["groups"],
    ["members"],
    ["members", "-g", "1", "--limit", "1"],
    ["members", "-g", "99"],  # refused after the database was opened
    ["forget", "1", "--yes"],
    ["settings", "show"],
    ["settings", "show", "-g", "1"],
    ["settings", "set", "welcome.rules", "No ads."],
    ["settings", "set", "-g", "1", "welcome.rules", "No ads."],
    ["settings", "profile", "-g", "1", "--title", "Runners club"],
    ["leaderboard", "-g", "1"],
    ["moderation", "log"],
    ["undo", "1"],  # no such decision
    ["outbox", "list"],
    ["outbox", "retry", "--all"],
    ["tasks", "list"],
    ["tasks", "done", "1"],  # no such task
    ["connections"],
    ["connections", "disable", "telegram:1"],  # no such connection
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_command_closes_its_database(
    cli: typer.Typer, tmp_path: Path, connections: Connections, args: list[str]
) -> None:
    url = import_runners(cli, tmp_path)
    before = connections.made
    res = run(cli, *args, "--database-url", url)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert connections.made > before  # it did open the database
    assert not connections.open, f"{' '.join(args)} left {len(connections.open)} open"
    # SQLite checkpointed and removed its write-ahead log when the last connection closed
    assert not (tmp_path / "db.sqlite-wal").exists()


def test_analysing_a_stored_group_closes_the_database(
    cli: typer.Typer, tmp_path: Path, connections: Connections
) -> None:
    url = import_runners(cli, tmp_path)
    res = run(cli, "analyze", "-g", "1", "--out", str(tmp_path / "out"), "--database-url", url)
    assert res.exit_code == 0, res.output
    assert not connections.open
