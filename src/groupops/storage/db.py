"""Database engine: SQLite (WAL) by default, PostgreSQL through GROUPOPS_DATABASE_URL."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from groupops.domain.errors import DatabaseUnavailable
from groupops.i18n import N_

log = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///var/groupops.db"

#: the kinds of database groupops runs on (the backend of a URL: ``postgresql+psycopg`` is
#: ``postgresql``); any other, even one SQLAlchemy knows (``mysql://``), is refused by name
#: instead of failing on a driver that is not installed
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

#: the largest id (and row count) both SQLite's INTEGER and PostgreSQL's BIGINT hold: a number
#: past it names no row, and SQLite's driver cannot even send it (OverflowError)
LARGEST_ID = 2**63 - 1


#: A commit that takes SQLite's write-ahead log past this many pages copies the log back into
#: the database file itself, fsyncs included, while every event waiting on that batch waits
#: too. A live App's WalCheckpointer keeps the log short from a thread; with SQLite's default
#: of 1,000 pages (4 MB) a busy live process still crossed it several times a second between
#: two of the thread's turns. 20,000 pages (80 MB of log at most) leaves that to the thread
#: and is still a bound where no thread runs (imports, the CLI).
WAL_AUTOCHECKPOINT_PAGES = 20_000


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("GROUPOPS_DATABASE_URL") or DEFAULT_URL


def masked_url(url: str) -> str:
    """``url`` fit to print: its password, if any, as ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", url)


#: a database that would not open, with the driver's own words (in their language) as ``reason``
CANNOT_OPEN = N_("cannot open {url}: {reason}")


def open_database(url: str | None = None, *, create: bool = False, migrate: bool = True) -> Engine:
    """The database a command works on, checked and migrated, or one typed error naming the URL
    (password masked) and what is wrong with it: not a URL, an unknown kind of database, a
    server that does not answer, a file that cannot be opened.

    A SQLite file that does not exist is created (with its folder) only when ``create`` is
    set: commands that bring data in (``db upgrade``, ``import``, ``demo``, ``connect``) make
    a new database, while the others refuse a mistyped path instead of answering from a new
    empty file."""
    url = database_url(url)
    shown = masked_url(url)
    where = "--database-url"
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            N_(
                "{url!r} is not a database URL (write sqlite:///path/to/file.db or"
                " postgresql://user@host:5432/name)"
            ),
            where=where,
            url=shown,
        ) from None
    unknown_kind = DatabaseUnavailable(
        N_(
            "{url}: unknown kind of database {kind!r}"
            " (use sqlite:///path/to/file.db or postgresql://user@host:5432/name)"
        ),
        where=where,
        url=shown,
        kind=parsed.drivername,
    )
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise unknown_kind
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not path.startswith("file:"):
            file = Path(path)
            if file.is_dir():
                raise DatabaseUnavailable(
                    N_("{url}: {file} is a folder, not a file"), where=where, url=shown, file=file
                )
            if not create and not file.exists():
                raise DatabaseUnavailable(
                    N_(
                        "no database file {file}: check the path, or make it with `groupops db"
                        " upgrade` (empty) or `groupops demo` (a simulated month) and this"
                        " --database-url"
                    ),
                    where=where,
                    file=file,
                )
    try:
        db = make_engine(url)
    except NoSuchModuleError:  # a driver SQLAlchemy does not know (postgresql+nope)
        raise unknown_kind from None
    except (ArgumentError, ImportError, OSError) as exc:
        raise DatabaseUnavailable(
            CANNOT_OPEN, where=where, url=shown, reason=_reason(exc)
        ) from None
    try:
        if migrate and not create:
            _refuse_foreign(db, shown)
        if migrate:
            from groupops.storage.migrate import upgrade

            upgrade(db)
        else:
            with db.connect() as conn:
                conn.rollback()
    except (DBAPIError, OSError) as exc:
        db.dispose()
        raise DatabaseUnavailable(
            CANNOT_OPEN, where=where, url=shown, reason=_reason(exc)
        ) from None
    return db


def _refuse_foreign(db: Engine, shown: str) -> None:
    """A command that only reads or changes what is there never makes groupops' tables: in a
    database without them (a mistyped name, another application's database, an empty one) it
    would answer "nothing to list" and leave dozens of tables behind."""
    with db.connect() as conn:
        ours = inspect(conn).has_table("alembic_version")
        conn.rollback()
    if not ours:
        db.dispose()
        raise DatabaseUnavailable(
            N_(
                "{url} holds no groupops tables: check the URL, or make them with `groupops db"
                " upgrade` and this --database-url"
            ),
            where="--database-url",
            url=shown,
        )


def _reason(exc: BaseException) -> str:
    """The driver's own words, on one line (a DBAPIError's without SQLAlchemy's wrapping)."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = " ".join(str(inner).split())
    return text or type(inner).__name__


def _create_private(path: str) -> None:
    """A new SQLite file is made readable by its owner only (0600): it holds bot tokens, the
    webhook secret, Matrix access tokens and every member's messages. SQLite gives its log and
    shared-memory files the database file's mode. A file that exists keeps the mode it has."""
    if path.startswith("file:") or "?" in path:
        return  # a URI filename: SQLite opens it as it says
    # it exists (kept as it is), or it cannot be made: SQLite's own open says what is wrong
    with contextlib.suppress(OSError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str | None = None, *, echo: bool = False) -> Engine:
    url = database_url(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(path)
        engine = create_engine(url, echo=echo, poolclass=NullPool if path == ":memory:" else None)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy drive transactions (BEGIN issued below), not pysqlite.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # A writer (engine.begin()) takes the write lock at once: no deadlock between two
            # writers upgrading. A reader (engine.connect()) reads its snapshot and blocks
            # nobody: a report or a leaderboard read from the command line must not hold the
            # serving process's batches back for as long as it reads.
            # Straight to the driver: through SQLAlchemy's execution the BEGIN cost about a
            # quarter of an empty transaction (~30 us), and a live process opens hundreds a
            # second (batches, deliveries, the sandbox's sends).
            sql = "BEGIN IMMEDIATE" if conn.info.get(_WRITER) else "BEGIN"
            conn.connection.driver_connection.execute(sql)

        engine.begin = _writer_begin(engine)  # type: ignore[method-assign,assignment]
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


_WRITER = "groupops_writer"


def _writer_begin(engine: Engine) -> Callable[[], AbstractContextManager[Connection]]:
    """``engine.begin()`` that marks its connection a writer for the "begin" event above."""

    @contextmanager
    def begin() -> Iterator[Connection]:
        with engine.connect() as conn:
            conn.info[_WRITER] = True
            try:
                with conn.begin():
                    yield conn
            finally:
                if not conn.invalidated:
                    conn.info.pop(_WRITER, None)

    return begin


@contextmanager
def driver_cursor(conn: Connection) -> Iterator[Any]:
    """A cursor of the database driver itself, inside ``conn``'s open transaction: for the few
    hot statements where SQLAlchemy's per-statement work costs more than the statement
    (SQLite's bulk inserts, savepoints). Closed at the end of the block.

    A Connection that has run nothing yet (``db.connect()``, or after a commit) has no
    transaction: it is begun here as ``conn.execute`` would, else the driver (left in
    autocommit, SQLAlchemy issues BEGIN) would keep a write that ``conn.rollback()`` then
    cannot undo."""
    if not conn.in_transaction():
        conn.begin()
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    finally:
        cursor.close()


class WalCheckpointer:
    """Copies SQLite's write-ahead log back into the database file from a thread of its own.

    Left to itself, SQLite does that copy (and its fsync) inside whichever commit takes the log
    past WAL_AUTOCHECKPOINT_PAGES: in a live process that commit is some batch's, and every
    event waiting on it waits for the disk too. While this runs, a checkpoint every ``every``
    seconds keeps the log far shorter, so the copy does not fall in a commit. PASSIVE
    checkpoints never wait on the engine's readers or writers. Nothing to do on other
    databases or in memory."""

    def __init__(self, db: Engine, every: float = 0.05) -> None:
        self.every = every
        self.path = _sqlite_file(db)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def start(self) -> None:
        if self.path is None or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def _run(self) -> None:
        assert self.path is not None
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            while not self._stop.wait(self.every):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # busy or locked now: the next turn tries again
                    log.debug("WAL checkpoint skipped: %s", exc)
        finally:
            conn.close()


def _sqlite_file(db: Engine) -> str | None:
    if db.dialect.name != "sqlite":
        return None
    path = db.url.database
    return path if path and path != ":memory:" and not path.startswith("file:") else None
