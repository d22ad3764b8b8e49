"""The month's top 3 is scheduled work: while the bot is not in the group (removed from it,
engine/bot.py) it is not posted there, nor queued to be refused every minute; once the bot is
back it is announced at the next tick, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.storage.tables import outbox
from tests.features.helpers import clear, clock, said
from tests.features.test_points import say, setup


def bot_said(app: App, n: int, in_chat: bool) -> Event:
    return Event(
        "sandbox",
        f"bot-{n}",
        EventKind.BOT_RIGHTS_CHANGED,
        app.clock.now(),
        chat_id="g1",
        user_id="admin",
        data={
            "status": "administrator" if in_chat else "kicked",
            "in_chat": in_chat,
            "rights": dict.fromkeys(
                ("can_delete_messages", "can_restrict_members", "can_invite_users"), True
            ),
        },
    )


def queued(app: App) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())


def test_no_top_three_while_the_bot_is_out_and_once_it_is_back(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app)
    clock(app).set(datetime(2026, 11, 30, 4, 0, tzinfo=UTC))
    for k in range(3):
        say(app, "u1", f"an idea worth sharing #{k}")
        clock(app).advance(61)
    app.handle([bot_said(app, 1, in_chat=False)])
    clear(app)
    clock(app).set(datetime(2026, 11, 30, 16, 1, tzinfo=UTC))  # 00:01 on 1 December
    for _ in range(3):
        app.engine.tick()
        clock(app).advance(60)
    assert queued(app) == 0  # nothing posted, nothing queued to be refused
    app.handle([bot_said(app, 2, in_chat=True)])
    clock(app).advance(60)
    app.engine.tick()
    app.engine.tick(app.clock.now() + timedelta(minutes=1))
    tops = [t for t in said(app) if t.startswith("🏆 The top 3 of November 2026")]
    assert len(tops) == 1, tops
