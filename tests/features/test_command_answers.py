"""A member repeating a command cannot make the bot flood the group: commands are no flood for
moderation, so "签到" sent twenty times was answered twenty times, each answer a place in the
group's queue at the platform's pace (18 a minute on Telegram), ahead of welcomes and the join
gate's questions. Now "already checked in" is said once a day, and the other answers that
change nothing (积分, 积分榜, 签到排行, a refused 补签, the goal reminder) once a minute per
member and command."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from groupops.engine.app import App
from tests.features.helpers import clock, feature_app, said

MODERATION = "groupops.features.moderation:ModerationFeature"
CHECKIN = "groupops.features.checkin:CheckinFeature"
POINTS = "groupops.features.points:PointsFeature"


def setup(make_app: Callable[..., App], **checkin: Any) -> App:
    """Reading Camp (Asia/Shanghai, English): admin, Ann, Bob and Chen."""
    return feature_app(
        make_app,
        (MODERATION, CHECKIN, POINTS),
        {"g1": "Reading Camp"},
        feature="checkin",
        settings=checkin,
        timezone="Asia/Shanghai",
    )


def say(app: App, uid: str, text: str, times: int = 1, gap: float = 3) -> None:
    for _ in range(times):
        app.handle([app.sandbox.post("g1", uid, text)])
        clock(app).advance(gap)


def test_checking_in_again_and_again_is_answered_once_a_day(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "签到", times=20)
    texts = said(app)
    assert len(texts) == 2, texts
    assert texts[0].startswith("✅ Ann checked in")
    assert "already checked in today" in texts[1]
    say(app, "u1", "打卡", times=3)  # another keyword, a minute later: the same day
    clock(app).advance(timedelta(hours=3))
    say(app, "u1", "签到")
    assert said(app) == []
    clock(app).advance(timedelta(days=1))
    say(app, "u1", "签到", times=3)
    texts = said(app)
    assert len(texts) == 2 and "day 2 in a row" in texts[0] and "already" in texts[1]
    # another member is answered as before
    say(app, "u2", "签到", times=2)
    assert len(said(app)) == 2


def test_asking_again_within_a_minute_gets_no_second_answer(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "签到")
    said(app)
    for command in ("积分", "积分榜", "签到排行", "补签"):
        say(app, "u1", command, times=10, gap=5)  # 50 seconds
        texts = said(app)
        assert len(texts) == 1, (command, texts)
        say(app, "u2", command)  # another member asking is answered
        assert len(said(app)) == 1, command
    clock(app).advance(60)
    say(app, "u1", "积分")
    say(app, "u1", "/points@yourbot")  # the same command in other words
    say(app, "u1", "积分榜")
    assert len(said(app)) == 2


def test_a_batch_of_repeats_is_answered_once(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    events = []
    for text in ("签到", "签到", "签到", "积分", "积分", "积分"):
        events.append(app.sandbox.post("g1", "u1", text))
        clock(app).advance(1)
    app.handle(events)
    texts = said(app)
    assert len(texts) == 3, texts  # checked in, already, the points


def test_a_goal_reminder_is_said_once_a_minute(make_app: Callable[..., App]) -> None:
    app = setup(make_app, goal_required=True)
    say(app, "u1", "打卡", times=10)
    texts = said(app)
    assert len(texts) == 1 and "checks in with what you did" in texts[0]
    say(app, "u1", "打卡 读了20页")  # a real check-in always answers
    assert "checked in" in said(app)[0]


def test_a_card_used_is_always_answered(make_app: Callable[..., App]) -> None:
    app = setup(make_app, starting_cards=2)
    say(app, "u1", "签到")
    clock(app).advance(timedelta(days=3))  # two days missed
    said(app)
    say(app, "u1", "补签", times=3)
    texts = said(app)
    assert [t.split(" used a make-up card for ")[0] for t in texts[:2]] == ["🗓 Ann", "🗓 Ann"]
    assert len(texts) == 3 and "no missed day" in texts[2]
