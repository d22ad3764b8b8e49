"""`groupops demo` without the terminal: build an App on a throw-away (or given) database with a
simulated clock, run the month, count what the engine did."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.features.registry import DEFAULT_FEATURES
from groupops.i18n import N_
from groupops.simulator.totals import totals
from groupops.simulator.world import DemoError, DemoOptions, Progress, Simulation, start_instant
from groupops.storage.db import open_database
from groupops.storage.tables import events
from groupops.web.chat import DEMO_GROUPS


@dataclass(frozen=True)
class DemoResult:
    totals: dict[str, Any]
    wall_seconds: float
    database_url: str | None  # None: the temporary database is gone


def refuse_used(url: str) -> None:
    """The demo counts everything in its database: it must start empty. A URL that is not one,
    or a database that cannot be opened, is a typed error too (a new SQLite file is made)."""
    db = open_database(url, create=True)
    try:
        with db.connect() as conn:
            used = conn.execute(select(events.c.seq).limit(1)).first()
            conn.rollback()
    finally:
        db.dispose()
    if used is not None:
        raise DemoError(
            N_(
                "the database already holds events; the demo needs an empty one (its totals count"
                " everything in it): give another one, e.g. --database-url {url}"
            ),
            where="--database-url",
            url=another_database(url),
        )


def another_database(url: str) -> str:
    """The refused URL with a number added to its name: a SQLite file that does not exist yet
    (``var/demo.db`` → ``var/demo-2.db``, ``-3`` if that one exists), a PostgreSQL database
    ``<name>_2`` (the password hidden)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or "groupops"
    if parsed.get_backend_name() == "sqlite":
        path = Path(name)
        for n in range(2, 1000):
            candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
            if not candidate.exists():
                break
        return parsed.set(database=str(candidate)).render_as_string(hide_password=True)
    return parsed.set(database=f"{name}_2").render_as_string(hide_password=True)


async def run_simulation(
    app: App,
    options: DemoOptions,
    on_progress: Callable[[Progress], None] | None = None,
    chats: Sequence[tuple[str, str]] = DEMO_GROUPS,
) -> dict[str, Any]:
    """Run the accelerated month on ``app`` (a ManualClock App on an empty database) and return
    the totals read back from the database."""
    sim = Simulation(app, options, list(chats), on_progress)
    clock = sim.clock
    # rate limits count simulated seconds: what is delivered when is the same on every run
    app.deliverer.monotonic = lambda: clock.now().timestamp()
    await sim.run()
    result = totals(app.db, app.sandbox.source, [c for c, _ in chats])
    result = {
        "seed": options.seed,
        "days": options.days,
        "people": len(sim.people),
        "from": sim.start.isoformat(),
        "to": sim.end.isoformat(),
        **result,
    }
    return result


async def run_demo(
    options: DemoOptions,
    *,
    database_url: str | None = None,
    features: Sequence[str] = DEFAULT_FEATURES,
    on_progress: Callable[[Progress], None] | None = None,
) -> DemoResult:
    """The whole demo: a temporary SQLite database unless ``database_url`` is given (it must be
    empty), the built-in features, the month, the totals."""
    options.check()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="groupops-demo-") as tmp:
        url = database_url or f"sqlite:///{tmp}/demo.db"
        refuse_used(url)
        clock = ManualClock(start_instant(options.start) - timedelta(hours=1))
        app = App.create(url, clock=clock, features=features, extensions=False)
        try:
            result = await run_simulation(app, options, on_progress)
        finally:
            app.close()
    return DemoResult(result, time.perf_counter() - started, database_url)
