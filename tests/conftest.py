"""Shared fixtures: the real test data folder, databases on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = os.environ.get("CI") == "true"


def need_service(name: str, reason: str) -> None:
    """Skip with a reason naming the service; under CI a missing service fails instead."""
    message = f"{name} is not available: {reason}"
    if IN_CI:
        pytest.fail(message + " (under CI a missing service is a failure)")
    pytest.skip(message)


# -- Chromium ----------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's Chromium driven by pip playwright (a playwright Browser). Either missing is
    a missing service: a skip naming it, a failure under CI=true."""
    import importlib.util

    if not os.access(CHROMIUM, os.X_OK):
        need_service("Chromium", f"{CHROMIUM} is missing: install Debian's chromium package")
    if importlib.util.find_spec("playwright") is None:
        need_service("playwright", "the Python package playwright is not installed (make setup)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; its absence is said out loud, never passed over."""
    if not SHARED_DATA.is_dir():
        need_service("../shared/data", f"the test data folder {SHARED_DATA} is missing")
    return SHARED_DATA


# -- databases ------------------------------------------------------------------------------
# The whole suite runs on SQLite, and its tests on the test database (``database_url``) again
# with GROUPOPS_TEST_DATABASE=postgresql on the PostgreSQL at 127.0.0.1:5432 (one database per
# xdist worker, emptied between tests).

from collections.abc import Callable, Iterator  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import Engine  # noqa: E402

from groupops.engine.app import App  # noqa: E402
from groupops.engine.clock import ManualClock  # noqa: E402
from groupops.features.registry import DEFAULT_FEATURES  # noqa: E402

ON_POSTGRES = os.environ.get("GROUPOPS_TEST_DATABASE") == "postgresql"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # a Monday, 09:00 in Asia/Shanghai


def pytest_configure(config: pytest.Config) -> None:
    # one id per pytest run, shared by its xdist workers (they inherit the environment), so
    # two runs at once on one PostgreSQL never drop each other's databases
    os.environ.setdefault("GROUPOPS_TEST_RUN", f"{os.getpid()}")


def on_database(item: pytest.Item) -> bool:
    """Whether the test runs on the test database (``database_url``, itself or through the
    fixtures it asks for): only those run differently on PostgreSQL."""
    return "database_url" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Whole kinds of tests are slow, whoever writes the next one: those that need a Synapse
    homeserver (a fixture named ``synapse`` or ``…_synapse``: seconds to start, seconds per
    sync) and those that drive Chromium (marked ``browser``). They are marked ``slow`` here;
    other slow tests carry the mark themselves. ``pytest -m "not slow"`` leaves them out.

    With GROUPOPS_TEST_DATABASE=postgresql only the tests on the test database run: the
    others (importers, analytics, texts, a CLI on its own SQLite file) would run exactly as
    the SQLite pass ran them, at twice the suite's time."""
    slow = pytest.mark.slow
    for item in items:
        names = getattr(item, "fixturenames", ())
        if item.get_closest_marker("browser") or any(n.endswith("synapse") for n in names):
            item.add_marker(slow)
    if ON_POSTGRES:
        same = [item for item in items if not on_database(item)]
        if same:
            config.hook.pytest_deselected(items=same)
            items[:] = [item for item in items if on_database(item)]


@pytest.fixture(scope="session")
def _pg_database(worker_id: str) -> Iterator[str]:
    import psycopg

    from groupops.storage.pgcheck import PG_ADMIN_URL, reachable

    if not reachable():
        need_service("PostgreSQL", "nothing answers on 127.0.0.1:5432")
    name = f"groupops_test_{os.environ.get('GROUPOPS_TEST_RUN', 'x')}_{worker_id}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    workerinput: dict[str, Any] | None = getattr(request.config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "main"


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database for one test: a SQLite file, or the worker's PostgreSQL one."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path}/groupops.db"
    url: str = request.getfixturevalue("_pg_database")
    from sqlalchemy import text

    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade
    from groupops.storage.schema import all_metadata

    engine = make_engine(url)
    upgrade(engine)
    names = ", ".join(f'"{t.name}"' for t in all_metadata().sorted_tables)
    with engine.begin() as conn:
        # a connection a previous test left open must not hold the truncate up
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    """groupops' database for one test, migrated (the test database): for tests that drive the
    storage or a platform without an App."""
    from groupops.storage.db import make_engine
    from groupops.storage.migrate import upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., App]]:
    """Build an App on the test database with a ManualClock at ``T0`` (or ``start``)."""
    apps: list[App] = []

    def factory(
        *, features: tuple[str, ...] = DEFAULT_FEATURES, start: datetime = T0, **kw: Any
    ) -> App:
        app = App.create(
            database_url, clock=ManualClock(start), features=features, extensions=False, **kw
        )
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.close()


@pytest.fixture(scope="session")
def locale_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real catalogues with every translation merged in by scripts/merge_translations.py
    (its ids not yet in the catalogue added, as ``make i18n-extract`` will), compiled: the
    report, the web chat and the bot speak the Chinese they will ship with."""
    import importlib.util
    import shutil

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from groupops.i18n import LOCALE_DIR

    spec = importlib.util.spec_from_file_location(
        "merge_translations", REPO / "scripts" / "merge_translations.py"
    )
    assert spec is not None and spec.loader is not None
    merge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(merge)
    with (LOCALE_DIR / "zh_CN/LC_MESSAGES/groupops.po").open("rb") as f:
        catalogue = read_po(f, locale="zh_CN")
    merge.fill(catalogue, add_missing=True)
    root = tmp_path_factory.mktemp("locale")
    out = root / "zh_CN/LC_MESSAGES"
    out.mkdir(parents=True)
    with (out / "groupops.mo").open("wb") as f:
        write_mo(f, catalogue)
    shutil.copytree(LOCALE_DIR / "en", root / "en")
    return root


@pytest.fixture(scope="session")
def cli() -> typer.Typer:
    """The real command line, in this process (its start-up cost is paid once)."""
    from tests.cli import cli_app

    return cli_app()


@pytest.fixture
def imported(cli: typer.Typer, tmp_path: Path) -> str:
    """A SQLite database holding a small imported WhatsApp group (tests.cli.RUNNERS)."""
    from tests.cli import import_runners

    return import_runners(cli, tmp_path)
