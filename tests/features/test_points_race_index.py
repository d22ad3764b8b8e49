"""A member's place in the month (积分) and the month's board (积分榜) read from indexes
(migration 0016): counted from ix_points_months_race less those the group no longer has
(ix_memberships_gone). The same answers as counting every racing member one by one, checked
against that count on a race with ties of points and of instants, members who left, were
kicked or banned, and members with nothing this month."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, insert, select, text, update

from groupops.engine.app import App
from groupops.features.points import leaderboard
from groupops.features.points.boards import month_standing
from groupops.features.points.tables import points_months
from groupops.storage.tables import members, memberships
from tests.features.helpers import clock, feature_app

POINTS = "groupops.features.points:PointsFeature"
MONTH = date(2026, 11, 1)
AT = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PEOPLE = tuple((f"p{n}", f"P{n}") for n in range(40))


def race(make_app: Callable[..., App], seed: int) -> tuple[App, dict[int, tuple[int, datetime]]]:
    """A group of 40 members and the admin; most have points this month (few distinct values
    and instants: many ties), a quarter have left, were kicked or banned."""
    app = feature_app(make_app, (POINTS,), {"g1": "Race"}, people=PEOPLE)
    clock(app).set(AT + timedelta(days=1))
    rnd = random.Random(seed)
    with app.db.begin() as conn:
        ids = [int(i) for i in conn.execute(select(members.c.id).order_by(members.c.id)).scalars()]
        conn.execute(delete(points_months))  # what joining paid: the race is set here
        rows: dict[int, tuple[int, datetime]] = {}
        for member_id in ids:
            if rnd.random() < 0.2:
                continue  # nothing this month
            points = rnd.choice((1, 2, 2, 3, 5, 5, 8))
            at = AT + timedelta(minutes=rnd.choice((0, 0, 1, 2)))
            rows[member_id] = (points, at)
            conn.execute(
                insert(points_months).values(
                    group_id=1, month=MONTH, member_id=member_id, points=points, last_at=at
                )
            )
        for member_id in rnd.sample(ids, len(ids) // 4):
            conn.execute(
                update(memberships)
                .where(memberships.c.member_id == member_id)
                .values(status=rnd.choice(("left", "kicked", "banned")))
            )
    return app, rows


def present(app: App) -> set[int]:
    with app.db.connect() as conn:
        return set(
            conn.execute(
                select(memberships.c.member_id).where(memberships.c.status == "active")
            ).scalars()
        )


def test_places_and_boards_are_the_count_of_every_member(make_app: Callable[..., App]) -> None:
    for seed in range(3):
        app, rows = race(make_app, seed)
        here = present(app)
        order = sorted((m for m in rows if m in here), key=lambda m: (-rows[m][0], rows[m][1], m))
        with app.db.connect() as conn:
            everyone = [int(i) for i in conn.execute(select(members.c.id)).scalars()]
            for member_id in everyone:
                mine, place = month_standing(conn, 1, MONTH, member_id)
                points, at = rows.get(member_id, (0, AT))
                assert mine == points
                if points == 0:
                    expected = len(order) + 1
                else:
                    key = (-points, at, member_id)
                    expected = 1 + sum(1 for m in order if (-rows[m][0], rows[m][1], m) < key)
                assert place == expected, (seed, member_id)
            board = leaderboard(conn, 1, "month", AT, 10)
        assert [r["member_id"] for r in board] == order[:10]
        assert [r["rank"] for r in board] == list(range(1, min(10, len(order)) + 1))


def test_the_board_and_the_place_use_the_indexes(make_app: Callable[..., App]) -> None:
    """SQLite's plan: the race's index gives the board its order (no sort of every member) and
    the place's counts (no row read); those who left come from the memberships' partial index."""
    app, _ = race(make_app, 0)
    if app.db.dialect.name != "sqlite":
        return
    from groupops.features.points import boards

    with app.db.connect() as conn:

        def plan(statement: object, params: dict[str, object]) -> str:
            compiled = statement.compile(conn)  # type: ignore[attr-defined]
            sql = f"EXPLAIN QUERY PLAN {compiled}"
            values = compiled.construct_params(params)
            ordered = [values[name] for name in compiled.positiontup]
            rows = conn.exec_driver_sql(sql, tuple(ordered)).all()
            return "\n".join(str(r[-1]) for r in rows)

        race_params = {"g": 1, "month": MONTH, "m": 2, "p": 3, "at": AT}
        all_plan = plan(boards._AHEAD_ALL, race_params)
        assert all_plan.count("COVERING INDEX ix_points_months_race") == 3, all_plan
        gone_plan = plan(boards._AHEAD_GONE, race_params)
        assert "ix_memberships_gone" in gone_plan, gone_plan
        sql = text(
            "EXPLAIN QUERY PLAN SELECT member_id FROM points_months WHERE group_id = 1 "
            "AND month = :month AND points > 0 ORDER BY points DESC, last_at, member_id LIMIT 10"
        )
        board_plan = "\n".join(str(r[-1]) for r in conn.execute(sql, {"month": MONTH}))
        assert "ix_points_months_race" in board_plan and "TEMP B-TREE" not in board_plan
