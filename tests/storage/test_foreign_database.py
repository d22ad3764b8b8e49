"""A command that only reads or changes what is there never makes groupops' tables: pointed at
an empty database or another application's, it refuses, naming the URL, and leaves it as it
was; `db upgrade` (or a command that brings data in) makes them."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, inspect

from tests.cli import error_line, run
from tests.conftest import need_service


def tables(url: str) -> list[str]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def refuses_then_upgrades(cli: typer.Typer, url: str, before: list[str]) -> None:
    for command in (["groups"], ["members"], ["outbox", "list"], ["moderation", "log"]):
        line = error_line(run(cli, *command, "--database-url", url))
        assert line.startswith("error [database_unavailable] --database-url: "), line
        assert "holds no groupops tables" in line and "groupops db upgrade" in line, line
        assert tables(url) == before, command  # nothing was made in it
    zh = error_line(run(cli, "groups", "--database-url", url, lang="zh_CN"))
    assert "里没有 groupops 的数据表" in zh, zh
    assert run(cli, "db", "upgrade", "--database-url", url).exit_code == 0
    assert "alembic_version" in tables(url)
    assert run(cli, "groups", "--database-url", url).exit_code == 0


def test_an_empty_sqlite_file_is_refused(cli: typer.Typer, tmp_path: Path) -> None:
    file = tmp_path / "empty.db"
    file.touch()
    refuses_then_upgrades(cli, f"sqlite:///{file}", [])


def test_another_applications_sqlite_file_is_refused(cli: typer.Typer, tmp_path: Path) -> None:
    file = tmp_path / "shop.db"
    with sqlite3.connect(file) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY)")
    refuses_then_upgrades(cli, f"sqlite:///{file}", ["orders"])


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    import psycopg

    from groupops.storage.pgcheck import PG_ADMIN_URL, reachable

    if not reachable():
        need_service("PostgreSQL", "nothing answers on 127.0.0.1:5432")
    name = f"groupops_foreign_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_empty_postgresql_database_is_refused(cli: typer.Typer, empty_postgres: str) -> None:
    refuses_then_upgrades(cli, empty_postgres, [])
