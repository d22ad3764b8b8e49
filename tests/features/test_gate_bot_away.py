"""The join gate while the bot is away from a group: nobody can answer a bot that is not
there, so the newcomers it held are not removed for the time it was away. When it is back
they get the whole time again from then (engine/bot.py's back_in, the gate's _bot_back): the
question again, saying so, and the mute to match; removed only if they still do not answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.features.gate import MUTE_MARGIN
from groupops.features.gate.tables import gate_challenges
from tests.features.helpers import clock
from tests.features.test_gate import clear, membership, queued, right_and_wrong, setup

ADMIN_RIGHTS = {"can_delete_messages": True, "can_restrict_members": True, "can_invite_users": True}


def bot_event(app: App, n: int, *, in_chat: bool) -> Event:
    """The platform saying the bot was removed from g1 (``in_chat`` False) or added back."""
    status = "administrator" if in_chat else "kicked"
    return Event(
        app.sandbox.source,
        f"bot{n}",
        EventKind.BOT_RIGHTS_CHANGED,
        clock(app).now(),
        chat_id="g1",
        user_id="admin",
        user_name="Admin",
        data={"status": status, "in_chat": in_chat, "rights": ADMIN_RIGHTS if in_chat else {}},
    )


def challenge(app: App, user: str) -> Any:
    with app.db.connect() as conn:
        return conn.execute(select(gate_challenges).where(gate_challenges.c.user_id == user)).one()


def away_past_the_deadline(app: App, timeout: int) -> datetime:
    """u2 joins g1 and is asked; the bot is removed 30 s later and stays away well past u2's
    deadline, the clock ticking meanwhile; then it is added back. When it came back."""
    app.handle([app.sandbox.join("g1", "u2", "Silent")])
    clear(app)
    clock(app).advance(30)
    app.handle([bot_event(app, 1, in_chat=False)])
    for _ in range(10):
        clock(app).advance(timeout)
        app.engine.tick()
    clear(app)
    assert challenge(app, "u2").status == "pending"  # held, not failed
    back = clock(app).now()
    app.handle([bot_event(app, 2, in_chat=True)])
    return back


def test_a_newcomer_held_while_the_bot_was_away_gets_the_whole_time_again(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, timeout_seconds=120)
    back = away_past_the_deadline(app, 120)
    deadline = back + timedelta(seconds=120)
    assert challenge(app, "u2").deadline == deadline
    actions = queued(app)
    assert [(a["kind"], a["user_id"]) for a in actions] == [("mute", "u2"), ("send", "")]
    assert datetime.fromisoformat(actions[0]["until"]) == deadline + MUTE_MARGIN
    assert "please answer within 2 minutes:" in actions[1]["text"]
    clear(app)
    app.engine.tick()  # the first tick after the return: was a kick
    assert queued(app) == []
    assert membership(app, "g1", "u2") == "active"
    clock(app).advance(119)
    app.engine.tick()
    assert queued(app) == []  # still within the new time
    clock(app).advance(60)  # the tick is on the minute: the first one after the deadline
    app.engine.tick()
    assert [(a["kind"], a["user_id"]) for a in queued(app)] == [("kick", "u2")]
    assert membership(app, "g1", "u2") == "kicked"


def test_the_question_asked_again_can_be_answered(make_app: Callable[..., App]) -> None:
    app = setup(make_app, timeout_seconds=120)
    away_past_the_deadline(app, 120)
    asyncio.run(app.deliver())
    asked = [m for m in app.sandbox.messages("g1") if m.user_id == "bot" and m.buttons]
    prompt = asked[-1]
    right, _ = right_and_wrong(app, prompt)
    clear(app)
    clock(app).advance(100)
    app.handle([app.sandbox.press("g1", "u2", str(prompt.id), right)])
    assert challenge(app, "u2").status == "passed"
    assert ("unmute", "u2") in [(a["kind"], a.get("user_id")) for a in queued(app)]
    clock(app).advance(600)
    app.engine.tick()
    assert membership(app, "g1", "u2") == "active"


def test_the_bot_seen_back_by_a_message_gives_the_time_again_without_buttons(
    make_app: Callable[..., App],
) -> None:
    """Matrix says nothing when the bot joins a room again: a message of the group says it is
    back (engine/bot.py). There the question is typed, and nothing is muted."""
    app = setup(make_app, buttons=False, timeout_seconds=60)
    app.handle([app.sandbox.join("g1", "u2", "Silent")])
    clear(app)
    clock(app).advance(10)
    app.handle([bot_event(app, 1, in_chat=False)])
    clock(app).advance(3600)
    app.engine.tick()
    clear(app)
    back = clock(app).now()
    app.handle([app.sandbox.post("g1", "admin", "I added the bot back")])
    assert challenge(app, "u2").deadline == back + timedelta(seconds=60)
    actions = queued(app)
    assert [a["kind"] for a in actions] == ["send"]
    assert "please answer within 1 minute:" in actions[0]["text"]
    clear(app)
    app.engine.tick()
    assert membership(app, "g1", "u2") == "active"
    clock(app).advance(120)  # the first tick (on the minute) after the deadline
    app.engine.tick()
    assert [(a["kind"], a["user_id"]) for a in queued(app)] == [("kick", "u2")]


def test_a_newcomer_with_the_whole_time_still_ahead_is_not_asked_again(
    make_app: Callable[..., App],
) -> None:
    """Only a deadline earlier than the whole time from the return moves: a newcomer who joined
    after the bot was seen back (the same batch) is asked once."""
    app = setup(make_app, timeout_seconds=120)
    app.handle([bot_event(app, 1, in_chat=False)])
    clock(app).advance(60)
    clear(app)
    app.handle([bot_event(app, 2, in_chat=True), app.sandbox.join("g1", "u3", "New")])
    assert [a["kind"] for a in queued(app)] == ["mute", "send"]
    assert challenge(app, "u3").deadline == clock(app).now() + timedelta(seconds=120)
