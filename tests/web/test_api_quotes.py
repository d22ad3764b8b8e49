"""A reply says what it answers, as chat apps show it: each line that replies carries a
``quote`` of the line answered (its author and the start of its text, cut with an ellipsis),
the bot's replies (a check-in's confirmation) included. A line moderation removed is quoted
as deleted, without its text, and can no longer be answered, as Telegram refuses "message to
be replied not found" (docs/web.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groupops.web.chat import QUOTE_CHARS
from groupops.web.runtime import Runtime
from tests.helpers import wait_until
from tests.web.conftest import Person
from tests.web.test_api import bot_says, rules_in_private

#: posted in three groups within minutes: moderation's cross_group rule removes every copy
COPIED = "周末一起去爬山吗？报名请私聊群主，名额有限"


def reply(person: Person, chat: str, text: str, to: int, **params: str) -> Any:
    return person.request(
        "POST",
        f"/api/groups/{chat}/messages",
        json={"text": text, "reply_to": str(to)},
        params=params,
    )


def line(person: Person, chat: str, line_id: int) -> dict[str, Any]:
    """The line as a page opening the group now gets it."""
    return next(m for m in person.poll(chat)["messages"] if m["id"] == line_id)


def test_a_members_reply_quotes_the_line_it_answers(person: Callable[[], Person]) -> None:
    ming, hong = person(), person()
    ming.join("course", "小明")
    hong.join("course", "小红")
    asked = ming.post("course", "列表推导式\n和 map 哪个快？").json()["id"]
    answer = reply(hong, "course", "推导式一般更快", asked)
    assert answer.status_code == 200, answer.text
    seen = ming.wait_for("course", lambda m: m["id"] == answer.json()["id"])
    assert seen["reply_to"] == str(asked)
    assert seen["quote"] == {
        "id": asked,
        "name": "小明",
        "bot": False,
        "text": "列表推导式 和 map 哪个快？",  # on one line
        "deleted": False,
    }
    assert "quote" not in line(ming, "course", asked)  # no reply: no quote

    # a long line is quoted by its start, cut with an ellipsis
    long = ming.post("course", "这是一段很长的自我介绍。" * 20).json()["id"]
    quoted = line(ming, "course", reply(hong, "course", "欢迎！", long).json()["id"])["quote"]
    assert len(quoted["text"]) == QUOTE_CHARS and quoted["text"].endswith("…")
    assert quoted["text"].startswith("这是一段很长的自我介绍。这是")


def test_the_bots_check_in_reply_quotes_the_check_in(person: Callable[[], Person]) -> None:
    ming = person()
    ming.join("course", "小明")
    checkin = ming.post("course", "签到").json()["id"]
    confirmed = ming.wait_for("course", bot_says("签到成功"))
    assert confirmed["reply_to"] == str(checkin)
    assert confirmed["quote"] == {
        "id": checkin,
        "name": "小明",
        "bot": False,
        "text": "签到",
        "deleted": False,
    }
    # a member's reply to the bot's line quotes the bot
    thanks = reply(ming, "course", "谢谢", confirmed["id"]).json()["id"]
    quote = line(ming, "course", thanks)["quote"]
    assert (quote["name"], quote["bot"]) == ("groupops", True)
    assert quote["text"].startswith("✅ 小明 签到成功")


def test_a_reply_to_a_line_moderation_removed_quotes_it_as_deleted(
    person: Callable[[], Person],
) -> None:
    ming, hong = person(), person()
    for chat in ("course", "brand", "creators"):
        ming.join(chat, "小明")
    hong.join("course", "小红")
    first = ming.post("course", COPIED).json()["id"]
    answer = reply(hong, "course", "我去！", first)
    assert answer.status_code == 200, answer.text
    assert line(hong, "course", answer.json()["id"])["quote"]["text"] == COPIED
    shown = hong.poll("course")["last_id"]
    # the same text in the two other groups: moderation removes every copy (cross_group)
    for chat in ("brand", "creators"):
        assert ming.post(chat, COPIED).status_code == 200
    wait_until(
        lambda: first in hong.poll("course", after=shown, since=0)["deleted"],
        what="the course copy removed",
    )

    # a page opening now gets the quote deleted, without the text
    quote = line(hong, "course", answer.json()["id"])["quote"]
    assert quote == {"id": first, "name": "小明", "bot": False, "text": "", "deleted": True}
    assert COPIED not in str(hong.poll("course", after=0))

    # and it can no longer be answered: refused, in the page's language, nothing posted
    before = hong.poll("course")["last_id"]
    zh = reply(hong, "course", "还有名额吗", first)
    en = reply(hong, "course", "还有名额吗", first, lang="en")
    for r, message in (
        (zh, f"消息 {first} 已被删除，无法回复"),
        (en, f"message {first} was removed: it cannot be replied to"),
    ):
        assert r.status_code == 404, r.text
        assert r.json()["error"] == {
            "code": "not_found",
            "message": message,
            "field": "reply_to",
            "where": "course",
        }
    assert hong.poll("course")["last_id"] == before


def test_a_quote_of_a_private_line_shows_only_to_its_person(
    person: Callable[[], Person], runtime: Runtime
) -> None:
    first, ming, rules = rules_in_private(person, runtime)
    answer = reply(ming, "course", "收到群规", rules["id"]).json()["id"]
    assert line(ming, "course", answer)["quote"]["text"].startswith(rules["text"][:10])
    # everyone else sees that it answers something, never the private text
    quote = line(first, "course", answer)["quote"]
    assert quote == {"id": rules["id"], "name": "", "bot": False, "text": "", "deleted": True}
