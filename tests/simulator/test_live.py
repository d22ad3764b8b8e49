"""Live mode (`groupops serve --demo`): the community acts in real time beside a running App,
and stops when told to."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from groupops.domain.errors import GroupopsError
from groupops.engine import settings_admin, settings_read
from groupops.engine.app import App
from groupops.features.gate.tables import gate_challenges
from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.tables import sandbox_messages
from groupops.simulator import run_live
from groupops.simulator.live import LiveCommunity
from groupops.simulator.model import RULES
from groupops.storage.tables import events, outbox
from groupops.web.chat import DEMO_GROUPS, ensure_groups
from groupops.web.config import WebConfig
from tests.features.helpers import clock
from tests.helpers import until


def _by(app: App, column: Any, user: Any) -> dict[str, int]:
    """Rows of the live community's people (user ids starting "live"), counted by ``column``."""
    with app.db.connect() as conn:
        found = {
            str(k): int(n)
            for k, n in conn.execute(
                select(column, func.count()).where(user.startswith("live")).group_by(column)
            )
        }
        conn.rollback()
    return found


def live_kinds(app: App) -> dict[str, int]:
    """How many events of each kind the live community's people caused."""
    return _by(app, events.c.kind, events.c.user_id)


def bot_lines(app: App) -> int:
    """Lines the bot posted on the sandbox platform."""
    with app.db.connect() as conn:
        n = conn.execute(select(func.count()).where(sandbox_messages.c.user_id == BOT_ID))
        count = int(n.scalar_one())
        conn.rollback()
    return count


def gate_outcomes(app: App) -> dict[str, int]:
    """The live newcomers' join-gate challenges by status."""
    return _by(app, gate_challenges.c.status, gate_challenges.c.user_id)


def handed_over(app: App) -> bool:
    """The App has handled every event submitted to it (its ingest loop handles a batch
    without yielding, so an empty queue seen from the loop is a handled one)."""
    return app._queue is not None and app._queue.empty()


def test_live_mode_feeds_the_running_app_and_stops_when_told(database_url: str) -> None:
    def busy(app: App) -> bool:
        kinds = live_kinds(app)
        return (
            kinds.get("member_joined", 0) >= 3
            and kinds.get("message", 0) >= 1
            and bot_lines(app) >= 1
        )

    async def scenario() -> tuple[dict[str, int], int, bool]:
        app = App.create(database_url, extensions=False)  # the real clock
        ensure_groups(app.sandbox, DEMO_GROUPS)
        await app.start(tick_every=0.5)
        # what the process held at the start is out of the cyclic collector's full passes
        assert gc.get_freeze_count() > 0
        stop = asyncio.Event()
        task = asyncio.create_task(run_live(app, seed=3, stop=stop, pace=0.05))
        try:
            # people join and talk, and the bot answers on the platform
            await until(lambda: busy(app), timeout=60, what="the live community to act")
            assert not task.done(), "live mode ended on its own"
            stop.set()
            await asyncio.wait_for(task, timeout=15)  # it ends once `stop` is set
            # the App's loops finish what was submitted
            await until(lambda: handed_over(app), what="the App to handle what was submitted")
        finally:
            stop.set()
            await app.stop()
        assert gc.get_freeze_count() == 0  # handed back when the loops stop
        kinds, lines = live_kinds(app), bot_lines(app)
        app.close()
        return kinds, lines, task.done()

    kinds, lines, done = asyncio.run(scenario())
    assert done
    assert kinds.get("member_joined", 0) >= 3
    assert kinds.get("message", 0) >= 1
    assert lines >= 1  # the App answered on the platform (welcomes, check-in replies)


def test_live_newcomers_answer_the_join_gate_when_the_group_has_it(database_url: str) -> None:
    async def scenario() -> dict[str, int]:
        app = App.create(database_url, extensions=False)
        ensure_groups(app.sandbox, DEMO_GROUPS)
        # the operator turned the gate on for the whole workspace before the demo started
        app.handle([app.sandbox.join("course", "operator", "Operator", is_admin=True)])
        settings_admin.set_setting(app.db, app.registry, feature="gate", key="enabled", value=True)
        await app.start(tick_every=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(run_live(app, seed=5, stop=stop, pace=0.05))
        try:
            # a newcomer read the sum and pressed its button, and, let in, talked
            await until(
                lambda: (
                    gate_outcomes(app).get("passed", 0) >= 1
                    and live_kinds(app).get("message", 0) >= 1
                ),
                timeout=60,
                what="a live newcomer to pass the gate and talk",
            )
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            await until(lambda: handed_over(app), what="the App to handle what was submitted")
        finally:
            stop.set()
            await app.stop()
        assert gc.get_freeze_count() == 0  # handed back when the loops stop
        outcome = {**gate_outcomes(app), "messages": live_kinds(app).get("message", 0)}
        app.close()
        return outcome

    outcome = asyncio.run(scenario())
    assert outcome.get("passed", 0) >= 1, outcome  # they read the sum and pressed its button
    assert outcome["messages"] >= 1  # and, let in, they talk


def course_rules(app: App) -> object:
    """The course group's rules (None while the engine has not seen the group)."""
    try:
        settings = settings_read.effective_settings(app.db, app.registry, "sandbox:course")
    except (GroupopsError, ValueError):
        return None
    return settings["welcome"]["rules"]


def test_live_demo_groups_get_rules_unless_the_operator_gave_their_own(database_url: str) -> None:
    """A newcomer in `serve --demo` is sent the group's rules (as in `groupops demo`); a group
    whose rules the operator set keeps them, even set empty."""

    async def scenario() -> dict[str, str]:
        app = App.create(database_url, extensions=False)
        ensure_groups(app.sandbox, DEMO_GROUPS)
        app.handle(
            [
                app.sandbox.join("brand", "operator", "Operator", is_admin=True),
                app.sandbox.join("creators", "operator", "Operator", is_admin=True),
            ]
        )
        for chat, rules in (("brand", "Our own rules"), ("creators", "")):
            settings_admin.set_setting(
                app.db,
                app.registry,
                feature="welcome",
                key="rules",
                value=rules,
                group_ref=f"sandbox:{chat}",
            )
        await app.start(tick_every=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(run_live(app, seed=4, stop=stop, pace=0.05))
        try:
            # the demo's rules reach the course group; the step that gave them also looked
            # at the other groups, and stopping lets that step finish
            await until(
                lambda: course_rules(app) == RULES["course"],
                timeout=60,
                what="the demo's rules for the course group",
            )
            stop.set()
            await asyncio.wait_for(task, timeout=15)
        finally:
            stop.set()
            await app.stop()
        found = {
            chat: settings_read.effective_settings(app.db, app.registry, f"sandbox:{chat}")[
                "welcome"
            ]["rules"]
            for chat, _ in DEMO_GROUPS
        }
        app.close()
        return found

    rules = asyncio.run(scenario())
    assert rules == {"course": RULES["course"], "brand": "Our own rules", "creators": ""}


def welcomes(app: App) -> list[tuple[str, str]]:
    """(chat, text) of the messages the bot queued for the groups so far."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(outbox.c.chat_id, outbox.c.payload)
            .where(outbox.c.kind == "send")
            .order_by(outbox.c.id)
        ).all()
        conn.rollback()
    return [(str(r.chat_id), str(r.payload.get("text") or "")) for r in rows]


#: how often `groupops serve` ticks the clock (seconds)
TICK_EVERY = WebConfig().tick_every


@pytest.mark.parametrize("seed", [1, 2])
def test_a_person_joining_from_the_web_chat_is_welcomed_at_once(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """`serve --demo` at pace 1, on a clock the test moves as the live loop would (a tick
    every 20 seconds, as `groupops serve` has): the demo's own joins in a group (the owner's
    at the start, newcomers', advertisers') come more than welcome's burst window apart, so a
    person who joins from the web chat in the first minutes, while the demo fills its groups,
    makes no join burst with them and is welcomed at once on their own (they waited minutes
    for a combined welcome before), and the demo alone never makes a burst."""
    app = make_app()
    ensure_groups(app.sandbox, DEMO_GROUPS)
    monkeypatch.setattr(app, "submit", lambda event: app.handle([event]))
    c = clock(app)
    visitors = {46: "course", 200: "brand", 330: "creators", 420: "course"}
    at_once: dict[str, bool] = {}

    async def scenario() -> None:
        community = LiveCommunity(app, seed=seed, pace=1.0, people=150)
        await community.start()
        app.engine.tick()
        elapsed, next_tick = 0.0, TICK_EVERY
        while elapsed < 480:
            for second, chat in visitors.items():
                name = f"Visitor{second}"
                if elapsed >= second and name not in at_once:
                    app.handle([app.sandbox.join(chat, f"web-{second}", name)])
                    at_once[name] = any(
                        name in text for where, text in welcomes(app) if where == chat
                    )
            await community.step()
            pause = community.pause()
            elapsed += pause
            c.advance(pause)
            while elapsed >= next_tick:
                app.engine.tick()
                next_tick += TICK_EVERY

    asyncio.run(scenario())
    assert at_once == {f"Visitor{s}": True for s in visitors}
    joined = live_kinds(app).get("member_joined", 0)
    assert joined >= 12, joined  # the demo filled its groups meanwhile
    assert [t for _, t in welcomes(app) if "new members" in t] == []  # and made no burst
