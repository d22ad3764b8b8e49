"""A member asks the bot about the group: 群规 gets the group's rules, 帮助 / 菜单 the list of
every command the bot answers in the group, read from the settings of the features enabled
there. Both in the group, once a minute per member; a message that only starts with the
keyword is conversation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry
from groupops.i18n import Catalogs
from groupops.storage.tables import members, memberships
from tests.features.helpers import clock, feature_app, said

CHECKIN = "groupops.features.checkin:CheckinFeature"
POINTS = "groupops.features.points:PointsFeature"
WELCOME = "groupops.features.welcome:WelcomeFeature"
FEATURES = (WELCOME, CHECKIN, POINTS)
RULES = "No ads. Be kind."


def setup(make_app: Callable[..., App], language: str = "en", **welcome: Any) -> App:
    return feature_app(
        make_app,
        FEATURES,
        {"g1": "Reading Camp"},
        feature="welcome",
        settings={"rules": RULES, **welcome},
        language=language,
    )


def say(app: App, uid: str, text: str) -> None:
    app.handle([app.sandbox.post("g1", uid, text)])
    clock(app).advance(5)


def test_rules_keyword_gets_the_rules_in_the_group(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "群规")
    assert said(app) == [f"The rules of Reading Camp:\n{RULES}"]
    say(app, "u2", "/rules@groupops_bot")
    assert said(app) == [f"The rules of Reading Camp:\n{RULES}"]
    say(app, "u1", "群规是什么？")  # conversation, not the command
    assert said(app) == []


def test_no_rules_yet_is_said(make_app: Callable[..., App]) -> None:
    app = setup(make_app, rules="")
    say(app, "u1", "/rules")
    assert said(app) == ["Reading Camp has no written rules yet."]


def test_help_lists_every_command_of_the_enabled_features(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    say(app, "u1", "帮助")
    (text,) = said(app)
    lines = text.split("\n")
    assert lines[0] == "What you can ask me in Reading Camp:"
    assert lines[1:] == [
        "群规 / /rules: the group's rules",
        "帮助 / 菜单 / /help: the commands I answer in this group",
        "签到 / 打卡 / /checkin: check in for today (a goal may follow)",
        "补签 / /makeup: use a make-up card for your last missed day",
        "签到排行 / 打卡排行 / /checkin_rank: today's check-in ranking",
        "积分 / 我的积分 / /points: your points, level and place this month",
        "积分榜 / 排行榜 / /top: this month's points leaderboard",
    ]


def test_help_follows_the_groups_settings(make_app: Callable[..., App]) -> None:
    """A renamed keyword shows at once; a feature turned off, or a group without rules, is
    not offered."""
    app = setup(make_app, rules="")
    registry = FeatureRegistry.load(FEATURES, extensions=False)
    settings_admin.set_setting(
        app.db, registry, feature="points", key="enabled", value=False, group_ref="1"
    )
    settings_admin.set_setting(
        app.db, registry, feature="checkin", key="keywords", value=["打卡"], group_ref="1"
    )
    app.engine.directory.invalidate()
    say(app, "u1", "菜单")
    (text,) = said(app)
    assert "积分" not in text and "群规" not in text
    assert "打卡: check in for today (a goal may follow)" in text.split("\n")
    assert "签到 /" not in text


def test_help_in_chinese(make_app: Callable[..., App]) -> None:
    app = setup(make_app, language="zh_CN")
    say(app, "u1", "/help")
    (text,) = said(app)
    t = Catalogs().gettext("zh_CN")
    header = t("What you can ask me in {{ group }}:")
    assert header != "What you can ask me in {{ group }}:"  # translated
    lines = text.split("\n")
    assert lines[0] == header.replace("{{ group }}", "Reading Camp")
    rules = t("{words}: {does}").format(words="群规 / /rules", does=t("the group's rules"))
    assert lines[1] == rules and "the group's rules" not in rules
    assert "the commands I answer" not in text


def test_asking_again_within_a_minute_gets_no_second_answer(make_app: Callable[..., App]) -> None:
    app = setup(make_app)
    for _ in range(5):
        say(app, "u1", "群规")
        say(app, "u1", "帮助")
    assert len(said(app)) == 2
    say(app, "u2", "群规")  # another member is answered
    assert len(said(app)) == 1
    clock(app).advance(60)
    say(app, "u1", "群规")
    assert len(said(app)) == 1


def test_rules_and_help_words_earn_no_points_and_are_no_introduction(
    make_app: Callable[..., App],
) -> None:
    """A command to the bot is not conversation (points) nor who the member is (welcome)."""
    app = setup(make_app, intro_min_chars=2, help_keywords=["what can you do"])
    say(app, "u1", "what can you do")
    say(app, "u1", "群规")
    say(app, "u1", "积分")
    texts = said(app)
    assert len(texts) == 3 and texts[0].startswith("What you can ask me"), texts
    assert texts[2].startswith("Ann: 0 points"), texts
    ms, m = memberships.c, members.c
    with app.db.connect() as conn:
        introduced = conn.execute(
            select(ms.introduced_at)
            .join(members, m.id == ms.member_id)
            .where(m.display_name == "Ann")
        ).scalar_one()
    assert introduced is None
