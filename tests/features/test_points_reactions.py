"""points: a member's reactions to a message pay its author once, whatever the emoji and
however often they are taken back and given again (Telegram sends an update each time, Matrix a
new m.reaction after a redaction), in one batch or many, and after a restart; a reaction taken
back keeps what it paid; who reacted to what is forgotten REACTIONS_KEPT_DAYS later."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from groupops.domain.events import Event
from groupops.engine import admin
from groupops.engine.app import App
from groupops.features.points import PointsFeature
from groupops.features.points.tables import points_ledger, points_reactions
from groupops.storage.db import make_engine
from groupops.storage.migrate import alembic_config, current, upgrade
from groupops.storage.tables import identities
from tests.features.helpers import clock
from tests.features.test_points import FEATURES, MEMBER, balance, say, setup

_ids = itertools.count(1)


def react(app: App, uid: str, message: str, emoji: str = "👍", *, removed: bool = False) -> Event:
    """A reaction as Telegram and Matrix send them: every update its own event (the sandbox
    names a reaction by message, member and emoji, so a toggle would be one event)."""
    event = app.sandbox.react("g1", uid, message, emoji)
    data: dict[str, Any] = {"emoji": emoji, "emojis": [] if removed else [emoji]}
    if removed:
        data.update(removed=True, removed_emojis=[emoji])
    return replace(event, event_id=f"{event.event_id}:{next(_ids)}", data=data)


def reactions_paid(app: App, uid: str) -> int:
    with app.db.connect() as conn:
        paid = conn.execute(
            select(func.coalesce(func.sum(points_ledger.c.points), 0)).where(
                points_ledger.c.member_id == MEMBER[uid], points_ledger.c.reason == "reaction"
            )
        ).scalar_one()
    return int(paid)


def kept(app: App) -> list[tuple[str, int]]:
    with app.db.connect() as conn:
        rows = conn.execute(select(points_reactions.c.message_id, points_reactions.c.member_id))
        return sorted((r.message_id, r.member_id) for r in rows)


def toggles(app: App, uid: str, post: str) -> list[Event]:
    """On, off, on, off, on: what a friend farming points sends."""
    return [react(app, uid, post, removed=n % 2 == 1) for n in range(5)]


def test_toggling_a_reaction_pays_once_batch_by_batch(make_app: Callable[..., App]) -> None:
    app = setup(make_app, message_points=0)
    post = say(app, "u1", "Here are my notes from today's lesson")
    for event in toggles(app, "u2", post):
        app.handle([event])
        clock(app).advance(10)
    assert reactions_paid(app, "u1") == 1
    assert kept(app) == [(post, MEMBER["u2"])]


def test_toggling_a_reaction_pays_once_in_one_batch(make_app: Callable[..., App]) -> None:
    app = setup(make_app, message_points=0)
    post = say(app, "u1", "Here are my notes from today's lesson")
    result = app.handle(toggles(app, "u2", post))
    assert (result.stored, result.feature_errors) == (5, 0)
    assert reactions_paid(app, "u1") == 1
    assert kept(app) == [(post, MEMBER["u2"])]


def test_many_emojis_pay_once_and_two_members_twice(make_app: Callable[..., App]) -> None:
    app = setup(make_app, message_points=0)
    post = say(app, "u1", "Here are my notes from today's lesson")
    other = say(app, "u1", "And the slides")
    emojis = ("👍", "❤️", "🔥", "🎉", "👏")
    app.handle([react(app, "u2", post, e) for e in emojis[:3]])
    for emoji in emojis[3:]:
        app.handle([react(app, "u2", post, emoji)])
    assert reactions_paid(app, "u1") == 1
    app.handle([react(app, "u3", post, "🔥"), react(app, "u3", post, "👍")])
    assert reactions_paid(app, "u1") == 2  # another member: pays
    app.handle([react(app, "u2", other, "👍")])
    assert reactions_paid(app, "u1") == 3  # another message: pays
    assert kept(app) == sorted([(post, MEMBER["u2"]), (post, MEMBER["u3"]), (other, MEMBER["u2"])])


def test_reacted_to_before_a_restart_pays_nothing_after(make_app: Callable[..., App]) -> None:
    app = setup(make_app, message_points=0)
    post = say(app, "u1", "Here are my notes from today's lesson")
    app.handle([react(app, "u2", post)])
    app.handle([react(app, "u2", post, removed=True)])
    assert reactions_paid(app, "u1") == 1
    restarted = make_app(features=FEATURES)
    restarted.engine.warm_up()
    clock(restarted).advance(60)
    restarted.handle([react(restarted, "u2", post), react(restarted, "u2", post, "❤️")])
    assert reactions_paid(app, "u1") == 1
    restarted.handle([react(restarted, "u3", post)])
    assert reactions_paid(app, "u1") == 2


def test_a_reaction_taken_back_keeps_its_point_and_the_days_cap(
    make_app: Callable[..., App],
) -> None:
    """A removal takes nothing back, on the day or later, and frees nothing of the cap."""
    app = setup(make_app, message_points=0, reaction_daily_cap=2)
    post = say(app, "u1", "Here are my notes from today's lesson")
    app.handle([react(app, "u2", post), react(app, "u3", post)])
    app.handle([react(app, "u2", post, removed=True)])
    assert reactions_paid(app, "u1") == 2
    app.handle([react(app, "admin", post)])  # over the day's cap: pays nothing
    assert reactions_paid(app, "u1") == 2
    clock(app).advance(timedelta(days=1))
    app.handle([react(app, "u3", post, removed=True)])
    app.handle([react(app, "u2", post), react(app, "admin", post, "🔥")])
    assert reactions_paid(app, "u1") == 2  # reacted before (the admin's over yesterday's cap)
    assert balance(app, "u1") == 2
    later = say(app, "u1", "Part two of my notes")
    app.handle([react(app, "u2", later)])
    assert reactions_paid(app, "u1") == 3  # today's cap is untouched


def test_first_reactions_are_forgotten_at_a_tick_after_the_kept_days(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PointsFeature, "REACTIONS_KEPT_DAYS", 3)
    app = setup(make_app, message_points=0)
    post = say(app, "u1", "Here are my notes from today's lesson")
    app.handle([react(app, "u2", post)])
    clock(app).advance(timedelta(days=2))
    newer = say(app, "u1", "Part two of my notes")
    app.handle([react(app, "u3", newer)])
    clock(app).advance(timedelta(days=1, minutes=1))
    app.engine.tick()
    assert kept(app) == [(newer, MEMBER["u3"])]
    app.handle([react(app, "u2", post), react(app, "u3", newer)])
    assert reactions_paid(app, "u1") == 3  # once more after three days; not again before


def test_a_forgotten_reactor_is_forgotten_here_too(make_app: Callable[..., App]) -> None:
    app = setup(make_app, message_points=0)
    post = say(app, "u1", "Here are my notes from today's lesson")
    app.handle([react(app, "u2", post), react(app, "u3", post)])
    admin.forget_member(app.db, app.registry, MEMBER["u2"])
    assert kept(app) == [(post, MEMBER["u3"])]


def test_migration_0015_goes_down_and_up(database_url: str) -> None:
    db = make_engine(database_url)
    try:
        upgrade(db)
        command.downgrade(alembic_config(db), "0014")
        assert "points_reactions" not in inspect(db).get_table_names()
        upgrade(db, "0015")
        assert current(db) == "0015"
        table = inspect(db)
        assert "points_reactions" in table.get_table_names()
        assert {ix["name"] for ix in table.get_indexes("points_reactions")} == {
            "ix_points_reactions_at",
            "ix_points_reactions_member_id",
        }
        upgrade(db)
    finally:
        db.dispose()


def test_toggles_through_telegram_pay_once(make_app: Callable[..., App]) -> None:
    """Telegram's own updates (old_reaction / new_reaction), through the real adapter: Bob's
    👍 on, off, on, then changed to ❤️ and joined by 🔥 pay Alice one point; Chen's, one more."""
    from tests.platforms.telegram.conftest import GROUP, run, telegram
    from tests.platforms.telegram.fake_bot_api import FakeBotApi

    alice, bob, chen = (
        FakeBotApi.person(501, "Alice"),
        FakeBotApi.person(502, "Bob"),
        FakeBotApi.person(503, "Chen"),
    )
    app = make_app(features=("groupops.features.points:PointsFeature",))

    def emojis(*names: str) -> list[dict[str, str]]:
        return [{"type": "emoji", "emoji": e} for e in names]

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            post = fake.post(GROUP, alice, "Here are my notes from today's lesson")
            fake.post(GROUP, bob, "thanks!")
            fake.post(GROUP, chen, "great")
            await adapter.poll_once()
            steps = [
                (bob, [], ["👍"]),
                (bob, ["👍"], []),
                (bob, [], ["👍"]),
                (bob, ["👍"], ["❤️"]),
                (bob, ["❤️"], ["❤️", "🔥"]),
                (chen, [], ["👍"]),
            ]
            for user, old, new in steps:
                fake.push(
                    {
                        "message_reaction": {
                            "chat": fake.chats[GROUP],
                            "message_id": post,
                            "user": user,
                            "date": int(app.clock.now().timestamp()),
                            "old_reaction": emojis(*old),
                            "new_reaction": emojis(*new),
                        }
                    }
                )
                await adapter.poll_once()

    run(go())
    with app.db.connect() as conn:
        paid = conn.execute(
            select(identities.c.user_id, points_ledger.c.points)
            .join(identities, identities.c.member_id == points_ledger.c.member_id)
            .where(points_ledger.c.reason == "reaction")
        ).all()
    assert [tuple(r) for r in paid] == [("501", 1), ("501", 1)]
