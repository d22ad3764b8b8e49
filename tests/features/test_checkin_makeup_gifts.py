"""Make-up cards (补签卡) and streak gifts: every gift is paid at most once per real streak.

With ``makeup_max_days`` of 8 or more a card could mend a gap that lay before a run which had
already been paid a gift: the two runs became one streak that had been paid the 7-day gift
twice (20 points and a card each time), and the second card paid for the mend itself, so a
member could skip a day every week and farm gifts and cards. Now a card never mends a day
before a run that has reached a gift length since; a mend that makes the streak reach a gift
length for the first time pays that gift once, with the mend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from tests.conftest import T0
from tests.features.checkin_helpers import points, setup, stats
from tests.features.helpers import clock, said


def days_in_a_row(app: App, n: int) -> list[str]:
    """Ann checks in ``n`` days in a row, the last one today; what the bot said."""
    texts: list[str] = []
    for k in range(n):
        if k:
            clock(app).advance(timedelta(days=1))
        app.handle([app.sandbox.post("g1", "u1", "签到")])
        texts += said(app)
    return texts


def makeup(app: App) -> list[str]:
    app.handle([app.sandbox.post("g1", "u1", "补签")])
    return said(app)


def test_a_card_does_not_join_a_run_that_was_paid_a_gift(make_app: Callable[..., App]) -> None:
    app = setup(make_app, makeup_max_days=10)
    assert sum("🎁" in t for t in days_in_a_row(app, 7)) == 1  # days 1-7: the 7-day gift
    clock(app).advance(timedelta(days=2))  # day 8 missed
    assert sum("🎁" in t for t in days_in_a_row(app, 7)) == 1  # days 9-15: a new streak's
    assert (stats(app)["streak"], stats(app)["cards"], points(app)) == (7, 2, 14 * 5 + 2 * 20)
    texts = makeup(app)  # day 8 lies before days 9-15, which were paid the 7-day gift
    assert len(texts) == 1 and "can't fill 2026-11-09" in texts[0]
    s = stats(app)
    assert (s["streak"], s["cards"], s["total"], points(app)) == (7, 2, 14, 14 * 5 + 2 * 20)
    # the streak goes on from 7: day 21 of the real streak is 7 + 14 days later
    texts = days_in_a_row(app, 15)[1:]
    gifts = [n for n, t in enumerate(texts, 8) if "🎁" in t]
    assert gifts == [21]


def test_a_mend_that_reaches_a_gift_length_pays_it_once(make_app: Callable[..., App]) -> None:
    app = setup(make_app, makeup_max_days=10, starting_cards=1)
    days_in_a_row(app, 6)  # days 1-6
    clock(app).advance(timedelta(days=2))  # day 7 missed
    days_in_a_row(app, 2)  # days 8-9: a new streak of 2
    texts = makeup(app)  # day 7: now 9 days in a row, the 7-day length reached with it
    assert texts[0] == (
        "🗓 Ann used a make-up card for 2026-11-08: now 9 days in a row (1 card(s) left).\n"
        "🎁 9 days in a row! Your gift: +20 points, 1 make-up card(s)"
    )
    s = stats(app)
    assert (s["streak"], s["best_streak"], s["cards"], s["total"]) == (9, 9, 1, 9)
    assert points(app) == 8 * 5 + 20
    # today's check-in is now day 9 of the streak; it goes on with no second 7-day gift and
    # the 21-day one on day 21
    texts = days_in_a_row(app, 13)
    assert "already checked in today (day 9 in a row)" in texts.pop(0)
    assert [n for n, t in enumerate(texts, 10) if "🎁" in t] == [21]
    assert "day 21 in a row" in texts[-1]


def test_a_late_check_in_that_joins_two_runs_pays_the_gift_reached(
    make_app: Callable[..., App],
) -> None:
    """A check-in handed over late (a platform catching up) fills its day like a card."""
    app = setup(make_app)
    days_in_a_row(app, 5)  # 2-6 Nov
    clock(app).advance(timedelta(days=2))  # 7 Nov not checked in yet
    days_in_a_row(app, 2)  # 8-9 Nov
    late = Event(  # made at 09:00 on 7 Nov in Shanghai, handed over on the 9th
        "sandbox",
        "late1",
        EventKind.MESSAGE,
        T0 + timedelta(days=5),
        chat_id="g1",
        user_id="u1",
        user_name="Ann",
        message_id="9001",
        text="签到",
    )
    app.handle([late])
    assert "🎁 8 days in a row! Your gift: +20 points, 1 make-up card(s)" in said(app)[0]
    s = stats(app)
    assert (s["streak"], s["cards"], s["total"]) == (8, 1, 8)
