"""What ``settings set`` checks before it stores a value: a workspace default against every
group that inherits it, command keywords across features, text settings taken as text, the
validated value stored; and ``settings show`` on settings stored invalid before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import typer
from sqlalchemy import select, update

from groupops.domain.errors import InvalidSettings
from groupops.engine import settings_admin, settings_read
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry, InheritedSettingsRefused
from groupops.storage.tables import groups, outbox, workspaces
from tests.cli import error_line, run

FEATURES = (
    "groupops.features.gate:GateFeature",
    "groupops.features.welcome:WelcomeFeature",
    "groupops.features.checkin:CheckinFeature",
    "groupops.features.points:PointsFeature",
)


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    app = make_app(features=FEATURES)
    for chat in ("course", "brand", "creators"):
        app.sandbox.create_chat(chat, chat.title())
        app.handle([app.sandbox.join(chat, "admin", "Admin", is_admin=True)])
    return app


def reg() -> FeatureRegistry:
    return FeatureRegistry.load(FEATURES, extensions=False)


def put(app: App, feature: str, key: str, value: Any, group: str | None = None) -> dict[str, Any]:
    return settings_admin.set_setting(
        app.db, reg(), feature=feature, key=key, value=value, group_ref=group
    )


def stored(app: App) -> tuple[Any, list[Any]]:
    with app.db.connect() as conn:
        ws = conn.execute(select(workspaces.c.settings)).scalar_one()
        own = [r[0] for r in conn.execute(select(groups.c.settings).order_by(groups.c.id))]
    return ws, own


def quiz_in_brand(app: App) -> None:
    put(app, "gate", "question", "Which book this month?")
    put(app, "gate", "options", ["Dune", "三体"])
    put(app, "gate", "enabled", True, "sandbox:brand")
    put(app, "gate", "mode", "quiz", "sandbox:brand")


# -- finding 1: a workspace default is checked against the groups that inherit it ----------


def test_a_workspace_default_that_breaks_an_inheriting_group_is_refused(app: App) -> None:
    quiz_in_brand(app)
    before = stored(app)
    with pytest.raises(InheritedSettingsRefused) as refused:
        put(app, "gate", "question", "")
    assert str(refused.value) == (
        "workspace default gate.question: not saved: group 2 (sandbox:brand) inherits it, and"
        " its gate settings would be invalid: mode 'quiz' needs a question"
    )
    assert refused.value.code == "invalid_settings"
    assert stored(app) == before
    put(app, "gate", "options", ["Dune", "三体"], "sandbox:brand")
    put(app, "gate", "options", ["Dune", "三体", "活着"])
    with pytest.raises(InheritedSettingsRefused, match=r"group 2 \(sandbox:brand\).*answer 3"):
        put(app, "gate", "answer", 3)
    assert settings_read.effective_settings(app.db, reg(), "2")["gate"]["question"] == (
        "Which book this month?"
    )
    # the engine still gates brand's newcomers with the question
    app.engine.directory.invalidate()
    app.handle([app.sandbox.join("brand", "u1", "Xiaoqiang")])
    with app.db.connect() as conn:
        texts = [r.payload.get("text", "") for r in conn.execute(select(outbox))]
    assert any("Which book this month?" in t for t in texts)


def test_every_broken_group_is_named_and_a_group_with_its_own_value_is_not(app: App) -> None:
    quiz_in_brand(app)
    put(app, "gate", "mode", "quiz", "sandbox:creators")
    put(app, "gate", "question", "Our own question?", "sandbox:creators")
    put(app, "gate", "mode", "quiz", "sandbox:course")
    with pytest.raises(InheritedSettingsRefused) as refused:
        put(app, "gate", "question", " ")
    names = [group for group, _, _ in refused.value.refused]
    assert names == ["1 (sandbox:course)", "2 (sandbox:brand)"]
    # once the groups have their own question, the default may go
    put(app, "gate", "question", "Q1", "1")
    put(app, "gate", "question", "Q2", "2")
    assert put(app, "gate", "question", "") == {"question": "", "options": ["Dune", "三体"]}


def test_a_group_invalid_already_does_not_block_the_workspace(app: App) -> None:
    quiz_in_brand(app)
    with app.db.begin() as conn:  # an older database: stored without the check
        conn.execute(
            update(workspaces).values(settings={"gate": {"question": "", "options": ["a", "b"]}})
        )
    put(app, "gate", "timeout_seconds", 600)
    view = settings_read.settings_view(app.db, reg(), "2")
    assert list(view.invalid) == ["gate"]
    assert view.invalid["gate"].localized_message(str) == "mode 'quiz' needs a question"
    assert view.settings["gate"]["question"] == "" and view.settings["gate"]["mode"] == "quiz"
    assert view.settings["gate"]["timeout_seconds"] == 600
    with pytest.raises(InvalidSettings, match="group 2 gate: mode 'quiz' needs a question"):
        settings_read.effective_settings(app.db, reg(), "2")


def test_settings_show_tells_what_is_wrong_instead_of_a_traceback(
    app: App, cli: typer.Typer, database_url: str
) -> None:
    quiz_in_brand(app)
    with app.db.begin() as conn:
        conn.execute(
            update(workspaces).values(settings={"gate": {"question": "", "options": ["a", "b"]}})
        )
    res = run(cli, "settings", "show", "--group", "sandbox:brand", "--database-url", database_url)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and '"mode": "quiz"' in res.stdout
    assert res.stderr.strip() == (
        "warning [invalid_settings] group 2 gate: stored settings are invalid, so this feature"
        " is off in the group until they are fixed: mode 'quiz' needs a question"
    )
    res = run(cli, "settings", "show", "-g", "2", "--database-url", database_url, lang="zh_CN")
    assert res.exit_code == 0 and "需要一个问题" in res.stderr


def test_the_cli_refuses_a_breaking_default_in_one_line(
    app: App, cli: typer.Typer, database_url: str
) -> None:
    quiz_in_brand(app)
    res = run(cli, "settings", "set", "gate.question", "", "--database-url", database_url)
    line = error_line(res)
    assert line.startswith("error [invalid_settings] workspace default gate.question: not saved")
    assert "group 2 (sandbox:brand)" in line and "mode 'quiz' needs a question" in line


# -- finding 11: text settings take text; what is stored is the validated value -------------


def test_a_text_setting_takes_words_that_look_like_json(
    app: App, cli: typer.Typer, database_url: str
) -> None:
    url = ("--database-url", database_url)
    for typed in ("123", "true", "yes"):
        res = run(cli, "settings", "set", "welcome.rules", typed, "-g", "1", *url)
        assert res.exit_code == 0, res.output
        assert settings_read.effective_settings(app.db, reg(), "1")["welcome"]["rules"] == typed
    res = run(cli, "settings", "set", "welcome.rules", '"quoted"', "-g", "1", *url)
    assert settings_read.effective_settings(app.db, reg(), "1")["welcome"]["rules"] == "quoted"
    res = run(cli, "settings", "set", "welcome.template", "null", "-g", "1", *url)
    assert (
        res.exit_code == 0
        and settings_read.effective_settings(app.db, reg(), "1")["welcome"]["template"] is None
    )
    res = run(cli, "settings", "set", "welcome.rules_private", "yes", "-g", "1", *url)
    assert res.exit_code == 0 and '"rules_private": true' in res.stdout
    res = run(cli, "settings", "set", "welcome.intro_prompt", "no", "-g", "1", *url)
    assert '"intro_prompt": false' in res.stdout and '"rules": "123"' not in res.stdout
    _, own = stored(app)
    assert own[0]["welcome"]["rules_private"] is True
    assert own[0]["welcome"]["intro_prompt"] is False
    assert own[0]["welcome"]["rules"] == "quoted"


def test_only_text_settings_take_text() -> None:
    r = reg()

    def value(name: str, raw: str) -> Any:
        feature, _, key = name.partition(".")
        return settings_admin.setting_value(r, feature, key, raw)

    assert value("welcome.rules", "123") == "123" and value("welcome.rules", "[1]") == "[1]"
    assert value("welcome.rules", "null") == "" and value("welcome.template", "null") is None
    assert value("welcome.rules", '"null"') == "null"  # the word itself, quoted
    assert value("welcome.template", '"{{ name }}"') == "{{ name }}"
    assert value("welcome.rules", '"a" and "b"') == '"a" and "b"'
    assert value("gate.mode", "true") == "true"
    assert value("welcome.rules_private", "true") is True
    assert value("welcome.rules_private", "yes") == "yes"  # the model reads it as true
    assert value("checkin.keywords", '["a"]') == ["a"] and value("gate.answer", "2") == 2
    assert value("welcome.nope", "1") == 1 and value("nope.x", "[]") == []


def test_the_validated_value_is_stored(app: App) -> None:
    put(app, "checkin", "keywords", [" 打卡 ", "/checkin"], "1")
    put(app, "points", "levels", [{"name": "B", "points": 10}, {"name": "A", "points": 0}], "1")
    _, own = stored(app)
    assert own[0]["checkin"]["keywords"] == ["打卡", "/checkin"]
    assert [lv["name"] for lv in own[0]["points"]["levels"]] == ["A", "B"]


# -- finding 10: command keywords ---------------------------------------------------------


@pytest.mark.parametrize(
    ("feature", "key", "value", "other"),
    [
        ("checkin", "ranking_keywords", ["签到"], "checkin.keywords"),
        ("checkin", "makeup_keywords", ["打卡"], "checkin.keywords"),
        ("points", "leaderboard_keywords", ["打卡"], "checkin.keywords"),
        ("points", "points_keywords", ["/CHECKIN"], "checkin.keywords"),
        ("checkin", "keywords", ["积分"], "points.points_keywords"),
        ("checkin", "keywords", ["/top"], "points.leaderboard_keywords"),
    ],
)
def test_a_keyword_of_two_commands_is_refused_naming_both(
    app: App, feature: str, key: str, value: list[str], other: str
) -> None:
    before = stored(app)
    setting = f"{feature}.{key}"
    pattern = rf"group 3 {setting}: '.+' is in both {setting} and {other}"
    with pytest.raises(InvalidSettings, match=pattern):
        put(app, feature, key, value, "3")
    with pytest.raises(InvalidSettings, match=rf"workspace default {setting}: '.+' is in both"):
        put(app, feature, key, value)
    assert stored(app) == before


def test_a_workspace_keyword_is_checked_against_each_groups_own_lists(app: App) -> None:
    put(app, "points", "points_keywords", ["查分"], "sandbox:creators")
    with pytest.raises(InheritedSettingsRefused) as refused:
        put(app, "checkin", "keywords", ["查分", "签到"])
    assert [g for g, _, _ in refused.value.refused] == ["3 (sandbox:creators)"]
    assert "'查分' is in both checkin.keywords and points.points_keywords" in str(refused.value)
    # a group that keeps its own check-in keywords does not inherit the default
    put(app, "checkin", "keywords", ["签到"], "sandbox:creators")
    put(app, "checkin", "keywords", ["查分", "签到"])


@pytest.mark.parametrize(
    ("feature", "key"),
    [
        ("checkin", "keywords"),
        ("checkin", "makeup_keywords"),
        ("checkin", "ranking_keywords"),
        ("points", "points_keywords"),
        ("points", "leaderboard_keywords"),
    ],
)
def test_empty_and_repeated_keywords_are_refused_in_every_command_list(
    app: App, feature: str, key: str
) -> None:
    with pytest.raises(InvalidSettings, match=rf"^group 1 {feature}.{key}: empty keyword$"):
        put(app, feature, key, [""], "1")
    with pytest.raises(InvalidSettings, match=rf"{feature}.{key}: empty keyword$"):
        put(app, feature, key, ["ok", "  "])
    with pytest.raises(InvalidSettings, match=r"keyword 'zz' is listed twice$"):
        put(app, feature, key, ["zz", " zz"], "1")
    if key != "keywords":  # an empty list turns that command off
        assert put(app, feature, key, [], "1") == {key: []}


def test_stored_lists_from_before_still_work(app: App) -> None:
    """An older database kept lists as typed: the engine reads them without the empty and
    repeated keywords instead of turning the feature off."""
    with app.db.begin() as conn:
        conn.execute(
            update(groups)
            .where(groups.c.id == 1)
            .values(settings={"checkin": {"keywords": ["签到", "签到", ""]}})
        )
    assert settings_read.effective_settings(app.db, reg(), "1")["checkin"]["keywords"] == ["签到"]
    put(app, "checkin", "ranking_size", 5, "1")  # another setting of the feature still saves
    app.engine.directory.invalidate()
    app.handle([app.sandbox.join("course", "u1", "Ann"), app.sandbox.post("course", "u1", "签到")])
    with app.db.connect() as conn:
        texts = [r.payload.get("text", "") for r in conn.execute(select(outbox))]
    assert any("Ann" in t and "1" in t for t in texts if "checked in" in t or "签到" in t)


def test_two_levels_with_one_name_are_refused(app: App) -> None:
    levels = [{"name": "A", "points": 0}, {"name": "A", "points": 5}]
    with pytest.raises(InvalidSettings, match=r"^group 1 points.levels: two levels are named 'A'$"):
        put(app, "points", "levels", levels, "1")


def test_a_whole_model_check_is_said_once(app: App) -> None:
    with pytest.raises(InvalidSettings) as refused:
        put(app, "checkin", "gifts", [{"streak": 7}, {"streak": 7, "points": 3}], "1")
    assert str(refused.value) == "group 1 checkin.gifts: two gifts for the same streak length"
    with pytest.raises(InvalidSettings) as refused:
        put(app, "gate", "mode", "quiz", "1")
    assert str(refused.value) == "group 1 gate.mode: mode 'quiz' needs a question"


def test_settings_show_warns_about_a_keyword_of_two_commands(
    app: App, cli: typer.Typer, database_url: str
) -> None:
    with app.db.begin() as conn:
        conn.execute(
            update(groups)
            .where(groups.c.id == 3)
            .values(settings={"points": {"leaderboard_keywords": ["打卡"]}})
        )
    res = run(cli, "settings", "show", "-g", "3", "--database-url", database_url)
    assert res.exit_code == 0
    assert res.stderr.strip() == (
        "warning [invalid_settings] group 3: '打卡' is in both checkin.keywords and"
        " points.leaderboard_keywords: a message can ask for one thing"
    )


# -- settings profile says what changed -----------------------------------------------------


def test_settings_profile_says_what_changed(app: App, cli: typer.Typer, database_url: str) -> None:
    args = ("settings", "profile", "-g", "1", "--database-url", database_url)
    res = run(cli, *args, "--timezone", "Europe/Berlin", "--language", "zh_CN")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip() == (
        "group 1: time zone Asia/Shanghai → Europe/Berlin; language stays zh_CN"
    )
    res = run(cli, *args, "--title", "Python 入门", lang="zh_CN")
    assert res.exit_code == 0 and "Course" in res.stdout and "Python 入门" in res.stdout


# -- a command keyword that moderation's keywords forbid ----------------------------------

WITH_MODERATION = ("groupops.features.moderation:ModerationFeature", *FEATURES)


def put_all(app: App, feature: str, key: str, value: Any, group: str | None = None) -> None:
    registry = FeatureRegistry.load(WITH_MODERATION, extensions=False)
    settings_admin.set_setting(
        app.db, registry, feature=feature, key=key, value=value, group_ref=group
    )


@pytest.mark.parametrize(
    ("key", "words", "command", "found"),
    [
        ("keywords_zh", ["刷", "积分"], "'积分' of points.points_keywords", "'积分'"),
        ("keywords_zh", ["签 到"], "'签到' of checkin.keywords", "'签到'"),
        ("keywords_en", ["checkin"], "'/checkin' of checkin.keywords", "'checkin'"),
        ("keywords_en", ["to*"], "'/top' of points.leaderboard_keywords", "'to'"),
    ],
)
def test_a_forbidden_word_that_is_a_command_is_refused(
    app: App, key: str, words: list[str], command: str, found: str
) -> None:
    before = stored(app)
    said = rf"{command} would be punished as {found} of moderation\.{key}"
    with pytest.raises(InvalidSettings, match=rf"^group 1 moderation\.{key}: {said}"):
        put_all(app, "moderation", key, words, "1")
    with pytest.raises(InvalidSettings, match=said):
        put_all(app, "moderation", key, words)
    assert stored(app) == before


def test_a_command_that_moderation_forbids_is_refused_the_other_way(app: App) -> None:
    put_all(app, "moderation", "keywords_zh", ["查分"], "1")
    with pytest.raises(InvalidSettings, match=r"'查分' of points\.points_keywords would be"):
        put_all(app, "points", "points_keywords", ["积分", "查分"], "1")
    # a feature that is off answers no command: its keyword may be forbidden
    put_all(app, "points", "enabled", False, "2")
    put_all(app, "moderation", "keywords_zh", ["积分"], "2")
    with pytest.raises(InvalidSettings, match=r"'积分' of points\.points_keywords would be"):
        put_all(app, "points", "enabled", True, "2")
    # words that merely contain a forbidden English word as a part are not found by it
    put_all(app, "moderation", "keywords_en", ["check"], "3")
    _, own = stored(app)
    assert own[2]["moderation"]["keywords_en"] == ["check"]
