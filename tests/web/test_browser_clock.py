"""`groupops serve --movable-clock` in a real Chromium: the page shows the simulated time in
the group's zone; a person checks in, moves the clock a day with the page's control, checks in
again and sees a streak of 2 (QA zh finding 3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from groupops.web import WebConfig
from tests.web.conftest import LiveServer
from tests.web.test_browser import WAIT

pytestmark = pytest.mark.browser


@pytest.fixture
def movable_server(web_config: WebConfig) -> Iterator[LiveServer]:
    with LiveServer(replace(web_config, movable_clock=True)) as server:
        yield server


def test_a_day_moved_on_the_page_makes_a_streak_of_two(
    browser: object, movable_server: LiveServer
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(movable_server.url + "/#course")
    page.locator("#join-name").fill("小明")
    page.locator("#join").click()
    messages = page.locator("#messages")
    expect(messages.locator(".message.bot", has_text="欢迎 小明")).to_have_count(1, timeout=WAIT)
    clock = page.locator("#clock-now")
    expect(clock).to_contain_text("模拟时间：", timeout=WAIT)
    expect(clock).to_contain_text("（Asia/Shanghai）")
    today = clock.inner_text()

    box = page.locator("#text")
    box.fill("签到")
    box.press("Enter")
    expect(messages.locator(".message.bot", has_text="已连续 1 天")).to_have_count(1, timeout=WAIT)
    page.get_by_role("button", name="+1 天").click()
    expect(clock).not_to_have_text(today, timeout=WAIT)
    box.fill("签到")
    box.press("Enter")
    expect(messages.locator(".message.bot", has_text="已连续 2 天")).to_have_count(1, timeout=WAIT)

    # a reaction from the page is counted under the line
    mine = messages.locator(".message.mine").last
    mine.get_by_role("button", name="点个赞 👍").click()
    expect(mine.locator(".reactions .counts")).to_have_text("👍 1", timeout=WAIT)
    # and the admin toggle says what you are
    page.get_by_role("button", name="设我为管理员").click()
    expect(page.locator("#status")).to_have_text(
        "你以「小明」的身份在本群（管理员）。", timeout=WAIT
    )
    expect(page.get_by_role("button", name="取消我的管理员")).to_be_visible()
    assert errors == []
    context.close()


def test_without_the_option_the_page_has_no_clock_control(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/#course")
    expect(page.locator("#join-name")).to_be_visible(timeout=WAIT)
    expect(page.locator("#clock")).to_be_hidden()
    context.close()
