"""The points race is among the group's members: one who left (or was removed) before the
month ended was named in the month's top 3 and paid its reward, and stayed on the boards. Now
they keep their points but are on no board, in no top 3 and ahead of nobody, until they join
again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from groupops.engine.app import App
from groupops.features.points import leaderboard, member_points
from tests.features.helpers import clock, feature_app, said

MODERATION = "groupops.features.moderation:ModerationFeature"
CHECKIN = "groupops.features.checkin:CheckinFeature"
POINTS = "groupops.features.points:PointsFeature"
MEMBER = {"u1": 2, "u2": 3, "u3": 4}


def setup(make_app: Callable[..., App]) -> App:
    """Brand Club (group 1, Asia/Shanghai, English): admin, Ann, Bob, Chen; Ann earns 3
    points in November, Chen 2, Bob 1."""
    app = feature_app(
        make_app,
        (MODERATION, CHECKIN, POINTS),
        {"g1": "Brand Club"},
        timezone="Asia/Shanghai",
    )
    clock(app).set(datetime(2026, 11, 30, 4, 0, tzinfo=UTC))  # 30 Nov, 12:00 in Shanghai
    for uid, n in (("u1", 3), ("u2", 1), ("u3", 2)):
        for k in range(n):
            app.handle([app.sandbox.post("g1", uid, f"an idea worth sharing #{k}")])
            clock(app).advance(61)
    said(app)
    return app


def board(app: App) -> list[tuple[str, int]]:
    with app.db.connect() as conn:
        rows = leaderboard(conn, 1, "month", clock(app).now(), 10)
    return [(r["member"], r["points"]) for r in rows]


def balance(app: App, uid: str) -> int:
    with app.db.connect() as conn:
        found = member_points(conn, 1, MEMBER[uid])
    return int(found["points"]) if found else 0


def test_a_member_who_left_is_in_no_top_3(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    app.handle([app.sandbox.leave("g1", "u1")])
    clock(app).set(datetime(2026, 11, 30, 16, 1, tzinfo=UTC))  # 00:01 on 1 December
    app.engine.tick()
    texts = said(app)
    assert texts[0].splitlines()[1:3] == [
        "🥇 Chen · 2 pts · 🎁 +100 bonus points",
        "🥈 Bob · 1 pts · 🎁 +60 bonus points",
    ]
    assert not any("Ann" in t for t in texts)
    assert balance(app, "u1") == 3  # her points are kept, no reward


def test_the_boards_and_places_are_among_members(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    assert board(app) == [("Ann", 3), ("Chen", 2), ("Bob", 1)]
    app.handle([app.sandbox.leave("g1", "u1")])
    assert board(app) == [("Chen", 2), ("Bob", 1)]
    clock(app).advance(60)
    app.handle([app.sandbox.post("g1", "u3", "积分")])
    app.handle([app.sandbox.post("g1", "u2", "积分榜")])
    mine, top = said(app)
    assert "This month: 2 points, #1." in mine  # Ann is ahead of nobody now
    assert top.splitlines()[1:] == ["1. Chen · 2 pts", "2. Bob · 1 pts"]
    app.handle([app.sandbox.join("g1", "u1", "Ann")])  # back: on the board with her points
    assert board(app)[0] == ("Ann", 3)
