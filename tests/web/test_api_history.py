"""A quote of a line older than those a page shows (it shows the last 50): GET
/api/groups/{chat_id}/history loads the lines back to it, a page at a time, or says it is gone;
and a poll told of the older lines the shown replies quote (``quoted``) says which were removed
meanwhile, so their quotes read 消息已删除 as on a page opened now (docs/web.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from groupops.web import chat
from groupops.web.runtime import Runtime
from tests.helpers import wait_until
from tests.web.conftest import Person
from tests.web.test_api import AD, bot_says, configure, rules_in_private
from tests.web.test_api_quotes import COPIED, reply


def history(person: Person, chat_id: str, before: int, to: int) -> dict[str, Any]:
    r = person.request("GET", f"/api/groups/{chat_id}/history", params={"before": before, "to": to})
    assert r.status_code == 200, r.text
    return dict(r.json())


def chatter(person: Person, n: int, chat_id: str = "course") -> None:
    """``n`` ordinary lines (flood detection off: see ``quiet``)."""
    for i in range(n):
        assert person.post(chat_id, f"第 {i} 句闲聊").status_code == 200


def quiet(runtime: Runtime) -> None:
    """The course group without flood detection: one person fills the history quickly."""
    configure(runtime, "moderation", "detect_flood", False)


def test_the_lines_back_to_a_quoted_line_come_a_page_at_a_time(
    person: Callable[[], Person], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ming, hong = person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    quiet(runtime)
    asked = ming.post("course", "有人用过 asyncio 吗？").json()["id"]
    chatter(ming, chat.HISTORY + 10)
    answer = reply(hong, "course", "用过，很好用", asked).json()["id"]
    shown = hong.poll("course")["messages"]
    assert shown[-1]["id"] == answer and shown[-1]["quote"]["id"] == asked
    first = shown[0]["id"]
    assert asked < first  # older than the lines shown

    monkeypatch.setattr(chat, "POLL_LIMIT", 25)  # pages of 25: three reach it
    lines: list[dict[str, Any]] = []
    before = first
    for _ in range(3):
        page = history(hong, "course", before, asked)
        assert page["found"] and len(page["messages"]) <= 25
        lines = page["messages"] + lines
        before = page["oldest"]
        if not page["more"]:
            break
    assert not page["more"] and before == asked
    ids = [m["id"] for m in lines]
    assert ids == sorted(ids) and ids[0] == asked and ids[-1] == first - 1
    assert lines[0]["text"] == "有人用过 asyncio 吗？"
    everything = [m["id"] for m in hong.poll("course", after=0)["messages"]]
    assert ids == [i for i in everything if asked <= i < first]  # nothing left out


def test_a_removed_line_is_loaded_and_one_gone_is_said(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    first, ming, rules = rules_in_private(person, runtime)
    # someone else's private line: gone for them, no lines sent
    gone = history(first, "course", rules["id"] + 1, rules["id"])
    assert gone == {"found": False, "messages": [], "more": False, "oldest": rules["id"] + 1}
    assert history(first, "course", 10_000, 9_999)["found"] is False  # no such line
    # their own: found
    assert history(ming, "course", rules["id"] + 1, rules["id"])["found"] is True

    # a line moderation removed is still a line of the chat: loaded, as removed
    for chat_id in ("brand", "creators"):
        ming.join(chat_id, "小明")
    copied = ming.post("course", COPIED).json()["id"]
    for chat_id in ("brand", "creators"):
        ming.post(chat_id, COPIED)
    wait_until(
        lambda: copied in ming.poll("course", after=copied, since=copied - 1)["deleted"],
        what="the course copy removed",
    )
    [line] = history(ming, "course", copied + 1, copied)["messages"]
    assert (line["id"], line["deleted"], line["text"]) == (copied, True, "")


def test_a_poll_says_an_older_quoted_line_was_removed(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    ming, hong = person(), person()
    for chat_id in ("course", "brand", "creators"):
        ming.join(chat_id, "小明")
    hong.join("course", "小红")
    quiet(runtime)
    copied = ming.post("course", COPIED).json()["id"]
    chatter(hong, 10)
    answer = reply(hong, "course", "我去！", copied).json()["id"]
    chatter(hong, chat.HISTORY - 5)
    opened = hong.poll("course")
    assert answer in [m["id"] for m in opened["messages"]]
    since = opened["messages"][0]["id"] - 1
    assert copied <= since  # the quoted line is not shown, the reply is

    for chat_id in ("brand", "creators"):  # the third copy: every copy is removed
        ming.post(chat_id, COPIED)

    def removed() -> bool:
        data = hong.request(
            "GET",
            "/api/groups/course/messages",
            params={"after": opened["last_id"], "since": since, "quoted": [copied]},
        ).json()
        return copied in data["deleted"]

    wait_until(removed, what="the quoted line's removal told")
    # without ``quoted`` a poll looks at the lines shown only, as before
    plain = hong.poll("course", after=opened["last_id"], since=since)
    assert copied not in plain["deleted"]


def test_bad_line_ids_are_refused(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("course", "小明")
    for params in ({"before": 5, "to": 0}, {"before": 0, "to": 1}, {"to": 1}):
        r = ming.request("GET", "/api/groups/course/history", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
    many = {"after": 1, "quoted": list(range(1, chat.QUOTED_LIMIT + 2))}
    r = ming.request("GET", "/api/groups/course/messages", params=many)
    assert r.status_code == 422, r.text
    r = ming.request("GET", "/api/groups/nowhere/history", params={"before": 5, "to": 1})
    assert r.status_code == 404 and r.json()["error"]["field"] == "chat_id"


def test_a_warning_quotes_the_ad_only_while_the_ad_stays(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    """Moderation removes an ad first and then warns in a message of its own (no quote of a
    removed line: Telegram refuses a reply to a deleted message); with
    ``delete_offending_message`` off the ad stays and the warning answers it, quoting it."""
    ming = person()
    ming.join("course", "小明")
    ming.wait_for("course", bot_says("欢迎"))
    removed = ming.post("course", AD).json()["id"]
    warning = ming.wait_for("course", bot_says("警告 1/2"))
    assert warning["reply_to"] == "" and "quote" not in warning
    [ad] = [m for m in ming.poll("course")["messages"] if m["id"] == removed]
    assert ad["deleted"]

    configure(runtime, "moderation", "delete_offending_message", False)
    kept = ming.post("course", "加我微信 def456").json()["id"]
    warning = ming.wait_for("course", bot_says("警告 2/2"))
    assert warning["quote"] == {
        "id": kept,
        "name": "小明",
        "bot": False,
        "text": "加我微信 def456",
        "deleted": False,
    }
