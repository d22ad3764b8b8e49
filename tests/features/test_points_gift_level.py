"""A check-in that pays a streak gift announces a level reached once, with the total after
the gift (docs/features/points.md): the announcement said 51 while the balance a moment later
was 56, the gift's 5 points not counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.features.points.tables import points_ledger
from groupops.features.registry import FeatureRegistry
from tests.features.helpers import clock, said
from tests.features.test_points import FEATURES, balance, say, setup

LEVELS = [{"name": "Bronze", "points": 0}, {"name": "Silver", "points": 12}]


def gifts(app: App, value: object) -> None:
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    settings_admin.set_setting(
        app.db, reg, feature="checkin", key="gifts", value=value, group_ref="1"
    )
    app.engine.directory.invalidate()


def test_the_level_up_counts_the_streak_gift(make_app: Callable[..., App]) -> None:
    app = setup(make_app, levels=LEVELS)
    gifts(app, [{"streak": 2, "points": 5, "cards": 1, "text": "an e-book"}])
    say(app, "u1", "签到")  # 5 points
    clock(app).advance(timedelta(days=1))
    said(app)
    say(app, "u1", "签到")  # 5 more, and the 2-day gift's 5: 15, past Silver's 12
    texts = said(app)
    ups = [t for t in texts if "reached level" in t]
    assert ups == ["🎉 Ann reached level Silver with 15 points!"], texts
    assert balance(app, "u1") == 15
    with app.db.connect() as conn:  # still two lines: the check-in's and the gift's
        reasons = conn.execute(select(points_ledger.c.reason).order_by(points_ledger.c.id))
        assert reasons.scalars().all() == ["checkin", "checkin", "gift"]


def test_a_level_the_check_in_alone_reaches_is_announced_once(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, levels=[{"name": "Bronze", "points": 0}, {"name": "Silver", "points": 8}])
    gifts(app, [{"streak": 2, "points": 5}])
    say(app, "u1", "签到")
    clock(app).advance(timedelta(days=1))
    said(app)
    say(app, "u1", "签到")  # 10 reaches Silver already; the gift makes it 15
    ups = [t for t in said(app) if "reached level" in t]
    assert ups == ["🎉 Ann reached level Silver with 15 points!"]
