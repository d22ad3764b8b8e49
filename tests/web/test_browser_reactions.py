"""The web chat in a real Chromium: clicking your own reaction again takes it back, as chat
apps do. The 👍 under a line you reacted to is pressed and named "take back"; the count under
the line is a chip per emoji, yours pressed; clicking either takes it back, and clicking
another's chip reacts with that emoji too."""

from __future__ import annotations

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_browser import WAIT

pytestmark = pytest.mark.browser


def test_clicking_your_reaction_again_takes_it_back(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    errors: list[str] = []
    pages = []
    for name in ("小明", "小红"):
        context = browser.new_context(locale="zh-CN")
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(live_server.url + "/#course")
        page.locator("#join-name").fill(name)
        page.locator("#join").click()
        expect(page.locator(".message.bot", has_text=f"欢迎 {name}")).to_have_count(1, timeout=WAIT)
        pages.append(page)
    ming, hong = pages
    box = ming.locator("#text")
    box.fill("今天学了列表推导式")
    box.press("Enter")
    line = hong.locator(".message", has_text="今天学了列表推导式")
    seen_by_ming = ming.locator(".message.mine", has_text="今天学了列表推导式")
    expect(line).to_have_count(1, timeout=WAIT)
    counts, ming_counts = line.locator(".reactions .counts"), seen_by_ming.locator(".counts")

    # 小红 reacts: the 👍 is pressed and says it takes it back
    line.get_by_role("button", name="点个赞 👍").click()
    expect(counts).to_have_text("👍 1", timeout=WAIT)
    take_back = line.get_by_role("button", name="收回你的 👍")
    expect(take_back).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    expect(line.locator(".chip")).to_have_attribute("aria-pressed", "true")
    expect(ming_counts).to_have_text("👍 1", timeout=WAIT)  # 小明 sees it, not as his
    expect(seen_by_ming.locator(".chip")).to_have_attribute("aria-pressed", "false")
    expect(seen_by_ming.get_by_role("button", name="点个赞 👍")).to_be_visible()

    # clicked again: taken back, for both
    take_back.click()
    expect(counts).to_have_text("", timeout=WAIT)
    expect(line.locator(".chip")).to_have_count(0)
    expect(line.get_by_role("button", name="点个赞 👍")).to_have_attribute("aria-pressed", "false")
    expect(ming_counts).to_have_text("", timeout=WAIT)

    # 小明 reacts again from his side; 小红 adds hers by clicking his chip, then takes it
    # back by clicking her pressed chip
    seen_by_ming.get_by_role("button", name="点个赞 👍").click()
    expect(counts).to_have_text("👍 1", timeout=WAIT)
    chip = line.locator(".chip")
    expect(chip).to_have_attribute("aria-pressed", "false")
    expect(chip).to_have_attribute("title", "用 👍 回应")
    chip.click()
    expect(counts).to_have_text("👍 2", timeout=WAIT)
    expect(chip).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    expect(chip).to_have_attribute("title", "收回你的 👍")
    chip.click()
    expect(counts).to_have_text("👍 1", timeout=WAIT)
    expect(chip).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    expect(ming_counts).to_have_text("👍 1", timeout=WAIT)
    assert errors == []
    for page in pages:
        page.context.close()
