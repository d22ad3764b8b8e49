"""Leaving after a wrong answer and joining again gave a newcomer fresh tries for ever: the
question closed as "left", never a failed gate, so ``ban_after_failures`` was never reached (a
bot could try every answer of a quiz, or a captcha again and again). Now leaving with the
question open after a wrong answer is a failed gate, and the one that reaches
``ban_after_failures`` bans them. Leaving without answering counts nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from groupops.engine.app import App
from groupops.features.gate.tables import gate_challenges, gate_failures
from groupops.platforms.sandbox.platform import SandboxRefused
from groupops.storage.tables import outbox
from tests.features import helpers
from tests.features.helpers import clock, feature_app

FEATURES = (
    "groupops.features.moderation:ModerationFeature",
    "groupops.features.gate:GateFeature",
    "groupops.features.welcome:WelcomeFeature",
)


def setup(make_app: Callable[..., App], **gate: Any) -> App:
    """Python Learners (group 1) with its admin, the gate on with ``gate``, English."""
    return feature_app(
        make_app,
        FEATURES,
        {"g1": "Python Learners"},
        feature="gate",
        settings={"enabled": True, **gate},
        people=(),
    )


def actions(app: App) -> list[tuple[str, str]]:
    """(kind, reason) of what was queued since the last look, delivered and emptied."""
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox).order_by(outbox.c.id)).all()
    asyncio.run(app.deliver())
    helpers.clear(app)
    return [(r.kind, str(r.payload.get("reason") or "")) for r in rows]


def join_and_answer_wrong(app: App, uid: str) -> None:
    app.handle([app.sandbox.join("g1", uid, "Spammy")])
    asyncio.run(app.deliver())
    prompt = [m for m in app.sandbox.messages("g1") if m.user_id == "bot" and m.buttons][-1]
    with app.db.connect() as conn:
        ch = conn.execute(select(gate_challenges).order_by(gate_challenges.c.id.desc())).first()
    assert ch is not None and prompt.buttons is not None
    wrong = next(row[0]["data"] for i, row in enumerate(prompt.buttons) if i != ch.answer - 1)
    app.handle([app.sandbox.press("g1", uid, str(prompt.id), wrong)])
    clock(app).advance(5)


def failures(app: App) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(gate_failures.c.count)).scalar() or 0)


def test_leaving_after_a_wrong_answer_is_a_failed_gate(make_app: Callable[..., App]) -> None:
    app = setup(make_app, max_attempts=2, ban_after_failures=3)
    for round_ in (1, 2):
        join_and_answer_wrong(app, "b1")
        app.handle([app.sandbox.leave("g1", "b1")])
        assert failures(app) == round_
        assert "ban" not in [k for k, _ in actions(app)]
        clock(app).advance(30)
    join_and_answer_wrong(app, "b1")
    app.handle([app.sandbox.leave("g1", "b1")])
    assert failures(app) == 3
    bans = [(k, r) for k, r in actions(app) if k == "ban"]
    assert bans == [("ban", "gate: wrong answers (failed gates: 3)")]
    with pytest.raises(SandboxRefused):  # banned: cannot come back to try again
        app.sandbox.join("g1", "b1", "Spammy")
    with app.db.connect() as conn:
        statuses = conn.execute(select(gate_challenges.c.status)).scalars().all()
    assert statuses == ["left", "left", "left"]


def test_leaving_without_answering_counts_nothing(make_app: Callable[..., App]) -> None:
    app = setup(make_app, ban_after_failures=1)
    for _ in range(3):
        app.handle([app.sandbox.join("g1", "u1", "Ann")])
        clock(app).advance(20)
        app.handle([app.sandbox.leave("g1", "u1")])
        clock(app).advance(20)
    assert failures(app) == 0
    assert "ban" not in [k for k, _ in actions(app)]
