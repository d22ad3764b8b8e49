"""storage.bulk: rows written through the driver read back exactly as SQLAlchemy's would, on
every database; a statement with a parameter the rows do not carry falls back to SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import bindparam, func, insert, select, text, update

from groupops.features.points.tables import points_ledger, points_months
from groupops.storage.bulk import Bulk
from groupops.storage.db import make_engine
from groupops.storage.migrate import upgrade
from groupops.storage.tables import groups, members, outbox, workspaces
from tests.conftest import T0


def _base(database_url: str) -> Any:
    db = make_engine(database_url)
    upgrade(db)
    with db.begin() as conn:
        conn.execute(insert(workspaces).values(slug="w", name="w", settings={}, created_at=T0))
        conn.execute(
            insert(groups).values(
                workspace_id=1, source="s", chat_id="c", title="g", settings={}, created_at=T0
            )
        )
        conn.execute(insert(members).values(workspace_id=1, display_name="m", created_at=T0))
    return db


def test_bulk_rows_read_back_like_sqlalchemys(database_url: str) -> None:
    db = _base(database_url)
    east = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 1, 0, 30, 15, 123456, tzinfo=east)  # 31 Oct 16:30 UTC
    rows = [
        {"group_id": 1, "member_id": 1, "points": n, "reason": "message", "at": at, "cause_seq": s}
        for n, s in ((1, None), (2, 7))
    ]
    with db.begin() as conn:
        Bulk(insert(points_ledger)).run(conn, rows)
        Bulk(insert(points_months)).run(
            conn,
            [
                {
                    "group_id": 1,
                    "month": date(2026, 11, 1),
                    "member_id": 1,
                    "points": 3,
                    "last_at": at,
                }
            ],
        )
        Bulk(
            update(points_ledger)
            .where(points_ledger.c.cause_seq == bindparam("s"))
            .values(points=bindparam("p"))
        ).run(conn, [{"s": 7, "p": 20}])
    with db.connect() as conn:
        got = conn.execute(
            select(points_ledger.c.points, points_ledger.c.at, points_ledger.c.cause_seq).order_by(
                points_ledger.c.id
            )
        ).all()
        month = conn.execute(select(points_months)).one()
        later = conn.execute(
            select(points_ledger.c.id).where(points_ledger.c.at > at - timedelta(microseconds=1))
        ).all()
    db.dispose()
    assert [tuple(r) for r in got] == [(1, at, None), (20, at, 7)]
    assert got[0].at.tzinfo is not None and got[0].at.utcoffset() == timedelta(0)
    assert month.month == date(2026, 11, 1) and month.last_at == at.astimezone(UTC)
    assert len(later) == 2  # stored text compares with SQLAlchemy's bound timestamps


def test_bulk_falls_back_when_rows_lack_a_defaulted_column(database_url: str) -> None:
    db = _base(database_url)
    row = {
        "created_at": T0,
        "source": "s",
        "chat_id": "c",
        "kind": "send",
        "payload": {"text": "你好", "nested": [1, {"a": None}]},
        "next_attempt_at": T0,
    }  # no status, attempts, feature, last_error: their defaults must still be written
    with db.begin() as conn:
        Bulk(insert(outbox)).run(conn, [row, dict(row, chat_id="d")])
    with db.connect() as conn:
        got = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    db.dispose()
    assert [(r.chat_id, r.status, r.attempts, r.last_error) for r in got] == [
        ("c", "pending", 0, ""),
        ("d", "pending", 0, ""),
    ]
    assert got[0].payload == {"text": "你好", "nested": [1, {"a": None}]}


def test_bulk_writes_sqlalchemys_own_text_for_timestamps_and_dates(database_url: str) -> None:
    """On SQLite, Bulk formats tz-aware timestamps and plain dates itself: byte for byte the
    text SQLAlchemy's processors write; anything else still goes to them (same text, same
    error)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the text SQLite stores; other databases bind through SQLAlchemy")
    db = _base(database_url)
    with db.begin() as conn:
        conn.execute(
            insert(groups).values(
                workspace_id=1, source="s", chat_id="d", title="h", settings={}, created_at=T0
            )
        )
    east = timezone(timedelta(hours=8))
    values = [  # (month, last_at)
        (date(2026, 11, 1), datetime(2026, 11, 1, 0, 30, 15, 123456, tzinfo=east)),
        (date(5, 6, 7), datetime(2026, 11, 1, 0, 30, tzinfo=UTC)),  # no microseconds
        (datetime(2026, 12, 1, 13, 0, tzinfo=UTC), datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC)),
    ]

    def rows(group_id: int) -> list[dict[str, Any]]:
        return [
            {"group_id": group_id, "month": m, "member_id": 1, "points": i, "last_at": at}
            for i, (m, at) in enumerate(values)
        ]

    with db.begin() as conn:
        Bulk(insert(points_months)).run(conn, rows(1))
        conn.execute(insert(points_months), rows(2))  # the same through SQLAlchemy
    stored = text("SELECT month, last_at FROM points_months WHERE group_id = :g ORDER BY points")
    with db.connect() as conn:
        mine = [tuple(r) for r in conn.execute(stored, {"g": 1})]
        theirs = [tuple(r) for r in conn.execute(stored, {"g": 2})]
    assert mine == theirs
    assert mine == [
        ("2026-11-01", "2026-10-31 16:30:15.123456"),
        ("0005-06-07", "2026-11-01 00:30:00.000000"),
        ("2026-12-01", "0999-01-02 03:04:05.000006"),
    ]
    naive = dict(rows(1)[0], month=date(2027, 1, 1), last_at=datetime(2026, 11, 1, 0, 30))
    with pytest.raises(ValueError, match="naive datetime"), db.begin() as conn:
        Bulk(insert(points_months)).run(conn, [naive])
    db.dispose()


def test_one_answers_as_sqlalchemy_does(database_url: str) -> None:
    """storage.bulk.One: rows as SQLAlchemy's (typed columns converted the same way), inserts
    with RETURNING, a column default left to the table, and SQLAlchemy's errors."""
    from sqlalchemy.exc import IntegrityError

    from groupops.storage.bulk import One
    from groupops.storage.tables import memberships

    db = _base(database_url)
    new = One(insert(memberships).returning(memberships.c.id))
    find = One(
        select(memberships.c.id, memberships.c.is_admin, memberships.c.joined_at).where(
            memberships.c.member_id == bindparam("m")
        )
    )
    count = One(select(func.count()).select_from(memberships))
    with db.begin() as conn:
        row = {"group_id": 1, "member_id": 1, "status": "active", "is_admin": True}
        first = new.scalar(conn, {**row, "joined_at": T0, "via": ""})
        assert isinstance(first, int)
        assert find.first(conn, {"m": 1}) == (first, True, T0)
        assert find.all(conn, {"m": 1}) == [
            tuple(r) for r in conn.execute(find.stmt, {"m": 1}).all()
        ]
        assert find.first(conn, {"m": 99}) is None and find.scalar(conn, {"m": 99}) is None
        assert count.scalar(conn, {}) == 1
        # the same member and group again
        with pytest.raises(IntegrityError), conn.begin_nested():
            new.scalar(conn, {**row, "joined_at": None, "via": ""})
        conn.execute(insert(members).values(workspace_id=1, display_name="n", created_at=T0))
        second = new.scalar(conn, {"group_id": 1, "member_id": 2})  # status, via: defaults
        got = conn.execute(
            select(memberships.c.status, memberships.c.via, memberships.c.joined_at).where(
                memberships.c.id == second
            )
        ).one()
    db.dispose()
    assert tuple(got) == ("active", "", None)


def test_one_and_bulk_on_a_connection_that_ran_nothing_yet_are_in_its_transaction(
    database_url: str,
) -> None:
    """The driver's cursor runs in the Connection's transaction even when nothing has begun
    it yet (``db.connect()`` then a One or a Bulk first): a rollback undoes what they wrote,
    as it undoes what ``conn.execute`` wrote. (SQLite's driver is in autocommit until
    SQLAlchemy says BEGIN.)"""
    from groupops.storage.bulk import One

    db = _base(database_url)
    new_member = One(insert(members).returning(members.c.id))
    many = Bulk(insert(members))
    count = select(func.count()).select_from(members)
    with db.connect() as conn:
        before = conn.execute(count).scalar_one()
        conn.rollback()
    with db.connect() as conn:
        new_member.scalar(conn, {"workspace_id": 1, "display_name": "one", "created_at": T0})
        assert conn.in_transaction()
        conn.rollback()
        many.run(conn, [{"workspace_id": 1, "display_name": "bulk", "created_at": T0}])
        conn.rollback()
    with db.connect() as conn:
        assert conn.execute(count).scalar_one() == before
        conn.rollback()
    db.dispose()


def test_sqlite_text_of_kept_timestamps_is_never_another_ones() -> None:
    """storage.types.sqlite_text keeps the text of recent UTC timestamps: every value still
    gets the text SQLite stores for its own instant, whether or not one equal to it (or another
    instant of the same local time) was written before, and after the kept texts are cleared."""
    from zoneinfo import ZoneInfo

    from groupops.storage import types
    from groupops.storage.types import sqlite_text

    def reference(value: datetime) -> str:
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    ny = ZoneInfo("America/New_York")
    east = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 2, 3, 4, 5, 123456, tzinfo=UTC)
    values = [
        at,
        at + timedelta(microseconds=1),
        at.replace(microsecond=0),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        at.astimezone(east),  # equal to ``at``: the same text
        datetime(2026, 11, 1, 1, 30, tzinfo=ny),  # 05:30 UTC (summer time)
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ny),  # equal to it, yet 06:30 UTC
        datetime(2026, 11, 2, 3, 4, 5, 123456, tzinfo=ZoneInfo("UTC")),
    ]
    for _ in range(2):  # the second time from the kept texts
        assert [sqlite_text(v) for v in values] == [reference(v) for v in values]
    assert sqlite_text(values[5]) == "2026-11-01 05:30:00.000000"
    assert sqlite_text(values[6]) == "2026-11-01 06:30:00.000000"
    assert len({sqlite_text(v) for v in values}) == 6
    many = [at + timedelta(seconds=s) for s in range(types._UTC_TEXTS_MAX + 10)]
    assert [sqlite_text(v) for v in many] == [reference(v) for v in many]
    assert len(types._UTC_TEXTS) <= types._UTC_TEXTS_MAX
    assert sqlite_text(at) == "2026-11-02 03:04:05.123456"
