"""Bot commands (签到, /checkin with a goal, 积分, 积分榜, 签到排行, 补签, anything starting with
"/") are never a newcomer's self-introduction and never count towards a flood; what counts as
a command follows the group's own settings of the enabled features."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.features.commands import CommandWords, command_words
from groupops.features.moderation import moderation_log
from groupops.features.moderation.tables import moderation_decisions
from groupops.storage.tables import members, memberships

INTRO = "大家好，我是小明，来自杭州，正在学 Python，想和大家一起进步"
README_TOUR = ["签到", "签到", "积分", "积分榜", "签到排行", INTRO]


def community(make_app: Callable[..., App], **moderation: object) -> App:
    """Every built-in feature; group g1 (id 1) with the moderation settings given."""
    app = make_app()
    app.sandbox.create_chat("g1", "Python 入门训练营")
    app.handle([app.sandbox.join("g1", "admin", "Admin", is_admin=True)])
    for key, value in moderation.items():
        settings_admin.set_setting(
            app.db, app.registry, feature="moderation", key=key, value=value, group_ref="1"
        )
    app.engine.directory.invalidate()
    return app


def say(app: App, user: str, text: str, gap: float = 1.2) -> None:
    app.handle([app.sandbox.post("g1", user, text)])
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(gap)


def introduced(app: App, name: str) -> object:
    """When the member called ``name`` introduced themselves in g1 (None: not yet)."""
    ms, m = memberships.c, members.c
    with app.db.connect() as conn:
        return conn.execute(
            select(ms.introduced_at)
            .join(members, m.id == ms.member_id)
            .where(m.display_name == name)
        ).scalar_one()


# -- the helper ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("签到", True),
        ("  签到  ", True),
        ("/checkin read 20 pages", True),
        ("/CHECKIN", True),
        ("打卡 读了20页", True),
        ("打卡读了20页", True),  # after a Chinese keyword the goal may follow at once
        ("积分", True),
        ("积分榜", True),
        ("签到排行", True),
        ("补签", True),
        ("/whatever the bot may not know", True),
        ("/top@groupops_bot", True),
        (INTRO, False),
        ("checking in late today, sorry", False),
        ("", False),
    ],
)
def test_what_is_a_command_by_default(
    make_app: Callable[..., App], text: str, command: bool
) -> None:
    app = community(make_app)
    with app.db.connect() as conn:
        group = app.engine.directory.groups_in(conn)[0]
        ctx = app.engine._context(conn)
        assert command_words(ctx, group).matches(text) is command


def test_a_latin_keyword_needs_a_break_after_it() -> None:
    words = CommandWords(("checkin",))
    assert words.matches("checkin") and words.matches("checkin: read")
    assert not words.matches("checking the docs")


def test_the_group_settings_decide_and_a_disabled_feature_has_no_commands(
    make_app: Callable[..., App],
) -> None:
    app = community(make_app)
    for key, value in [("keywords", ["上课啦"]), ("ranking_keywords", ["谁来了"])]:
        settings_admin.set_setting(
            app.db, app.registry, feature="checkin", key=key, value=value, group_ref="1"
        )
    settings_admin.set_setting(
        app.db, app.registry, feature="points", key="enabled", value=False, group_ref="1"
    )
    app.engine.directory.invalidate()
    with app.db.connect() as conn:
        group = app.engine.directory.groups_in(conn)[0]
        words = command_words(app.engine._context(conn), group)
    assert words.matches("上课啦 第三章") and words.matches("谁来了")
    assert not words.matches("签到")  # no longer check-in's keyword in this group
    assert not words.matches("积分榜")  # points is off here: the bot answers nothing
    assert words.matches("/points")  # a leading "/" is always a command


def test_only_the_features_the_engine_runs_have_commands(make_app: Callable[..., App]) -> None:
    """An engine without check-in and points: 签到 and 积分 are ordinary words there."""
    app = make_app(features=("groupops.features.welcome:WelcomeFeature",))
    app.sandbox.create_chat("g1", "读书会")
    app.handle([app.sandbox.join("g1", "ann", "Ann")])
    with app.db.connect() as conn:
        group = app.engine.directory.groups_in(conn)[0]
        words = command_words(app.engine._context(conn), group)
    assert not words.matches("签到") and not words.matches("积分榜")
    assert words.matches("/checkin")


# -- welcome: finding 7 ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "first", ["/checkin read 20 pages", "签到 今天读完了第三章的全部内容", "积分榜"]
)
def test_a_command_is_not_a_self_introduction(make_app: Callable[..., App], first: str) -> None:
    app = community(make_app)
    app.handle([app.sandbox.join("g1", "emily", "Emily")])
    say(app, "emily", first)
    assert introduced(app, "Emily") is None
    say(app, "emily", INTRO)
    assert introduced(app, "Emily") is not None  # the introduction after it counts


# -- moderation: finding 8 -------------------------------------------------------------------
def test_the_readme_tour_is_no_flood(make_app: Callable[..., App]) -> None:
    """Commands about 1.2 s apart, then an introduction: six messages in 10 s, but five were
    commands the bot answers."""
    app = community(make_app)
    app.handle([app.sandbox.join("g1", "ming", "小明2")])
    for text in README_TOUR:
        say(app, "ming", text)
    with app.db.connect() as conn:
        assert conn.execute(select(moderation_decisions)).all() == []
    assert introduced(app, "小明2") is not None


def test_ordinary_messages_still_flood(make_app: Callable[..., App]) -> None:
    app = community(make_app)
    app.handle([app.sandbox.join("g1", "ming", "小明2")])
    clock = app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(days=2))  # no newcomer rules in the way
    for i in range(6):
        say(app, "ming", f"第 {i} 条普通消息")
    assert [d["rule"] for d in moderation_log(app.db)] == ["flood"]


def test_commands_stored_before_a_restart_do_not_count_either(
    make_app: Callable[..., App], database_url: str
) -> None:
    """A new process reads the flood windows from storage: the commands there are left out
    as they are live."""
    app = community(make_app)
    app.handle([app.sandbox.join("g1", "ming", "小明2")])
    for text in README_TOUR[:5]:
        say(app, "ming", text)
    clock = app.clock
    assert isinstance(clock, ManualClock)
    restarted = make_app(start=clock.now())
    restarted.handle([restarted.sandbox.post("g1", "ming", INTRO)])
    assert moderation_log(restarted.db) == []
