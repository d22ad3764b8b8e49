"""A new SQLite database is readable by its owner only: it holds bot tokens, the webhook
secret, Matrix access tokens and every member's messages (QA security)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from groupops.storage.db import open_database


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask (022), which would leave a file readable by every local user."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("open_umask")
def test_a_new_database_and_its_log_are_the_owners_only(tmp_path: Path) -> None:
    file = tmp_path / "var" / "groupops.db"
    db = open_database(f"sqlite:///{file}", create=True)
    try:
        with db.begin() as conn:  # a write: SQLite makes its log (-wal) and index (-shm)
            conn.execute(text("CREATE TABLE scratch (x INTEGER)"))
        made = [file, *(tmp_path / "var").glob("groupops.db-*")]
        assert {p.name for p in made} >= {"groupops.db", "groupops.db-wal", "groupops.db-shm"}
        assert {p.name: _mode(p) for p in made} == {p.name: 0o600 for p in made}
    finally:
        db.dispose()


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    file = tmp_path / "shared.db"
    open_database(f"sqlite:///{file}", create=True).dispose()
    file.chmod(0o640)  # the operator lets their group read it
    open_database(f"sqlite:///{file}").dispose()
    assert _mode(file) == 0o640
