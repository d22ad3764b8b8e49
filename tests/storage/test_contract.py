"""Storage contract: the same behaviour on SQLite and PostgreSQL (run the suite with
GROUPOPS_TEST_DATABASE=postgresql for the second)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.storage.db import make_engine
from groupops.storage.migrate import alembic_config, current, upgrade
from groupops.storage.schema import all_metadata
from groupops.storage.tables import events, workspaces
from tests.conftest import T0


def test_migrations_build_exactly_the_declared_schema(database_url: str) -> None:
    db = make_engine(database_url)
    upgrade(db)
    with db.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), all_metadata()
        )
    db.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_times_come_back_tz_aware_utc_to_the_microsecond(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    shanghai = timezone(timedelta(hours=8))
    when = datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=shanghai)
    with app.db.begin() as conn:
        conn.execute(insert(workspaces).values(slug="w", name="w", settings={}, created_at=when))
    with app.db.connect() as conn:
        back = conn.execute(select(workspaces.c.created_at)).scalar_one()
    assert back == when and back.tzinfo is not None and back.utcoffset() == timedelta(0)
    with pytest.raises(StatementError, match="naive datetime"), app.db.begin() as conn:
        conn.execute(
            insert(workspaces).values(
                slug="n", name="n", settings={}, created_at=datetime(2026, 1, 1)
            )
        )


def test_json_keeps_unicode_and_nesting(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    data: dict[str, Any] = {
        "规则": ["不发广告", {"emoji": "🙂", "n": 3}],
        "empty": {},
        "null": None,
    }
    with app.db.begin() as conn:
        conn.execute(insert(workspaces).values(slug="w", name="w", settings=data, created_at=T0))
    with app.db.connect() as conn:
        assert conn.execute(select(workspaces.c.settings)).scalar_one() == data


def test_unique_event_key_is_enforced_by_the_database(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    row = {"source": "s", "event_id": "e", "kind": "message", "occurred_at": T0, "payload": {}}
    with app.db.begin() as conn:
        conn.execute(insert(events).values(**row))
    with pytest.raises(IntegrityError), app.db.begin() as conn:
        conn.execute(insert(events).values(**row))


def test_two_workers_handling_the_same_batch_store_it_once(
    make_app: Callable[..., App],
) -> None:
    first, second = make_app(features=()), make_app(features=())
    batch = [
        Event(
            "sandbox",
            f"e{i}",
            EventKind.MESSAGE,
            T0 + timedelta(seconds=i),
            chat_id="g",
            user_id=f"u{i % 7}",
            message_id=str(i),
            text="hi",
        )
        for i in range(300)
    ]
    errors: list[BaseException] = []

    def run(app: App) -> None:
        try:
            for start in range(0, 300, 50):
                app.handle(batch[start : start + 50])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with first.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 300
        stored = conn.execute(select(events.c.event_id, events.c.occurred_at)).all()
    # each event once, at its own moment, read back in UTC whichever app stored it
    assert sorted((e, t) for e, t in stored) == sorted((e.event_id, e.occurred_at) for e in batch)
    assert {t.tzinfo for _, t in stored} == {UTC}


def test_every_migration_goes_down_and_up_again(database_url: str) -> None:
    """Each revision's downgrade undoes it (to an empty database) and the upgrades then build
    the declared schema again: a release can be rolled back."""
    db = make_engine(database_url)
    try:
        upgrade(db)
        command.downgrade(alembic_config(db), "base")
        assert current(db) is None
        upgrade(db)
        with db.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), all_metadata()
            )
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        db.dispose()
