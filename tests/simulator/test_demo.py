"""The accelerated demo through the real engine: deterministic for a seed, and its totals are
what the database says happened (moderation log, memberships, the platform's own records)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from groupops.domain.actions import Action
from groupops.domain.errors import InvalidSettings
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.features.checkin.tables import checkin_days
from groupops.features.gate.tables import gate_challenges
from groupops.features.moderation import moderation_log
from groupops.features.moderation.tables import moderation_decisions
from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.tables import sandbox_deliveries, sandbox_members, sandbox_messages
from groupops.simulator import DemoError, DemoOptions, run_demo
from groupops.simulator.totals import totals
from groupops.simulator.world import Simulation, start_instant
from groupops.storage.db import make_engine
from groupops.storage.schema import all_metadata
from groupops.storage.tables import events, memberships, outbox
from groupops.web.chat import DEMO_GROUPS
from tests.conftest import ON_POSTGRES

CHATS = [c for c, _ in DEMO_GROUPS]


def empty(url: str) -> None:
    """Make the test database empty again (a fresh database for the second run)."""
    db = make_engine(url)
    try:
        with db.begin() as conn:
            if ON_POSTGRES:
                names = ", ".join(f'"{t.name}"' for t in all_metadata().sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in reversed(all_metadata().sorted_tables):
                    conn.execute(table.delete())
                if conn.execute(
                    text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")
                ).first():
                    conn.execute(text("DELETE FROM sqlite_sequence"))
    finally:
        db.dispose()


def demo_json(url: str, **kw: Any) -> str:
    result = asyncio.run(run_demo(DemoOptions(**kw), database_url=url))
    return json.dumps(result.totals, sort_keys=True, ensure_ascii=False)


def test_same_seed_gives_byte_identical_totals_and_another_seed_differs(
    database_url: str, tmp_path: Path
) -> None:
    first = demo_json(database_url, days=0.75, members=20, seed=11)
    empty(database_url)
    again = demo_json(database_url, days=0.75, members=20, seed=11)
    assert again == first
    empty(database_url)
    other = demo_json(database_url, days=0.75, members=20, seed=12)
    assert other != first
    totals_ = json.loads(first)
    assert totals_["messages"] > 0 and totals_["joins"] > 0


@pytest.fixture
def month(database_url: str) -> Iterator[tuple[Simulation, App]]:
    """Three simulated days of 60 people, kept in the test database for inspection."""
    options = DemoOptions(days=3, members=60, seed=5)
    app = App.create(
        database_url,
        clock=ManualClock(start_instant(options.start) - timedelta(hours=1)),
        extensions=False,
    )
    sim = Simulation(app, options, list(DEMO_GROUPS))
    app.deliverer.monotonic = lambda: sim.clock.now().timestamp()
    asyncio.run(sim.run())
    yield sim, app
    app.close()


def _count(db: Engine, query: Any) -> int:
    with db.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_totals_are_what_the_database_holds_and_moderation_acted_back(
    month: tuple[Simulation, App],
) -> None:
    sim, app = month
    check_totals(app)
    check_moderation_acted_back(sim, app)


def check_totals(app: App) -> None:
    db = app.db
    result = totals(db, app.sandbox.source, CHATS)
    # plausible for three days of 60 people, a raid of bots and a few advertisers
    assert result["joins"] >= 60
    assert result["messages"] > result["joins"]
    assert 0 < result["checkins"] < result["messages"]
    assert result["replies"] > 0 and result["reactions"] > 0
    assert result["warnings"] > 0 and result["mutes"] > 0 and result["kicks"] > 0
    assert result["gate_passed"] > result["gate_removed"] > 0
    assert result["actions_delivered"] > result["joins"]
    assert result["actions_pending"] == 0 and result["actions_dead"] == 0
    assert sum(g["messages"] for g in result["groups"].values()) == result["messages"]
    assert sum(g["joins"] for g in result["groups"].values()) == result["joins"]
    # each group's members add up: who joined, less who left, whom the gate removed (a wrong
    # or no answer, a raid's refusal) and whom moderation removed
    for chat, g in result["groups"].items():
        assert g["joins"] - g["leaves"] - g["gate_removed"] - g["kicks"] == g["members"], chat
    assert sum(g["gate_removed"] for g in result["groups"].values()) == result["gate_removed"]
    # the moderation log (as the CLI lists it) has exactly the kicks, mutes and warnings counted
    with db.connect() as conn:
        log = moderation_log(conn, limit=100_000)
    steps = [row["step"] for row in log]
    assert steps.count("kick") == result["kicks"]
    assert steps.count("mute") == result["mutes"]
    assert steps.count("warn") == result["warnings"]
    # the platform's own records agree with the engine's
    s = sandbox_messages.c
    posted = _count(
        db,
        select(func.count()).where(s.kind == "message", s.user_id != BOT_ID),
    )
    assert posted == result["messages"]
    assert _count(db, select(func.count()).select_from(checkin_days)) == result["checkins"]
    assert (
        _count(db, select(func.count()).select_from(sandbox_deliveries))
        == result["actions_delivered"]
    )
    assert (
        _count(db, select(func.count()).where(events.c.kind == "member_joined")) == result["joins"]
    )


def check_moderation_acted_back(sim: Simulation, app: App) -> None:
    """Everyone kicked is gone and silent, nobody talks while muted, bots fail the gate."""
    d, m = moderation_decisions.c, memberships.c
    with app.db.connect() as conn:
        kicked = conn.execute(
            select(d.group_id, d.member_id, d.user_id, d.chat_id, d.created_at).where(
                d.step == "kick"
            )
        ).all()
        assert kicked
        for row in kicked:
            status = conn.execute(
                select(m.status).where(m.group_id == row.group_id, m.member_id == row.member_id)
            ).scalar_one()
            assert status != "active", row
            platform = conn.execute(
                select(sandbox_members.c.status).where(
                    sandbox_members.c.chat_id == row.chat_id,
                    sandbox_members.c.user_id == row.user_id,
                )
            ).scalar_one()
            assert platform in ("kicked", "banned"), row
            later = conn.execute(
                select(func.count()).where(
                    events.c.kind == "message",
                    events.c.chat_id == row.chat_id,
                    events.c.user_id == row.user_id,
                    events.c.occurred_at > row.created_at,
                )
            ).scalar_one()
            assert later == 0, f"{row.user_id} talked in {row.chat_id} after being kicked"
        mutes = conn.execute(
            select(d.chat_id, d.user_id, d.created_at, d.actions).where(d.step == "mute")
        ).all()
        assert mutes
        for mute in mutes:
            action = next(Action.from_json(a) for a in mute.actions if a["kind"] == "mute")
            assert action.until is not None
            spoke = conn.execute(
                select(func.count()).where(
                    events.c.kind == "message",
                    events.c.chat_id == mute.chat_id,
                    events.c.user_id == mute.user_id,
                    events.c.occurred_at > mute.created_at,
                    events.c.occurred_at < action.until,
                )
            ).scalar_one()
            assert spoke == 0, f"{mute.user_id} talked in {mute.chat_id} while muted"
        # the bots never got through the gate; nearly all people did
        by_user: dict[str, set[str]] = {}
        for user_id, status in conn.execute(
            select(gate_challenges.c.user_id, gate_challenges.c.status)
        ):
            by_user.setdefault(user_id, set()).add(status)
    bots = [p.uid for p in sim.people.values() if p.kind == "bot" and p.uid in by_user]
    people = [p.uid for p in sim.people.values() if p.kind != "bot" and p.uid in by_user]
    assert bots and people
    assert all("passed" not in by_user[uid] for uid in bots)
    passed = sum(1 for uid in people if "passed" in by_user[uid])
    assert passed >= 0.85 * len(people)


def test_a_thirty_day_month_ends_with_the_top_three(database_url: str) -> None:
    result = asyncio.run(
        run_demo(DemoOptions(days=30, members=12, seed=2), database_url=database_url)
    )
    totals_ = result.totals
    assert totals_["days"] == 30 and totals_["messages"] > 100
    db = make_engine(database_url)
    try:
        with db.connect() as conn:
            announced = conn.execute(
                select(outbox.c.payload).where(
                    outbox.c.feature == "points", outbox.c.status == "delivered"
                )
            ).all()
    finally:
        db.dispose()
    month = ("2026 年 11 月", "November 2026")  # the groups' language names it
    tops = [
        p.payload["text"] for p in announced if any(m in p.payload.get("text", "") for m in month)
    ]
    assert len(tops) == len(CHATS), "each group's November top 3 is named at the month's end"


def test_a_used_database_is_refused_and_bad_options_name_themselves(database_url: str) -> None:
    asyncio.run(run_demo(DemoOptions(days=0.2, members=10), database_url=database_url))
    with pytest.raises(DemoError, match="already holds events"):
        asyncio.run(run_demo(DemoOptions(days=0.2, members=10), database_url=database_url))
    with pytest.raises(InvalidSettings, match="--days"):
        asyncio.run(run_demo(DemoOptions(days=0)))
    with pytest.raises(InvalidSettings, match="--members"):
        asyncio.run(run_demo(DemoOptions(members=3)))
