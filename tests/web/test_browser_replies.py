"""Replies in a real Chromium, as chat apps show them: a reply has a small quote above its
text (the answered line's author and the start of its text); clicking the quote shows the
answered line. A person replies with a line's 回复 button (or by double-clicking the line): a
"回复 …" bar above the input, with a cancel. A line moderation removed is quoted as 消息已删除,
and a reply to it is refused with a clear message. A quoted text made of HTML stays text."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_api_quotes import COPIED
from tests.web.test_browser import WAIT

pytestmark = pytest.mark.browser


def joined(
    browser: Any, url: str, chat: str, name: str, errors: list[str], lang: str = "zh-CN"
) -> Any:
    """A new browser (its own person) with ``chat`` open, joined as ``name``."""
    from playwright.sync_api import expect

    page = browser.new_context(locale=lang).new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{url}/#{chat}")
    page.locator("#join-name").fill(name)
    page.locator("#join").click()
    expect(page.locator("#send-form")).to_be_visible(timeout=WAIT)
    return page


def by_id(page: Any, found: Any) -> Any:
    """The one line ``found`` finds now, by its id (a reply quoting its text comes later)."""
    from playwright.sync_api import expect

    expect(found).to_have_count(1, timeout=WAIT)
    return page.locator(f'#messages [data-id="{found.get_attribute("data-id")}"]')


def say(page: Any, text: str) -> None:
    from playwright.sync_api import expect

    box = page.locator("#text")
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("", timeout=WAIT)


def test_the_check_in_reply_quotes_it_and_a_member_replies_to_the_bot(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    page = joined(browser, live_server.url, "course", "小明", errors)
    messages = page.locator("#messages")
    say(page, "签到")
    checkin = by_id(page, messages.locator(".message.mine", has_text="签到"))
    confirmed = by_id(page, messages.locator(".message.bot", has_text="签到成功"))
    # the bot's confirmation quotes the check-in: its author and its text, above the reply
    quote = confirmed.locator(".quote")
    expect(quote.locator(".quote-name")).to_have_text("小明")
    expect(quote.locator(".quote-text")).to_have_text("签到")
    expect(confirmed.locator(".quote + .text")).to_contain_text("✅ 小明 签到成功")
    expect(checkin.locator(".quote")).to_have_count(0)  # no reply: no quote
    # clicking the quote shows the check-in, highlighted
    quote.click()
    expect(checkin).to_have_class(re.compile(r"\bflash\b"), timeout=WAIT)
    expect(checkin).to_be_in_viewport()

    # 小明 answers the bot: the reply bar names it and can be cancelled
    confirmed.get_by_role("button", name="回复", exact=True).click()
    bar = page.locator("#reply-bar")
    expect(bar).to_be_visible()
    expect(bar.locator("#reply-name")).to_have_text("回复 groupops")
    expect(bar.locator("#reply-text")).to_contain_text("✅ 小明 签到成功")
    expect(page.locator("#text")).to_be_focused()
    page.get_by_role("button", name="取消回复").click()
    expect(bar).to_be_hidden()
    say(page, "没有引用")
    plain = messages.locator(".message.mine", has_text="没有引用")
    expect(plain).to_have_count(1, timeout=WAIT)
    expect(plain.locator(".quote")).to_have_count(0)

    # double-clicking the line starts a reply too; sent, the line quotes the bot
    confirmed.locator(".text").dblclick()
    expect(bar.locator("#reply-name")).to_have_text("回复 groupops")
    say(page, "谢谢机器人")
    expect(bar).to_be_hidden()
    thanks = messages.locator(".message.mine", has_text="谢谢机器人")
    expect(thanks.locator(".quote .quote-name")).to_have_text("groupops", timeout=WAIT)
    expect(thanks.locator(".quote .quote-text")).to_contain_text("✅ 小明 签到成功")

    # in English the page's words change, the quote stays
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=WAIT)
    thanks = page.locator("#messages .message.mine", has_text="谢谢机器人")
    expect(thanks.locator(".quote .quote-name")).to_have_text("groupops", timeout=WAIT)
    thanks.get_by_role("button", name="Reply", exact=True).click()
    expect(page.locator("#reply-name")).to_have_text("Replying to 小明")
    expect(page.get_by_role("button", name="Cancel the reply")).to_be_visible()
    assert errors == []
    page.context.close()


def test_a_removed_lines_quote_says_deleted_and_it_cannot_be_answered(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import expect

    errors: list[str] = []
    hong = joined(browser, live_server.url, "course", "小红", errors)
    ming = joined(browser, live_server.url, "course", "小明", errors)
    say(ming, COPIED)
    copied = by_id(hong, hong.locator("#messages .message", has_text=COPIED))
    copied.get_by_role("button", name="回复", exact=True).click()
    expect(hong.locator("#reply-name")).to_have_text("回复 小明")
    say(hong, "我去！")
    answer = hong.locator("#messages .message.mine", has_text="我去！")
    expect(answer.locator(".quote-text")).to_have_text(COPIED, timeout=WAIT)

    # 小红 starts another reply to it; meanwhile 小明 posts the same text in two other
    # groups: moderation removes every copy (cross_group), the course one too
    copied.locator(".text").dblclick()
    hong.locator("#text").fill("还有名额吗")
    for title in ("小鹿咖啡会员群", "摄影创作者交流群"):
        ming.get_by_role("button", name=title).click()
        expect(ming.locator("#room-title")).to_have_text(title)
        ming.locator("#join-name").fill("小明")
        ming.locator("#join").click()
        expect(ming.locator("#send-form")).to_be_visible(timeout=WAIT)
        say(ming, COPIED)

    # live: the quote says deleted, and so does the reply bar
    quote = answer.locator(".quote")
    expect(quote.locator(".quote-text")).to_have_text("消息已删除", timeout=WAIT)
    expect(quote).to_have_class("quote deleted")
    expect(hong.locator("#reply-text")).to_have_text("消息已删除")
    # sending is refused, saying why; the text stays, the reply is cancelled
    hong.locator("#text").press("Enter")
    alert = hong.locator("#alert")
    removed = copied.get_attribute("data-id")
    expect(alert).to_have_text(
        f"发送失败：消息 {removed} 已被删除，无法回复。"
        "已取消回复，再发送一次即可单独发出这条消息。",
        timeout=WAIT,
    )
    expect(hong.locator("#text")).to_have_value("还有名额吗")
    expect(hong.locator("#reply-bar")).to_be_hidden()
    hong.locator("#text").press("Enter")
    sent = hong.locator("#messages .message.mine", has_text="还有名额吗")
    expect(sent).to_have_count(1, timeout=WAIT)
    expect(sent.locator(".quote")).to_have_count(0)

    # a page opened now shows the quote deleted as well, never the text
    hong.reload()
    answer = hong.locator("#messages .message.mine", has_text="我去！")
    expect(answer.locator(".quote-text")).to_have_text("消息已删除", timeout=WAIT)
    expect(answer.locator(".quote-name")).to_have_text("小明")
    expect(hong.locator("#messages")).not_to_contain_text(COPIED)
    # the removed line offers no reply
    expect(hong.locator("#messages .message.deleted .reply")).to_have_count(0)
    # the refused post is the one request that failed
    assert errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    for page in (hong, ming):
        page.context.close()


def test_a_quote_of_html_stays_text(browser: object, live_server: LiveServer) -> None:
    from playwright.sync_api import Dialog, expect

    errors: list[str] = []
    name = "<img src=x onerror=window.pwned=3>"
    text = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2><b>粗体</b>"
    ming = joined(browser, live_server.url, "brand", name, errors, lang="en-US")
    hong = joined(browser, live_server.url, "brand", "小红", errors, lang="en-US")
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    for page in (ming, hong):
        page.on("dialog", dismiss)
    say(ming, text)
    line = hong.locator("#messages .message").filter(has=hong.locator(".name", has_text=name))
    expect(line.locator(".text")).to_have_text(text, timeout=WAIT)
    line.get_by_role("button", name="Reply", exact=True).click()
    expect(hong.locator("#reply-name")).to_have_text(f"Replying to {name}")
    expect(hong.locator("#reply-text")).to_have_text(text)
    say(hong, "what is this?")
    for page in (hong, ming):
        answer = page.locator("#messages .message", has_text="what is this?")
        expect(answer.locator(".quote-name")).to_have_text(name, timeout=WAIT)
        expect(answer.locator(".quote-text")).to_have_text(text)
        assert (
            page.locator("#messages img, #messages b, #messages script, #reply-bar img").count()
            == 0
        )
        assert page.evaluate("window.pwned") is None
    assert dialogs == []
    assert errors == []
    for page in (hong, ming):
        page.context.close()
