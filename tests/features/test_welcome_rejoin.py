"""A member leaving and joining again in a loop made the bot welcome them (and send the rules)
at every join: a member back within ``rejoin_quiet_hours`` of a welcome is not welcomed again.
With the join gate, a newcomer who left before passing it was never welcomed, and is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from groupops.engine.app import App
from groupops.features.gate.tables import gate_challenges
from groupops.features.kept import Kept
from groupops.storage.tables import outbox
from tests.features import helpers
from tests.features.helpers import clock, feature_app

MODERATION = "groupops.features.moderation:ModerationFeature"
GATE = "groupops.features.gate:GateFeature"
WELCOME = "groupops.features.welcome:WelcomeFeature"


def setup(make_app: Callable[..., App], **welcome: Any) -> App:
    """Python 学习群 (group 1) with only its admin; welcome's ``settings``, English."""
    app = feature_app(
        make_app,
        (MODERATION, GATE, WELCOME),
        {"g1": "Python 学习群"},
        feature="welcome",
        settings={"rules": "No ads.", **welcome},
        people=(),
    )
    clock(app).advance(600)  # long after the admin joined
    return app


def welcomes(app: App) -> list[tuple[str, str]]:
    """(kind, text) of the welcomes and rules queued since the last look; emptied."""
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    helpers.clear(app)
    return [
        (r.kind, r.payload["text"])
        for r in rows
        if r.feature == "welcome" and r.kind in ("send", "direct_message")
    ]


def loop(app: App, uid: str, name: str, times: int, gap: float = 61) -> None:
    for _ in range(times):
        app.handle([app.sandbox.join("g1", uid, name)])
        clock(app).advance(gap)
        app.handle([app.sandbox.leave("g1", uid)])
        clock(app).advance(gap)


def test_joining_and_leaving_in_a_loop_is_welcomed_once(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    loop(app, "u1", "Ann", times=6)
    assert [k for k, _ in welcomes(app)] == ["send", "direct_message"]
    app.handle([app.sandbox.join("g1", "u2", "Bob")])  # someone new meanwhile: welcomed
    assert [k for k, _ in welcomes(app)] == ["send", "direct_message"]
    # once the quiet hours are over since the last welcome, a welcome again
    clock(app).advance(timedelta(hours=24))
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    texts = welcomes(app)
    assert len(texts) == 2 and "Welcome Ann" in texts[0][1]


def test_quiet_hours_zero_welcome_every_join(make_app: Callable[..., App]) -> None:
    app = setup(make_app, rejoin_quiet_hours=0)
    loop(app, "u1", "Ann", times=3)
    assert [k for k, _ in welcomes(app)] == ["send", "direct_message"] * 3


def test_quiet_hours_count_from_the_departure_and_the_welcome(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, rejoin_quiet_hours=2)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    clock(app).advance(timedelta(hours=3))  # welcomed 3 hours ago
    app.handle([app.sandbox.leave("g1", "u1")])
    clock(app).advance(60)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    assert len(welcomes(app)) == 4  # the welcome before is older than 2 hours


def gate_on(app: App) -> None:
    from groupops.engine import settings_admin
    from groupops.features.registry import FeatureRegistry

    registry = FeatureRegistry.load((MODERATION, GATE, WELCOME), extensions=False)
    settings_admin.set_setting(
        app.db, registry, feature="gate", key="enabled", value=True, group_ref="1"
    )
    app.engine.directory.invalidate()


def answer_right(app: App, uid: str) -> None:
    asyncio.run(app.deliver())
    prompt = [m for m in app.sandbox.messages("g1") if m.user_id == "bot" and m.buttons][-1]
    with app.db.connect() as conn:
        ch = conn.execute(select(gate_challenges).order_by(gate_challenges.c.id.desc())).first()
    assert ch is not None and prompt.buttons is not None
    right = [row[0]["data"] for row in prompt.buttons][ch.answer - 1]
    app.handle([app.sandbox.press("g1", uid, str(prompt.id), right)])


def test_with_the_gate_a_welcome_comes_with_the_first_admission(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    gate_on(app)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    clock(app).advance(30)
    app.handle([app.sandbox.leave("g1", "u1")])  # before answering: never welcomed
    clock(app).advance(30)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    answer_right(app, "u1")
    assert [k for k, _ in welcomes(app)] == ["send", "direct_message"]
    clock(app).advance(60)
    app.handle([app.sandbox.leave("g1", "u1")])
    clock(app).advance(60)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])  # asked again, as every join is
    answer_right(app, "u1")
    assert welcomes(app) == []


def welcome_feature(app: App) -> Any:
    return app.registry.by_name["welcome"]


def test_a_restart_remembers_the_welcomes_from_storage(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    clock(app).advance(60)
    app.handle([app.sandbox.leave("g1", "u1")])
    clock(app).advance(60)
    welcome_feature(app).__init__()  # what a new process holds: nothing
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    app.handle([app.sandbox.join("g1", "u2", "Bob")])
    texts = welcomes(app)
    assert len(texts) == 4 and "Welcome Bob" in texts[2][1]


def test_a_group_too_big_for_memory_asks_storage(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    feature = welcome_feature(app)
    feature._welcomed = Kept(limit=0)  # no group fits: every join asks storage
    loop(app, "u1", "Ann", times=3)
    app.handle([app.sandbox.join("g1", "u2", "Bob")])
    assert [k for k, _ in welcomes(app)] == ["send", "direct_message"] * 2
