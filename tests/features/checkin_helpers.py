"""The check-in tests' group: Reading Camp (group 1, Asia/Shanghai) with check-in and points,
and what they read back of a member (Ann, member 2, unless told)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groupops.engine.app import App
from groupops.features.checkin.days import member_checkins
from groupops.features.points import member_points
from tests.features.helpers import feature_app

CHECKIN = "groupops.features.checkin:CheckinFeature"
POINTS = "groupops.features.points:PointsFeature"
FEATURES = (CHECKIN, POINTS)
#: the people of tests.features.helpers.PEOPLE by member id (the admin is member 1)
MEMBER_IDS = {"u1": 2, "u2": 3, "u3": 4}


def setup(make_app: Callable[..., App], language: str = "en", **settings: Any) -> App:
    """Reading Camp (group 1, Asia/Shanghai): admin, Ann, Bob and Chen; check-in's
    ``settings``."""
    return feature_app(
        make_app,
        FEATURES,
        {"g1": "Reading Camp"},
        feature="checkin",
        settings=settings,
        language=language,
        timezone="Asia/Shanghai",
    )


def _member(member: int | str) -> int:
    return MEMBER_IDS[member] if isinstance(member, str) else member


def stats(app: App, member: int | str = 2) -> dict[str, Any]:
    """The member's check-in figures in group 1 (a member id, or u1/u2/u3)."""
    with app.db.connect() as conn:
        found = member_checkins(conn, 1, _member(member))
    assert found is not None
    return found


def points(app: App, member: int | str = 2) -> int:
    """The member's points in group 1 (0 before any)."""
    with app.db.connect() as conn:
        found = member_points(conn, 1, _member(member))
    return int(found["points"]) if found else 0
