"""Settings stored wrong (by an older version, by hand) are repaired with ``settings set``:
one setting at a time, ``enabled false`` always, a stale key removed with ``null``; a
settings column that is not JSON is one typed line, not a traceback; ``null`` for a text
setting without built-in text is empty, never the word "null"; and the where of settings
errors is said in the operator's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import typer
from sqlalchemy import select, text, update

from groupops.engine import settings_admin, settings_read
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry, SettingsRefused
from groupops.i18n import Catalogs
from groupops.storage.tables import groups
from tests.cli import error_line, run
from tests.conftest import ON_POSTGRES

FEATURES = (
    "groupops.features.gate:GateFeature",
    "groupops.features.welcome:WelcomeFeature",
    "groupops.features.checkin:CheckinFeature",
    "groupops.features.points:PointsFeature",
)
ZH = Catalogs().gettext("zh_CN")

#: group 2's settings as an older version (or a hand edit) left them: two problems in points,
#: a wrong type and a stale key in welcome, an unfinished quiz in gate
BROKEN = {
    "welcome": {"rules": 123, "nonexistent_key": 1},
    "points": {"checkin_points": -5, "levels": "notalist"},
    "gate": {"enabled": True, "mode": "quiz", "question": "", "options": ["a"]},
}


@pytest.fixture
def app(make_app: Callable[..., App]) -> App:
    app = make_app(features=FEATURES)
    for chat in ("course", "brand"):
        app.sandbox.create_chat(chat, chat.title())
        app.handle([app.sandbox.join(chat, "admin", "Admin", is_admin=True)])
    with app.db.begin() as conn:
        conn.execute(update(groups).where(groups.c.id == 2).values(settings=BROKEN))
    return app


def reg() -> FeatureRegistry:
    return FeatureRegistry.load(FEATURES, extensions=False)


def put(app: App, feature: str, key: str, value: Any) -> dict[str, Any]:
    return settings_admin.set_setting(
        app.db, reg(), feature=feature, key=key, value=value, group_ref="2"
    )


def own(app: App) -> Any:
    with app.db.connect() as conn:
        return conn.execute(select(groups.c.settings).where(groups.c.id == 2)).scalar_one()


def test_each_problem_is_fixed_by_its_own_setting(app: App) -> None:
    assert put(app, "welcome", "rules", "No ads")["rules"] == "No ads"
    put(app, "points", "checkin_points", 5)
    with pytest.raises(
        SettingsRefused,
        match=r"^group 2 points.checkin_points: from 0 to 10000$",
    ):
        put(app, "points", "checkin_points", -1)  # the value it sets is itself invalid
    put(app, "points", "levels", [{"name": "A", "points": 0}])
    assert own(app)["points"] == {"checkin_points": 5, "levels": [{"name": "A", "points": 0}]}
    view = settings_read.settings_view(app.db, reg(), "2")
    assert set(view.invalid) == {"welcome", "gate"}  # the stale key; the quiz


def test_enabled_false_is_always_taken_and_a_quiz_is_finished_in_any_order(app: App) -> None:
    put(app, "gate", "enabled", False)
    put(app, "gate", "options", ["Dune", "三体"])  # still no question: not a new problem
    put(app, "gate", "question", "Which book?")
    assert "gate" not in settings_read.settings_view(app.db, reg(), "2").invalid


def test_a_change_that_adds_a_problem_is_refused(app: App) -> None:
    put(app, "gate", "mode", "captcha")
    put(app, "gate", "options", [])
    assert "gate" not in settings_read.settings_view(app.db, reg(), "2").invalid
    with app.db.begin() as conn:
        gate = {"mode": "captcha", "question": "", "timeout_seconds": -1}
        conn.execute(update(groups).where(groups.c.id == 2).values(settings={"gate": gate}))
    with pytest.raises(SettingsRefused) as refused:
        put(app, "gate", "mode", "quiz")  # a quiz without a question is a new problem
    assert str(refused.value) == "group 2 gate.mode: mode 'quiz' needs a question"
    put(app, "gate", "timeout_seconds", 600)
    assert own(app)["gate"]["timeout_seconds"] == 600


def test_null_removes_a_stale_key(app: App, cli: typer.Typer, database_url: str) -> None:
    url = ("--database-url", database_url)
    res = run(cli, "settings", "set", "welcome.nonexistent_key", "null", "-g", "2", *url)
    assert res.exit_code == 0, res.output
    assert " ".join(res.stdout.split()).startswith(
        "welcome.nonexistent_key removed from the settings stored for group 2: welcome has no"
        " such setting now."
    )
    assert own(app)["welcome"] == {"rules": 123}
    res = run(cli, "settings", "set", "welcome.rules", "Be kind", "-g", "2", *url, lang="zh_CN")
    assert res.exit_code == 0, res.output
    assert "welcome" not in settings_read.settings_view(app.db, reg(), "2").invalid
    res = run(cli, "settings", "set", "welcome.nonexistent_key", "null", "-g", "2", *url)
    assert "no setting 'nonexistent_key' in welcome" in error_line(res)  # gone: unknown


def test_null_for_a_text_without_built_in_text_is_empty(
    app: App, cli: typer.Typer, database_url: str
) -> None:
    url = ("--database-url", database_url)
    assert run(cli, "settings", "set", "welcome.rules", "No ads", "-g", "1", *url).exit_code == 0
    res = run(cli, "settings", "set", "welcome.rules", "null", "-g", "1", *url)
    assert res.exit_code == 0 and '"rules": ""' in res.stdout, res.output
    assert settings_read.effective_settings(app.db, reg(), "1")["welcome"]["rules"] == ""


@pytest.mark.skipif(
    ON_POSTGRES, reason="a PostgreSQL JSONB column cannot hold text that is no JSON"
)
def test_settings_that_are_not_json_are_one_line(
    app: App, cli: typer.Typer, database_url: str
) -> None:
    with app.db.begin() as conn:
        conn.execute(text("UPDATE groups SET settings = '{not json' WHERE id = 1"))
    url = ("--database-url", database_url)
    res = run(cli, "settings", "show", "-g", "1", *url)
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    assert '"welcome"' in res.stdout  # the rest still shows
    line = res.stderr.strip()
    assert line.startswith("warning [invalid_settings] group 1: stored settings are not valid JSON")
    assert line.endswith("`settings set` stores new ones in their place") and "\n" not in line
    zh = run(cli, "settings", "show", "-g", "1", *url, lang="zh_CN")
    assert zh.stderr.startswith("警告 [invalid_settings] 群 1：已保存的设置不是有效的 JSON"), (
        zh.stderr
    )
    res = run(cli, "settings", "set", "welcome.rules", "No ads", "-g", "1", *url)
    assert res.exit_code == 0, res.output
    assert settings_read.settings_view(app.db, reg(), "1").unreadable == []
    assert settings_read.effective_settings(app.db, reg(), "1")["welcome"]["rules"] == "No ads"


def test_the_where_of_settings_errors_is_chinese(
    app: App, cli: typer.Typer, database_url: str
) -> None:
    url = ("--database-url", database_url)
    res = run(cli, "settings", "show", "-g", "2", *url, lang="zh_CN")
    assert "警告 [invalid_settings] 群 2 gate：" in res.stderr and "group 2" not in res.stderr
    put(app, "gate", "mode", "captcha")
    put(app, "gate", "options", [])
    for key, value, group in (
        ("options", ["a", "b", "c"], None),
        ("question", "Q?", "1"),
        ("mode", "quiz", "1"),
        ("answer", 3, "1"),
    ):
        settings_admin.set_setting(
            app.db, reg(), feature="gate", key=key, value=value, group_ref=group
        )
    res = run(cli, "settings", "set", "gate.options", '["一", "二"]', *url, lang="zh_CN")
    line = error_line(res)
    assert line.startswith("错误 [invalid_settings] 工作区 default gate.options：未保存："), line
    res = run(cli, "settings", "set", "points.checkin_points", "-1", "-g", "2", *url, lang="zh_CN")
    assert error_line(res).startswith("错误 [invalid_settings] 群 2 points.checkin_points：")
