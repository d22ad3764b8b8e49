"""A group's zone moved west (Asia/Shanghai, the default, to Europe/London) gave every member
who had checked in "today" in the old zone a second check-in the same hour, on the new zone's
calendar day before it: paid again, and filling that day as a free make-up card would (a
one-day streak became two). Now a check-in on a day before the member's latest, made after
that latest check-in, is their check-in of today ("already checked in"). A late event (made
before the latest check-in, handed over after it) is still recorded on its own day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from groupops.domain.events import Event, EventKind
from groupops.engine import settings_admin
from groupops.engine.app import App
from tests.conftest import T0
from tests.features.checkin_helpers import points, setup, stats
from tests.features.helpers import clock, said


def test_a_zone_moved_west_gives_no_second_check_in(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    clock(app).set(T0 + timedelta(hours=16))  # 01:00 on 3 Nov in Shanghai, 17:00 on 2 Nov UTC
    app.handle([app.sandbox.post("g1", "u1", "签到")])
    settings_admin.set_group_profile(app.db, "1", timezone="Europe/London")
    app.engine.directory.invalidate()
    clock(app).advance(timedelta(hours=1))  # 18:00 on 2 Nov in London
    app.handle([app.sandbox.post("g1", "u1", "签到")])
    texts = said(app)
    assert "day 1 in a row" in texts[0] and "already checked in today" in texts[1]
    s = stats(app)
    assert (s["total"], s["streak"], points(app)) == (1, 1, 5)
    clock(app).advance(timedelta(days=1))  # 18:00 on 3 Nov in London: the latest day
    app.handle([app.sandbox.post("g1", "u1", "签到")])
    assert "already checked in today" in said(app)[0]
    clock(app).advance(timedelta(days=1))  # 4 Nov: the next day
    app.handle([app.sandbox.post("g1", "u1", "签到")])
    assert "day 2 in a row" in said(app)[0]


def test_a_late_check_in_is_recorded_on_its_day(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    late = Event(  # made at 23:30 on 2 Nov in Shanghai, handed over after the next
        "sandbox",
        "late1",
        EventKind.MESSAGE,
        T0 + timedelta(hours=14, minutes=30),
        chat_id="g1",
        user_id="u1",
        user_name="Ann",
        message_id="9001",
        text="签到",
    )
    clock(app).set(T0 + timedelta(hours=16))  # 01:00 on 3 Nov
    app.handle([app.sandbox.post("g1", "u1", "签到")])
    app.handle([late])
    s = stats(app)
    assert (s["total"], s["streak"], str(s["last_day"])) == (2, 2, "2026-11-03")
