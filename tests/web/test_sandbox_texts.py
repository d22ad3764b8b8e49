"""How the sandbox speaks through the API: system lines and refusals name people, never
their user id, with one wording; a mute's end is in the group's time zone; a body that is not
JSON is said to be so."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from groupops.engine import settings_admin
from groupops.platforms.sandbox.tables import sandbox_members
from groupops.storage.tables import groups
from groupops.web.runtime import Runtime
from tests.web.conftest import Person
from tests.web.test_api import AD, bot_says, configure


# -- finding 12: names, one wording, the group's zone ----------------------------------------
def test_system_lines_name_people_and_refusals_have_one_wording(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    ming.wait_for("course", bot_says("欢迎"))
    configure(runtime, "moderation", "ladder", ["mute:1h"])
    ming.post("course", AD)
    muted = ming.wait_for("course", lambda m: m["kind"] == "system" and m["bot"])
    assert muted["text"] == "小明 muted" and "web-" not in muted["text"]
    configure(runtime, "moderation", "ladder", ["kick"])
    hong = person()
    hong.join("course", "小红")
    hong.wait_for("course", bot_says("小红"))
    hong.post("course", AD)
    kicked = hong.wait_for("course", lambda m: m.get("notice", {}).get("event") == "kicked")
    assert kicked["text"] == "小红 kicked"

    tester = person()
    tester.join("brand", "Tester2")
    assert tester.request("POST", "/api/groups/brand/leave").status_code == 200
    again = tester.request("POST", "/api/groups/brand/leave", params={"lang": "en"})
    posted = tester.request(
        "POST", "/api/groups/brand/messages", json={"text": "hi"}, params={"lang": "en"}
    )
    assert again.status_code == posted.status_code == 403
    assert (
        again.json()["error"]
        == posted.json()["error"]
        == {
            "code": "sandbox_refused",
            "message": "Tester2 is not a member of this chat",
            "where": "brand",
        }
    )
    zh = tester.request("POST", "/api/groups/brand/leave", params={"lang": "zh_CN"})
    assert zh.json()["error"]["message"] == "Tester2 不是这个群聊的成员"


def test_a_mute_refusal_says_the_time_in_the_groups_zone(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    ming.wait_for("course", bot_says("欢迎"))
    until = runtime.app.clock.now().replace(microsecond=0) + timedelta(hours=1)
    with runtime.app.db.begin() as conn:
        conn.execute(update(sandbox_members).values(muted_until=until))
        zone = conn.execute(select(groups.c.timezone).where(groups.c.chat_id == "course"))
        assert zone.scalar_one() == "Asia/Shanghai"
    local = until + timedelta(hours=8)
    refused = ming.request(
        "POST", "/api/groups/course/messages", json={"text": "hi"}, params={"lang": "en"}
    )
    assert refused.json()["error"]["message"] == (
        f"小明 is muted until {local:%Y-%m-%d %H:%M} (Asia/Shanghai)"
    )
    settings_admin.set_group_profile(runtime.app.db, "sandbox:course", timezone="Europe/London")
    refused = ming.request("POST", "/api/groups/course/messages", json={"text": "hi"})
    assert refused.json()["error"]["message"].endswith("（Europe/London）")  # page in Chinese


# -- finding 13: a body that is not JSON -----------------------------------------------------
def test_a_body_that_is_not_json_is_said_to_be_so(person: Callable[[], Person]) -> None:
    ming = person()
    r = ming.request(
        "POST",
        "/api/groups/course/join",
        content="name=小明".encode(),
        headers={"content-type": "application/json"},
        params={"lang": "en"},
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_input" and error["field"] == "body"
    assert error["message"].startswith("the request body is not valid JSON: ")
