"""Check-in as a member trying to cheat would use it: each test is a hole found in an audit
(make-up cards, zone changes, one batch, two groups, edited and deleted messages)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import count

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from tests.features.checkin_helpers import setup, stats
from tests.features.helpers import clock, said

_ids = count(1)


def unseen(app: App, text: str) -> Event:
    """A message of Zed's, whose joining groupops never saw (there before the bot)."""
    n = next(_ids)
    return Event(
        "sandbox",
        f"zed{n}",
        EventKind.MESSAGE,
        app.clock.now(),
        chat_id="g1",
        user_id="u9",
        user_name="Zed",
        message_id=f"9{n:04}",
        text=text,
    )


def test_no_card_fills_a_day_before_an_unseen_members_first_check_in(
    make_app: Callable[..., App],
) -> None:
    """Without a join groupops saw, a card filled any day in the window: a member new to the
    group made a four-day streak on their first day with the starting cards."""
    app = setup(make_app, starting_cards=3, makeup_max_days=5)
    app.handle([unseen(app, "签到")])  # 2 Nov, the first check-in groupops knows of
    for _ in range(3):
        app.handle([unseen(app, "补签")])
    texts = said(app)
    assert texts[1:] == ["Zed, there is no missed day to make up in the last 5 days."]
    zed = 5
    assert (stats(app, zed)["streak"], stats(app, zed)["cards"]) == (1, 3)
    clock(app).advance(timedelta(days=2))  # 3 Nov missed: a day they were in the group
    app.handle([unseen(app, "签到"), unseen(app, "补签")])
    assert "used a make-up card for 2026-11-03: now 3 days in a row" in said(app)[1]
    assert (stats(app, zed)["streak"], stats(app, zed)["cards"]) == (3, 2)
