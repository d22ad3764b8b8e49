"""The WAL checkpointer: a live process's log is copied back by its own thread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from groupops.storage.db import WalCheckpointer, make_engine
from tests.helpers import wait_until


def _write_pages(db: Engine, n: int) -> None:
    with db.begin() as conn:
        for i in range(n):
            row = {"v": os.urandom(2000).hex() + str(i)}
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), row)


def test_the_log_reaches_the_database_file_without_a_commit_doing_it(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    db = make_engine(f"sqlite:///{path}")
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    size = path.stat().st_size
    _write_pages(db, 100)  # ~100 pages: under SQLite's own 1,000-page mark
    assert path.stat().st_size == size  # the commits left the rows in the log only
    cp = WalCheckpointer(db, every=0.01)
    cp.start()
    try:
        wait_until(
            lambda: path.stat().st_size > size and cp.checkpoints,
            timeout=10,
            what="a checkpoint to copy the log into the file",
        )
        assert path.stat().st_size > size + 100 * 4000  # the rows are in the file now
        assert cp.checkpoints >= 1
    finally:
        cp.stop()
    assert cp._thread is None
    db.dispose()


def test_nothing_runs_for_memory_or_other_databases() -> None:
    assert WalCheckpointer(make_engine("sqlite:///:memory:")).path is None
    pg = make_engine("postgresql://nobody@127.0.0.1:1/none")
    cp = WalCheckpointer(pg)
    cp.start()
    assert cp.path is None and cp._thread is None
    cp.stop()


def test_commits_leave_a_long_log_to_the_thread(tmp_path: Path) -> None:
    """Past SQLite's default 1,000-page mark no commit copies the log back (and waits for the
    disk) on its own: that is the checkpointer's work, or a much longer log's."""
    path = tmp_path / "c.db"
    db = make_engine(f"sqlite:///{path}")
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    size = path.stat().st_size
    for _ in range(6):
        _write_pages(db, 300)  # ~1,800 pages in six commits
    wal = Path(f"{path}-wal").stat().st_size
    assert wal > 1500 * 4096  # the log holds them all
    assert path.stat().st_size == size  # and no commit copied them back
    db.dispose()


def test_a_reader_blocks_no_writer_and_a_writer_locks_at_once(tmp_path: Path) -> None:
    """A read (engine.connect()) holds no lock another process's write would wait for; a
    write transaction (engine.begin()) takes SQLite's write lock when it begins."""
    import sqlite3

    path = tmp_path / "l.db"
    db = make_engine(f"sqlite:///{path}")
    with db.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        other.execute("INSERT INTO t (v) VALUES ('written while a report reads')")
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0  # its snapshot
        conn.rollback()
    with db.begin() as conn:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("INSERT INTO t (v) VALUES ('must wait')")
        conn.execute(text("INSERT INTO t (v) VALUES ('mine')"))
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    other.close()
    db.dispose()
