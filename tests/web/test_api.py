"""The web chat's JSON API over the real App (live loops, real clock, the test database):
joins, welcome, moderation, the join gate's buttons, CSRF, bad input and oversized bodies."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from groupops.engine import settings_admin
from groupops.features.welcome.tables import welcome_bursts
from groupops.platforms.sandbox.tables import sandbox_members, sandbox_messages
from groupops.storage.tables import events, outbox
from groupops.web.runtime import Runtime
from groupops.web.security import PERSON_COOKIE
from tests.helpers import wait_until
from tests.web.conftest import Person

AD = "加我微信 abc123"


def bot_says(fragment: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["bot"] and m["kind"] == "message" and fragment in m["text"]


def people_lines(runtime: Runtime) -> int:
    """Messages people wrote in the sandbox (the bot's and join/leave lines aside)."""
    q = (
        select(func.count())
        .select_from(sandbox_messages)
        .where(sandbox_messages.c.user_id != "bot", sandbox_messages.c.kind == "message")
    )
    with runtime.app.db.connect() as conn:
        n = conn.execute(q).scalar_one()
        conn.rollback()
    return int(n)


def configure(runtime: Runtime, feature: str, key: str, value: Any) -> None:
    """An operator's setting for the course group, seen by the engine at once."""
    settings_admin.set_setting(
        runtime.app.db,
        runtime.app.registry,
        feature=feature,
        key=key,
        value=value,
        group_ref="sandbox:course",
    )
    runtime.app.engine.directory.invalidate()


# -- the page -------------------------------------------------------------------------------
def test_page_speaks_chinese_by_default_and_english_on_request(client: TestClient) -> None:
    zh = client.get("/")
    assert zh.status_code == 200
    assert '<html lang="zh-CN">' in zh.text
    assert "<title>groupops 沙盒群聊</title>" in zh.text
    assert "script-src 'self'" in zh.headers["content-security-policy"]
    en = client.get("/", params={"lang": "en"})
    assert '<html lang="en">' in en.text and "<title>groupops sandbox chat</title>" in en.text
    # the choice is remembered
    again = client.get("/")
    assert '<html lang="en">' in again.text
    # the script and the stylesheet come from the package, nothing from elsewhere
    for asset in re.findall(r'(?:src|href)="([^"?#]+)', zh.text):
        if asset.startswith("?"):
            continue
        assert asset.startswith("/static/") or asset.startswith("http://testserver/static/")
        assert client.get(asset).status_code == 200


def test_a_browser_asking_for_english_gets_english(client: TestClient) -> None:
    r = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in r.text
    r = client.get("/", headers={"Accept-Language": "zh-TW,zh;q=0.9"})
    assert '<html lang="zh-CN">' in r.text


# -- groups and joining ---------------------------------------------------------------------
def test_the_demo_groups_exist_and_count_members(person: Callable[[], Person]) -> None:
    ming = person()
    groups = ming.request("GET", "/api/groups").json()["groups"]
    assert [g["chat_id"] for g in groups] == ["course", "brand", "creators"]
    assert all(g["members"] == 0 and g["status"] is None for g in groups)
    ming.join("course", "小明")
    groups = {g["chat_id"]: g for g in ming.request("GET", "/api/groups").json()["groups"]}
    assert groups["course"]["members"] == 1 and groups["course"]["status"] == "active"
    # another browser sees the count, not someone else's status
    other = person().request("GET", "/api/groups").json()["groups"]
    assert other[0]["members"] == 1 and other[0]["status"] is None


def joins_stored(runtime: Runtime) -> int:
    """Joins the engine has stored (every one it was handed)."""
    q = select(func.count()).where(events.c.kind == "member_joined")
    with runtime.app.db.connect() as conn:
        n = conn.execute(q).scalar_one()
        conn.rollback()
    return int(n)


def nothing_to_deliver(runtime: Runtime) -> bool:
    """Nothing waits in the outbox, and welcome holds no joins back for a combined welcome."""
    waiting = select(func.count()).where(outbox.c.status.in_(("pending", "sending")))
    with runtime.app.db.connect() as conn:
        n = (
            conn.execute(waiting).scalar_one()
            + conn.execute(select(func.count()).select_from(welcome_bursts)).scalar_one()
        )
        conn.rollback()
    return int(n) == 0


def test_join_is_welcomed_by_the_bot(person: Callable[[], Person], runtime: Runtime) -> None:
    ming = person()
    result = ming.join("course", "小明")
    assert result["joined"] is True and result["me"]["status"] == "active"
    welcome = ming.wait_for("course", bot_says("小明"))
    assert "Python 入门训练营" in welcome["text"]  # the group's title, in Chinese
    lines = ming.poll("course")["messages"]  # the page's first look: the latest lines
    notice = next(m for m in lines if m["kind"] == "system")
    assert notice["notice"] == {"event": "joined", "name": "小明"} and notice["mine"]
    # joining again while in the group changes nothing: the engine is handed no join, and
    # once everything queued is delivered there is still one welcome
    joins = joins_stored(runtime)
    assert ming.join("course", "小明")["joined"] is False
    assert joins_stored(runtime) == joins
    wait_until(lambda: nothing_to_deliver(runtime), what="the outbox to be delivered")
    welcomes = [m for m in ming.poll("course")["messages"] if bot_says("小明")(m)]
    assert len(welcomes) == 1


def test_messages_reach_other_people(person: Callable[[], Person]) -> None:
    ming, hong = person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    r = ming.post("course", "大家好")
    assert r.status_code == 200
    seen = hong.wait_for("course", lambda m: m["text"] == "大家好")
    assert seen["name"] == "小明" and not seen["mine"] and not seen["bot"]
    assert seen["id"] == r.json()["id"]
    mine = ming.wait_for("course", lambda m: m["text"] == "大家好")
    assert mine["mine"]


def test_an_ad_is_removed_and_the_poster_warned(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("course", "小明")
    ming.wait_for("course", bot_says("欢迎"))
    shown_before = ming.last
    ad_id = ming.post("course", AD).json()["id"]
    warning = ming.wait_for("course", bot_says("警告 1/2"))
    assert "小明" in warning["text"]
    # a page that showed the ad before its removal learns about the removal
    data = ming.poll("course", after=ming.last, since=shown_before)
    assert ad_id in data["deleted"]
    # a page opening now gets the line already removed, without its text
    ad = next(m for m in ming.poll("course")["messages"] if m["id"] == ad_id)
    assert ad["deleted"] and ad["text"] == ""


def test_a_muted_person_is_told_why_the_post_is_refused(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    ming.wait_for("course", bot_says("欢迎"))
    configure(runtime, "moderation", "ladder", ["mute:1h"])
    ming.post("course", AD)
    mute_notice = ming.wait_for("course", lambda m: m["kind"] == "system" and m["bot"])
    assert mute_notice["notice"] == {"event": "muted", "name": "小明"}  # a name, not an id
    ming.wait_for("course", bot_says("禁言"))
    me = ming.poll("course")["me"]
    assert me["status"] == "active" and me["muted_until"] is not None
    before = people_lines(runtime)
    refused = ming.post("course", "我可以说话吗")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "sandbox_refused" and "小明 已被禁言至" in error["message"]
    assert people_lines(runtime) == before
    refused = ming.request(
        "POST", "/api/groups/course/messages", json={"text": "can I talk?"}, params={"lang": "en"}
    )
    assert "小明 is muted until" in refused.json()["error"]["message"]


def test_a_kicked_person_may_not_post_and_is_kept_out(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    ming.wait_for("course", bot_says("欢迎"))
    configure(runtime, "moderation", "ladder", ["kick"])
    ming.post("course", AD)
    kicked = ming.wait_for("course", lambda m: m.get("notice", {}).get("event") == "kicked")
    assert kicked["notice"]["name"] == "小明"
    ming.wait_for("course", bot_says("已被移出本群"))
    assert ming.poll("course")["me"]["status"] == "kicked"
    refused = ming.post("course", "hello?")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "sandbox_refused"
    assert refused.json()["error"]["message"] == "小明 不是这个群聊的成员"
    # the platform lets them back in; moderation's blacklist removes them again
    ming.join("course", "小明")
    ming.wait_for(
        "course",
        lambda m: m.get("notice", {}).get("event") == "kicked" and m["id"] > kicked["id"],
    )
    assert ming.poll("course")["me"]["status"] == "kicked"


def test_leaving_and_coming_back(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("course", "小明")
    r = ming.request("POST", "/api/groups/course/leave")
    assert r.status_code == 200
    data = ming.poll("course")
    assert data["me"]["status"] == "left"
    left = next(m for m in data["messages"] if m.get("notice", {}).get("event") == "left")
    assert left["notice"]["name"] == "小明"
    assert ming.post("course", "still here?").status_code == 403
    again = ming.request("POST", "/api/groups/course/leave")
    assert again.status_code == 403 and again.json()["error"]["code"] == "sandbox_refused"
    assert ming.join("course", "小明 2")["me"] == {
        "status": "active",
        "name": "小明 2",
        "muted_until": None,
        "muted_until_local": None,
        "admin": False,
    }
    assert ming.post("course", "我回来了").status_code == 200


def test_the_join_gate_is_answered_with_its_buttons(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    first = person()
    first.join("course", "先来的")  # the group exists once someone joined
    configure(runtime, "gate", "enabled", True)
    ming = person()
    ming.join("course", "小明")
    question = ming.wait_for("course", lambda m: bool(m.get("buttons")))
    a, b = (int(n) for n in re.findall(r"(\d+)\s*[+＋]\s*(\d+)", question["text"])[0])
    assert ming.post("course", "让我说话").status_code == 403  # muted until answered
    right = next(btn for row in question["buttons"] for btn in row if btn["text"] == str(a + b))
    wrong_message = ming.request(
        "POST", "/api/groups/course/buttons", json={"message_id": 999999, "data": right["data"]}
    )
    assert wrong_message.status_code == 404
    pressed = ming.request(
        "POST",
        "/api/groups/course/buttons",
        json={"message_id": question["id"], "data": right["data"]},
    )
    assert pressed.status_code == 200, pressed.text
    ming.wait_for("course", bot_says("欢迎 小明"))
    assert ming.poll("course")["me"]["muted_until"] is None


# -- defences -------------------------------------------------------------------------------
def test_state_changes_need_the_csrf_token(client: TestClient, runtime: Runtime) -> None:
    client.get("/")
    token = client.cookies["csrftoken"]
    before = people_lines(runtime)
    missing = client.post("/api/groups/course/join?lang=en", json={"name": "小明"})
    assert missing.status_code == 403
    assert missing.json()["error"] == {
        "code": "csrf_failed",
        "message": "missing or wrong CSRF token: send the csrftoken cookie's value"
        " in the X-CSRFToken header",
        "field": "x-csrftoken",
    }
    wrong = client.post(
        "/api/groups/course/join", json={"name": "小明"}, headers={"X-CSRFToken": "forged"}
    )
    assert wrong.status_code == 403
    assert people_lines(runtime) == before
    ok = client.post(
        "/api/groups/course/join", json={"name": "小明"}, headers={"X-CSRFToken": token}
    )
    assert ok.status_code == 200


def test_a_token_from_an_earlier_secret_is_replaced(client: TestClient) -> None:
    stale = "eyJhIjoiYiJ9.signed-by-another-secret"
    r = client.get("/", headers={"Cookie": f"csrftoken={stale}"})
    issued = re.search(r"csrftoken=([^;]+)", r.headers.get("set-cookie", ""))
    assert issued is not None and issued.group(1) != stale
    # the fresh token works
    ok = client.post(
        "/api/groups/course/join",
        json={"name": "小明"},
        headers={"Cookie": f"csrftoken={issued.group(1)}", "X-CSRFToken": issued.group(1)},
    )
    assert ok.status_code == 200, ok.text


def test_identity_cannot_be_forged(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("course", "小明")
    mallory = person()
    stolen_id = ming.cookies[PERSON_COOKIE].rpartition(".")[0]
    mallory.cookies.set(PERSON_COOKIE, f"{stolen_id}.0000")
    r = mallory.post("course", "我是小明")
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_joined"


def error_of(r: Any) -> dict[str, Any]:
    body: dict[str, Any] = r.json()["error"]
    return body


def test_bad_input_is_refused_naming_the_field(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", "/api/groups/course/join", {}, 422, "name"),
        ("POST", "/api/groups/course/join", {"name": "   "}, 422, "name"),
        ("POST", "/api/groups/course/join", {"name": "x" * 65}, 422, "name"),
        ("POST", "/api/groups/course/join", {"name": "a\u0000b"}, 422, "name"),
        ("POST", "/api/groups/course/join", {"name": 12}, 422, "name"),
        ("POST", "/api/groups/course/join", {"name": "小明", "admin": True}, 422, "admin"),
        ("POST", "/api/groups/nowhere/join", {"name": "小明"}, 404, "chat_id"),
    ]
    for method, path, body, status, field in cases:
        r = ming.request(method, path, json=body)
        assert r.status_code == status, (body, r.text)
        assert error_of(r)["field"] == field, (body, r.text)
        assert error_of(r)["message"]
    r = ming.request("POST", "/api/groups/course/join", content=b"{not json")
    assert r.status_code == 422 and error_of(r)["code"] == "invalid_input"
    r = ming.request("GET", "/api/groups/course/messages", params={"after": -1})
    assert r.status_code == 422 and error_of(r)["field"] == "after"
    r = ming.request("GET", "/api/groups/nowhere/messages")
    assert r.status_code == 404 and error_of(r)["field"] == "chat_id"
    # posting before joining
    r = ming.post("course", "hello")
    assert r.status_code == 403 and error_of(r)["code"] == "not_joined"
    ming.join("course", "小明")
    for text in ("", "   \n", "x" * 4097):
        r = ming.post("course", text)
        assert r.status_code == 422 and error_of(r)["field"] == "text", r.text
    r = ming.request("POST", "/api/groups/course/buttons", json={"message_id": 0, "data": "x"})
    assert r.status_code == 422 and error_of(r)["field"] == "message_id"
    assert people_lines(runtime) == 0  # nothing half-written


def test_a_one_megabyte_message_is_refused_cleanly(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming = person()
    ming.join("course", "小明")
    before = people_lines(runtime)
    r = ming.post("course", "广告" * (512 * 1024))
    assert r.status_code == 413
    assert error_of(r) == {
        "code": "too_large",
        "message": "请求体超过 65536 字节",  # the page's language: Chinese, the browser said none
        "field": "body",
    }

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        yield b'{"text": "'
        for _ in range(64):
            yield b"x" * 16384
        yield b'"}'

    r = ming.request(
        "POST",
        "/api/groups/course/messages",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413 and error_of(r)["code"] == "too_large"
    assert people_lines(runtime) == before
    assert ming.post("course", "still fine").status_code == 200


def test_names_are_kept_literally(person: Callable[[], Person], runtime: Runtime) -> None:
    ming = person()
    name = "<script>alert(1)</script>"
    assert ming.join("course", name)["me"]["name"] == name
    notice = next(m for m in ming.poll("course")["messages"] if m["kind"] == "system")
    assert notice["notice"]["name"] == name
    with runtime.app.db.connect() as conn:
        stored = conn.execute(select(sandbox_members.c.name)).scalar_one()
        conn.rollback()
    assert stored == name


def rules_in_private(
    person: Callable[[], Person], runtime: Runtime
) -> tuple[Person, Person, dict[str, Any]]:
    """The course group with rules: someone in it first, then 小明 joins and the bot sends him
    the rules privately. The first person, 小明, and the rules' line as 小明 sees it."""
    first = person()
    first.join("course", "先来的")  # the group exists once someone joined
    configure(runtime, "welcome", "rules", "不发广告，友善交流。")
    ming = person()
    ming.join("course", "小明")
    return first, ming, ming.wait_for("course", lambda m: m["kind"] == "dm")


def test_the_bots_private_messages_reach_only_their_person(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    first, _ming, rules = rules_in_private(person, runtime)
    assert rules["bot"] and "不发广告" in rules["text"]
    first.wait_for("course", bot_says("欢迎 小明"))
    everything = first.poll("course", after=0)["messages"]
    assert all(m["kind"] != "dm" for m in everything)
    assert all("不发广告" not in m["text"] for m in everything)


def test_refusals_are_in_the_pages_language(person: Callable[[], Person]) -> None:
    """The page shows an error's message as it comes: Chinese for a Chinese page (the
    default), English for ?lang=en or an English browser; code and field stay the same."""
    ming = person()
    zh = ming.request("POST", "/api/groups/course/join", json={"name": "x" * 65})
    assert error_of(zh)["message"] == "名字有 65 个字符，最多 64 个"
    assert error_of(zh)["code"] == "invalid_input" and error_of(zh)["field"] == "name"
    en = ming.request("POST", "/api/groups/course/join", json={"name": "  "}, params={"lang": "en"})
    assert error_of(en)["message"] == "the name is empty"
    browser = ming.request(
        "GET", "/api/groups/nowhere/messages", headers={"Accept-Language": "en-US"}
    )
    assert error_of(browser)["message"] == "no sandbox group 'nowhere'"
    assert error_of(ming.request("GET", "/api/groups/nowhere/messages"))["message"] == (
        "没有沙盒群 'nowhere'"
    )
