"""check-in: keywords, once a day in the group's zone, streaks, gifts, make-up cards, the day's
ranking, goal check-ins; and the ``checked_in`` event the points feature pays for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from groupops.domain.errors import InvalidSettings
from groupops.domain.events import EventKind
from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.features.checkin import match_keyword
from groupops.features.checkin.days import member_checkins
from groupops.features.registry import FeatureRegistry
from groupops.storage.tables import events
from tests.conftest import T0
from tests.features.checkin_helpers import FEATURES, setup, stats
from tests.features.helpers import clear, clock, said


def say(app: App, uid: str, text: str) -> None:
    app.handle([app.sandbox.post("g1", uid, text)])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("签到", ("签到", "")),
        (" 打卡 ", ("打卡", "")),
        ("打卡读了20页", ("打卡", "读了20页")),
        ("打卡：跑步5公里", ("打卡", "跑步5公里")),
        ("/checkin read 20 pages", ("/checkin", "read 20 pages")),
        ("/CHECKIN", ("/checkin", "")),
        ("/checkin@groupops_bot read", ("/checkin", "read")),
        ("/checking my mail", None),
        ("let me 签到", None),
        ("hello", None),
    ],
)
def test_keywords(text: str, expected: tuple[str, str] | None) -> None:
    assert match_keyword(text, ["签到", "打卡", "/checkin"]) == expected


def test_the_quick_look_finds_every_keyword_the_matching_finds() -> None:
    """features.keywords.may_match, the one look features take before matching their
    commands one list after another: never False for a text that a list's keyword matches
    (spaces before it, case, a bot's @name, full-width or non-Latin keywords, and the lists
    in any order), False for texts that start with none of them."""
    from groupops.features.keywords import is_keyword, may_match

    lists = [
        ["签到", "打卡", "/checkin"],
        ["/Points", "积分"],
        ["ＶＩＰ", "İstanbul", "ΣΟΦΙΑ", "Straße"],
    ]
    texts = [
        "签到",
        " \n\u3000打卡读了20页",
        "/CHECKIN@groupops_bot read",
        "/checkin@groupops_bot",
        "/points@yourbot",
        "\t/pOiNtS ",
        "积分：",
        "ｖｉｐ",
        "ＶＩＰ 会员",
        "İSTANBUL",
        "i̇stanbul trip",
        "σοφια",
        "STRASSE",  # not the keyword: "straße" lower-cased stays apart
        "straße!",
    ]
    for text in texts:
        for order in (lists, lists[::-1]):
            found = [match_keyword(text, kws) is not None or is_keyword(text, kws) for kws in order]
            assert may_match(text, *order) is any(found), text
    assert all(match_keyword(t, lists[2]) for t in ("ｖｉｐ", "İSTANBUL", "σοφια", "straße!"))
    for text in ("hello", "let me 签到", "", "   ", "checkin", "Points", "vip", "@签到"):
        assert not may_match(text, *lists), text
    assert not may_match("签到")  # no lists: nothing to match
    assert may_match("签到", [], ["签到"])


def test_once_a_day_with_rank_and_a_reply(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "签到")
    say(app, "u2", "/checkin")
    say(app, "u1", "打卡")  # the same day: no second check-in
    texts = said(app)
    assert texts[0] == "✅ Ann checked in: day 1 in a row, #1 today."
    assert texts[1] == "✅ Bob checked in: day 1 in a row, #2 today."
    assert "already checked in today" in texts[2] and "day 1" in texts[2]
    assert stats(app, "u1")["total"] == 1
    with app.db.connect() as conn:
        derived = conn.execute(
            select(events.c.user_id, events.c.payload).where(
                events.c.kind == EventKind.CHECKED_IN.value
            )
        ).all()
    assert [d.user_id for d in derived] == ["u1", "u2"]
    assert derived[0].payload["data"]["streak"] == 1


def test_the_day_ends_at_midnight_in_the_groups_zone(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    # T0 is 09:00 in Shanghai; 23:59 local is 14:59 UTC, 00:01 the next day 15:01 UTC
    clock(app).set(T0 + timedelta(hours=14, minutes=59))
    say(app, "u1", "签到")
    clock(app).advance(timedelta(minutes=2))
    say(app, "u1", "签到")
    texts = said(app)
    assert "day 1 in a row" in texts[0] and "day 2 in a row" in texts[1]
    assert stats(app, "u1")["streak"] == 2


def test_streak_breaks_after_a_missed_day_and_best_is_kept(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    for _ in range(3):
        say(app, "u1", "签到")
        clock(app).advance(timedelta(days=1))
    clock(app).advance(timedelta(days=1))  # a day missed
    say(app, "u1", "签到")
    s = stats(app, "u1")
    assert (s["streak"], s["best_streak"], s["total"]) == (1, 3, 4)


def test_gift_at_seven_days_gives_points_and_a_card(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    for _ in range(7):
        say(app, "u1", "签到")
        clock(app).advance(timedelta(days=1))
    texts = said(app)
    assert not any("gift" in t for t in texts[:6])
    assert "🎁 7 days in a row! Your gift: +20 points, 1 make-up card(s)" in texts[6]
    assert stats(app, "u1")["cards"] == 1
    from groupops.features.points import member_points

    with app.db.connect() as conn:
        balance = member_points(conn, 1, 2)
    assert balance is not None and balance["points"] == 7 * 5 + 20


def test_gifts_repeat_after_the_longest(make_app: Callable[..., App]) -> None:
    app = setup(make_app, gifts=[{"streak": 2, "text": "a sticker"}, {"streak": 3, "cards": 1}])
    for _ in range(5):
        say(app, "u1", "签到")
        clock(app).advance(timedelta(days=1))
    texts = said(app)
    gifts = [n for n, t in enumerate(texts, 1) if "🎁" in t]
    assert gifts == [2, 3, 5]  # 5 = 3 + 2: the cycle starts again
    assert "a sticker" in texts[4]


def test_makeup_card_mends_the_streak(make_app: Callable[..., App]) -> None:
    app = setup(make_app, starting_cards=1)
    say(app, "u1", "签到")
    clock(app).advance(timedelta(days=2))  # yesterday missed
    say(app, "u1", "补签")
    say(app, "u1", "签到")
    texts = said(app)
    assert "used a make-up card for 2026-11-03: now 2 days in a row (0 card(s) left)" in texts[1]
    assert "day 3 in a row" in texts[2]
    s = stats(app, "u1")
    assert (s["streak"], s["cards"], s["total"]) == (3, 0, 3)
    say(app, "u1", "补签")
    assert "no missed day" in said(app)[0]


def test_makeup_without_cards_is_refused(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u2", "签到")
    clock(app).advance(timedelta(days=2))
    clear(app)
    say(app, "u2", "补签")
    assert "no make-up cards" in said(app)[0]
    assert stats(app, "u2")["total"] == 1


def test_goal_checkins(make_app: Callable[..., App]) -> None:
    app = setup(make_app, goal_required=True, goal_min_chars=4)
    say(app, "u1", "打卡")
    say(app, "u1", "打卡 读了20页《三体》")
    texts = said(app)
    assert "checks in with what you did" in texts[0] and "打卡 read 20 pages" in texts[0]
    assert "Goal: 读了20页《三体》" in texts[1]
    assert stats(app, "u1")["total"] == 1


def test_the_days_ranking(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "签到排行")
    assert "Nobody has checked in today" in said(app)[0]
    say(app, "u2", "签到")
    clock(app).advance(timedelta(minutes=5))
    say(app, "u1", "打卡")
    clear(app)
    say(app, "u3", "/checkin_rank")
    ranking = said(app)[0]
    assert ranking.splitlines() == [
        "📋 Check-ins today in Reading Camp (2):",
        "1. Bob 09:00 · day 1",
        "2. Ann 09:05 · day 1",
    ]


def test_reply_template_is_sandboxed_and_names_are_not_templates(
    make_app: Callable[..., App],
) -> None:
    app = setup(make_app, reply_template="{{ name }} #{{ rank }} ({{ streak }})")
    app.handle([app.sandbox.join("g1", "u9", "{{ 7*7 }}")])
    clear(app)
    say(app, "u9", "签到")
    assert said(app) == ["{{ 7*7 }} #1 (1)"]
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    with pytest.raises(InvalidSettings, match="reply_template"):
        settings_admin.set_setting(
            app.db,
            reg,
            feature="checkin",
            key="reply_template",
            value="{{ ''.__class__.__mro__ }}",
            group_ref="1",
        )


def test_chinese_group_gets_chinese_replies(make_app: Callable[..., App]) -> None:
    app = setup(make_app, language="zh_CN")
    say(app, "u1", "签到")
    text = said(app)[0]
    assert "Ann" in text and "checked in" not in text


def test_bad_settings_are_refused_with_the_field(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    reg = FeatureRegistry.load(FEATURES, extensions=False)
    with pytest.raises(InvalidSettings, match="gifts"):
        settings_admin.set_setting(
            app.db,
            reg,
            feature="checkin",
            key="gifts",
            value=[{"streak": 7}, {"streak": 7, "points": 3}],
            group_ref="1",
        )
    with pytest.raises(InvalidSettings, match="keywords"):
        settings_admin.set_setting(
            app.db, reg, feature="checkin", key="keywords", value=[" "], group_ref="1"
        )


def test_forgetting_a_member_removes_their_checkins(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "签到")
    from groupops.features.checkin import CheckinFeature

    with app.db.begin() as conn:
        CheckinFeature().delete_member_data(conn, 2)
        assert member_checkins(conn, 1, 2) is None


def test_a_failed_batchs_checkin_is_forgotten_with_it(
    make_app: Callable[..., App], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Summaries and the day's count are kept in memory between batches, only once a batch
    commits: a check-in whose batch fails as a whole counts nowhere, and counts once when the
    platform delivers it again."""
    app = setup(make_app)
    say(app, "u1", "签到")
    failing = app.sandbox.post("g1", "u2", "签到")
    real_write_outbox = app.engine._write_outbox

    def broken(*_a: object, **_k: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(app.engine, "_write_outbox", broken)
    with pytest.raises(OSError):
        app.handle([failing])
    monkeypatch.setattr(app.engine, "_write_outbox", real_write_outbox)
    say(app, "u3", "签到")
    app.handle([failing])  # re-delivered
    assert said(app) == [
        "✅ Ann checked in: day 1 in a row, #1 today.",
        "✅ Chen checked in: day 1 in a row, #2 today.",
        "✅ Bob checked in: day 1 in a row, #3 today.",
    ]
    assert [stats(app, u)["total"] for u in ("u1", "u2", "u3")] == [1, 1, 1]
    clock(app).advance(timedelta(days=1))
    say(app, "u2", "签到")
    assert said(app) == ["✅ Bob checked in: day 2 in a row, #1 today."]


@pytest.mark.parametrize("template", ["", "   ", None])
def test_an_empty_reply_template_is_the_built_in_reply_with_its_goal_line(
    make_app: Callable[..., App], template: str | None
) -> None:
    """Empty text (or only spaces) and null both mean the built-in reply, goal line and all."""
    app = setup(make_app, reply_template=template)
    say(app, "u1", "打卡 读了20页")
    assert said(app) == ["✅ Ann checked in: day 1 in a row, #1 today.\nGoal: 读了20页"]
