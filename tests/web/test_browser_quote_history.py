"""A quote of a line older than those the page shows (it opens with the last 50), in a real
Chromium: clicking it loads the older lines up to it and shows it, highlighted, as a chat app
jumps to the message a reply answers; a line gone for this person is said to be gone. And the
quoted line's removal reaches an open page too: the quote turns 消息已删除 / Message deleted,
as on a page opened afterwards (docs/web.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from groupops.web.runtime import Runtime
from tests.web.conftest import LiveServer
from tests.web.test_api import configure
from tests.web.test_api_quotes import COPIED
from tests.web.test_browser import WAIT
from tests.web.test_browser_replies import by_id, joined, say

pytestmark = pytest.mark.browser

#: what the page's own script would send: each body POSTed to the path in turn, as the
#: page's person
_POST = """async ([path, bodies]) => {
  const token = document.cookie.split("; ").find((c) => c.startsWith("csrftoken=")).slice(10);
  for (const body of bodies) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(await r.text());
  }
}"""


def post(page: Any, chat: str, texts: list[str | dict[str, str]]) -> None:
    """Post ``texts`` in ``chat`` as the person of ``page``, without typing each one (a dict:
    the request's body, a reply's ``reply_to`` with it)."""
    bodies = [{"text": t} if isinstance(t, str) else t for t in texts]
    page.evaluate(_POST, [f"/api/groups/{chat}/messages", bodies])


def chatter(page: Any, n: int, start: int = 0) -> None:
    post(page, "course", [f"第 {i} 句闲聊" for i in range(start, start + n)])


def runtime_of(server: LiveServer) -> Runtime:
    runtime: Runtime = server.web.state.runtime
    configure(runtime, "moderation", "detect_flood", False)  # one person fills the history
    return runtime


def reply_to(page: Any, line: Any, text: str) -> None:
    line.get_by_role("button", name="回复", exact=True).click()
    say(page, text)


def answered_long_ago(
    browser: object, server: LiveServer, asked: str, answer: str
) -> tuple[Any, Any, list[str], Any, str]:
    """小明 says ``asked`` in the course group, 小红 answers it (a reply) ten lines later, and
    forty more lines follow; 小红's page opened then shows the answer, quoting ``asked``,
    not the line itself. (小红's page, 小明's, the pages' errors, the answer's line and the
    id of the line it answers.)"""
    from playwright.sync_api import expect

    runtime_of(server)
    errors: list[str] = []
    hong = joined(browser, server.url, "course", "小红", errors)
    ming = joined(browser, server.url, "course", "小明", errors)
    say(ming, asked)
    chatter(ming, 10)
    line = by_id(hong, hong.locator("#messages .message", has_text=asked))
    line_id = str(line.get_attribute("data-id"))
    reply_to(hong, line, answer)
    chatter(ming, 40, start=10)
    hong.reload()  # the last 50 lines: the answer, not the line it answers
    messages = hong.locator("#messages")
    answered = by_id(hong, messages.locator(".message.mine", has_text=answer))
    expect(answered.locator(".quote-text")).to_have_text(asked)
    expect(messages.locator(f'[data-id="{line_id}"]')).to_have_count(0)
    return hong, ming, errors, answered, line_id


def test_clicking_a_quote_of_an_older_line_loads_it_and_shows_it(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    question = "有人用过 asyncio 吗？"
    hong, ming, errors, answer, asked_id = answered_long_ago(
        browser, live_server, question, "用过，很好用"
    )
    messages = hong.locator("#messages")
    answer.locator(".quote").click()
    asked = messages.locator(f'[data-id="{asked_id}"]')
    expect(asked).to_have_class(re.compile(r"\bflash\b"), timeout=WAIT)
    expect(asked).to_be_in_viewport()
    expect(asked.locator(".text")).to_have_text(question)
    # every line between came with it, in order, once
    texts = messages.locator(".message .text").all_text_contents()
    chat_lines = [t for t in texts if t.startswith("第 ")]
    assert chat_lines == [f"第 {i} 句闲聊" for i in range(50)]
    # the loaded lines are lines like any: a reaction to one counts, live
    asked.get_by_role("button", name="👍").click()
    expect(asked.locator(".chip")).to_have_text("👍 1", timeout=WAIT)
    expect(hong.locator("#alert")).to_be_hidden()
    assert errors == []
    for page in (hong, ming):
        page.context.close()


def test_a_quote_of_a_line_gone_for_this_person_says_so(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    runtime = runtime_of(live_server)
    errors: list[str] = []
    first = joined(browser, live_server.url, "course", "先来的", errors)
    configure(runtime, "welcome", "rules", "不发广告，友善交流。")
    ming = joined(browser, live_server.url, "course", "小明", errors)
    rules = by_id(ming, ming.locator("#messages .message.kind-dm"))
    # the private line is 小明's alone (the page offers no reply to it: the API takes one)
    post(ming, "course", [{"text": "收到群规", "reply_to": str(rules.get_attribute("data-id"))}])
    answer = by_id(first, first.locator("#messages .message", has_text="收到群规"))
    quote = answer.locator(".quote")
    expect(quote.locator(".quote-text")).to_have_text("消息已删除")
    quote.click()
    expect(first.locator("#alert")).to_have_text("被回复的消息已不在聊天记录中。", timeout=WAIT)
    # 小明 sees his own: the quote takes him there
    mine = by_id(ming, ming.locator("#messages .message.mine", has_text="收到群规"))
    mine.locator(".quote").click()
    expect(rules).to_have_class(re.compile(r"\bflash\b"), timeout=WAIT)
    assert errors == []
    for page in (first, ming):
        page.context.close()


def test_an_older_quoted_lines_removal_reaches_the_open_page(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    hong, ming, errors, answer, copied_id = answered_long_ago(
        browser, live_server, COPIED, "我去！"
    )
    messages = hong.locator("#messages")
    # 小明 posts the same text in two other groups: every copy is removed, this one too
    for chat in ("brand", "creators"):
        ming.evaluate(_POST, [f"/api/groups/{chat}/join", [{"name": "小明"}]])
        post(ming, chat, [COPIED])
    quote = answer.locator(".quote")
    expect(quote.locator(".quote-text")).to_have_text("消息已删除", timeout=WAIT)
    expect(quote).to_have_class("quote deleted")
    # clicking it shows the removed line, as removed
    quote.click()
    removed = messages.locator(f'[data-id="{copied_id}"]')
    expect(removed).to_have_class(re.compile(r"\bflash\b"), timeout=WAIT)
    expect(removed.locator(".text")).to_have_text("该消息已被移除。")
    expect(messages).not_to_contain_text(COPIED)
    assert errors == []
    for page in (hong, ming):
        page.context.close()
