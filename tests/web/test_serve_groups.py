"""`groupops serve` makes the three sandbox groups groups of the engine at start, the way
the first event from each would: the admin commands know them before anyone joins."""

from __future__ import annotations

from fastapi.testclient import TestClient

from groupops.engine import admin, settings_admin, settings_read
from groupops.web import WebConfig, create_web_app
from groupops.web.runtime import Runtime
from tests.web.conftest import Person
from tests.web.test_api import configure


def test_the_sandbox_groups_are_groups_before_anyone_joins(runtime: Runtime) -> None:
    listed = admin.list_groups(runtime.app.db)
    assert [(g["id"], g["source"], g["chat_id"], g["title"]) for g in listed] == [
        (1, "sandbox", "course", "Python 入门训练营"),
        (2, "sandbox", "brand", "小鹿咖啡会员群"),
        (3, "sandbox", "creators", "摄影创作者交流群"),
    ]
    # the README tour: rules and the gate set before anyone arrives, by name or by number
    for ref in ("sandbox:course", "1"):
        settings_admin.set_setting(
            runtime.app.db,
            runtime.app.registry,
            feature="welcome",
            key="rules",
            value="1. 不发广告",
            group_ref=ref,
        )
    assert (
        settings_read.effective_settings(runtime.app.db, runtime.app.registry, "1")["welcome"][
            "rules"
        ]
        == "1. 不发广告"
    )
    assert "gate" in settings_read.effective_settings(
        runtime.app.db, runtime.app.registry, "sandbox:brand"
    )


def test_a_restart_keeps_the_groups_and_their_settings(web_config: WebConfig) -> None:
    with TestClient(create_web_app(web_config)) as client:
        rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        configure(rt, "welcome", "rules", "1. 不发广告")
    with TestClient(create_web_app(web_config)) as client:
        rt = client.app.state.runtime  # type: ignore[attr-defined]
        assert len(admin.list_groups(rt.app.db)) == 3
        ming = Person(client)
        ming.join("course", "小明")
        # the rules set before anyone came (privately: the sandbox lets the bot write so)
        ming.wait_for("course", lambda m: m["bot"] and "1. 不发广告" in m["text"])
