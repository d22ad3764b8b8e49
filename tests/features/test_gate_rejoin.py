"""Leaving after a wrong answer and joining again gave a newcomer fresh tries for ever: the
question closed as "left", never a failed gate, so ``ban_after_failures`` was never reached (a
bot could try every answer of a quiz, or a captcha again and again). Now leaving with the
question open after a wrong answer is a failed gate, and the one that reaches
``ban_after_failures`` bans them.

Joining and leaving in a loop without answering made the bot post its question into the group
at every join (a troll flooding the group through the bot). Now a join within
``rejoin_quiet_minutes`` of a join left unanswered is held without a new question (the one
already posted answers it), and leaving unanswered again within ``rejoin_window_hours`` is a
failed gate. The first time counts nothing, a rejoin after a long time is asked again, and
the member who answers passes."""

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


def join_and_leave(app: App, uid: str, name: str = "Troll") -> list[tuple[str, str]]:
    """One round of the loop: join, leave 20 seconds later without answering; what the bot
    queued for it (kind, reason)."""
    app.handle([app.sandbox.join("g1", uid, name)])
    clock(app).advance(20)
    app.handle([app.sandbox.leave("g1", uid)])
    return actions(app)


def answer(app: App, uid: str, *, right: bool = True) -> None:
    """Press an answer on the latest question posted in the group, as the member held now
    (the latest challenge: the question posted may be an earlier join's)."""
    asyncio.run(app.deliver())
    prompt = [m for m in app.sandbox.messages("g1") if m.user_id == "bot" and m.buttons][-1]
    with app.db.connect() as conn:
        ch = conn.execute(select(gate_challenges).order_by(gate_challenges.c.id.desc())).first()
    assert ch is not None and prompt.buttons is not None
    datas = [row[0]["data"] for row in prompt.buttons]
    data = (
        datas[ch.answer - 1]
        if right
        else next(d for i, d in enumerate(datas) if i != ch.answer - 1)
    )
    app.handle([app.sandbox.press("g1", uid, str(prompt.id), data)])


def statuses(app: App) -> list[str]:
    with app.db.connect() as conn:
        query = select(gate_challenges.c.status).order_by(gate_challenges.c.id)
        return list(conn.execute(query).scalars())


LOOP_BAN = ("ban", "gate: left again without answering (failed gates: 3)")


def test_a_quick_join_leave_loop_gets_one_question_and_is_banned(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, ban_after_failures=3)  # rejoin_quiet_minutes 60, window 24 hours
    rounds = []
    for _ in range(4):
        rounds.append(join_and_leave(app, "b1"))
        clock(app).advance(10 * 60)
    mute = ("mute", "gate: until the newcomer answers")
    question = ("send", "")
    # asked once; held (muted) at each join after, but nothing posted in the group
    assert rounds == [[mute, question], [mute], [mute], [mute, LOOP_BAN]]
    assert failures(app) == 3  # the first leave was free, the three after it counted
    with pytest.raises(SandboxRefused):  # banned: the loop is over
        app.sandbox.join("g1", "b1", "Troll")
    assert statuses(app) == ["left"] * 4


def test_a_slow_join_leave_loop_is_banned(make_app: Callable[..., App]) -> None:
    """Joining again every two hours, past the quiet time: each join is asked, and each
    leave after the first counts, so the loop ends at ``ban_after_failures``."""
    app = setup(make_app, ban_after_failures=3)
    rounds = []
    for _ in range(4):
        rounds.append(join_and_leave(app, "b1"))
        clock(app).advance(2 * 3600)
    kinds = [[k for k, _ in r] for r in rounds]
    assert kinds == [["mute", "send"]] * 3 + [["mute", "send", "ban"]]
    assert rounds[-1][-1] == LOOP_BAN
    with pytest.raises(SandboxRefused):
        app.sandbox.join("g1", "b1", "Troll")


def test_leaving_without_answering_once_counts_nothing(make_app: Callable[..., App]) -> None:
    """Someone who joined by mistake: leaving the question open once is no failure, and
    neither is doing it again a day and more later (outside ``rejoin_window_hours``)."""
    app = setup(make_app, ban_after_failures=1)
    for _ in range(3):
        assert [k for k, _ in join_and_leave(app, "u1", "Ann")] == ["mute", "send"]
        clock(app).advance(25 * 3600)
    assert failures(app) == 0


def test_leaving_without_answering_counts_nothing_when_turned_off(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, ban_after_failures=1, rejoin_quiet_minutes=0, rejoin_window_hours=0)
    for _ in range(3):
        assert [k for k, _ in join_and_leave(app, "u1", "Ann")] == ["mute", "send"]
        clock(app).advance(20)
    assert failures(app) == 0


def test_an_honest_rejoin_after_a_long_time_is_asked_again_and_passes(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    join_and_leave(app, "u1", "Ann")
    clock(app).advance(3 * 24 * 3600)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    acts = actions(app)
    assert [k for k, _ in acts] == ["mute", "send"]  # asked again, in the group
    answer(app, "u1")
    acts = actions(app)
    assert acts[0] == ("unmute", "gate: answered")
    assert any(k == "send" for k, _ in acts[1:])  # welcome greets them
    assert statuses(app) == ["left", "passed"] and failures(app) == 0


def test_a_member_back_within_the_quiet_time_answers_the_question_already_posted(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    join_and_leave(app, "u1", "Ann")
    clock(app).advance(5 * 60)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    assert actions(app) == [("mute", "gate: until the newcomer answers")]  # nothing posted
    answer(app, "u1", right=False)  # the earlier join's question counts this join's tries
    assert helpers.said(app) == ["Not quite, Ann. You have 1 more try."]
    answer(app, "u1")
    acts = actions(app)
    assert acts[0] == ("unmute", "gate: answered")
    assert any(k == "send" for k, _ in acts[1:])  # welcome greets them
    assert statuses(app) == ["left", "passed"] and failures(app) == 0


def test_without_buttons_a_member_back_types_the_answer_to_the_question_posted(
    make_app: Callable[..., App],
) -> None:
    """On a platform without buttons (Matrix) the member types the number of the answer the
    question in the group listed: held again, they are asked nothing new, and pass."""
    quiz = {  # in the order a quiz can be set: mode last
        "question": "Which book do we read this month?",
        "options": ["Dune", "三体", "Emma"],
        "answer": 2,
        "mode": "quiz",
    }
    app = feature_app(
        make_app,
        FEATURES,
        {"g1": "Python Learners"},
        feature="gate",
        settings={"enabled": True, **quiz},
        people=(),
        buttons=False,
    )
    assert [k for k, _ in join_and_leave(app, "u1", "Ann")] == ["send"]
    clock(app).advance(60)
    app.handle([app.sandbox.join("g1", "u1", "Ann")])
    assert actions(app) == []  # no mute there, and no question posted again
    app.handle([app.sandbox.post("g1", "u1", "2")])
    kinds = [k for k, _ in actions(app)]
    assert kinds[0] == "delete" and "send" in kinds  # the answer removed, then the welcome
    assert statuses(app) == ["left", "passed"]
