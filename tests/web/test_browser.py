"""The web chat in a real Chromium (Debian's, driven by pip playwright): a person picks a
group, joins as 小明, checks in, chats, is warned for an ad, switches language; and a name
made of HTML stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import LiveServer

pytestmark = pytest.mark.browser

WAIT = 15_000  # ms: generous, on a machine shared by many test workers


def test_a_person_joins_chats_and_sees_the_bot_live(
    browser: object, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    context = browser.new_context(locale="zh-CN", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("groupops 沙盒群聊")
    expect(page.locator("#groups .group")).to_have_count(3)

    # pick a group and join it
    page.get_by_role("button", name="Python 入门训练营").click()
    expect(page.locator("#room-title")).to_have_text("Python 入门训练营")
    page.locator("#join-name").fill("小明")
    page.get_by_role("button", name="加入", exact=True).click()
    messages = page.locator("#messages")
    expect(messages.locator(".kind-system").first).to_have_text("小明 加入了群聊", timeout=WAIT)
    welcome = messages.locator(".message.bot", has_text="欢迎 小明")
    expect(welcome).to_have_count(1, timeout=WAIT)
    expect(page.locator("#status")).to_have_text("你以「小明」的身份在本群。")

    # check in, then say something
    box = page.locator("#text")
    bot_lines = messages.locator(".message.bot")
    before = bot_lines.count()
    box.fill("签到")
    box.press("Enter")
    expect(messages.locator(".message.mine", has_text="签到")).to_have_count(1, timeout=WAIT)
    # the check-in feature answers, after the check-in, in its own wording
    expect(bot_lines).not_to_have_count(before, timeout=WAIT)
    reply = messages.locator(".message.mine:has-text('签到') ~ .message.bot")
    expect(reply.first).to_contain_text("✅ 小明 签到成功：已连续 1 天，今日第 1 名。")
    box.fill("大家好，我是小明，在学 Python")
    page.get_by_role("button", name="发送").click()
    expect(messages.locator(".message.mine", has_text="在学 Python")).to_have_count(1, timeout=WAIT)
    expect(box).to_have_value("")

    # an ad: removed before everyone's eyes, and the bot warns, naming the poster
    box.fill("加我微信 abc123")
    box.press("Enter")
    removed = messages.locator(".message.mine.deleted .text")
    expect(removed).to_have_text("该消息已被移除。", timeout=WAIT)
    expect(messages.locator(".message.bot", has_text="警告 1/2")).to_contain_text("小明")
    expect(messages).not_to_contain_text("abc123")
    page.screenshot(path=str(tmp_path / "chat-zh.png"), full_page=True)

    # switch to English: the same conversation, English around it
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en", timeout=WAIT)
    expect(page.locator("h1")).to_have_text("groupops sandbox chat")
    expect(page.locator("#room-title")).to_have_text("Python 入门训练营", timeout=WAIT)
    expect(page.get_by_role("button", name="Send")).to_be_visible()
    expect(page.locator("#status")).to_have_text("You are in this group as 小明.")
    expect(messages.locator(".message.mine.deleted .text")).to_have_text(
        "This message was removed.", timeout=WAIT
    )
    expect(messages.locator(".kind-system").first).to_have_text("小明 joined")
    page.screenshot(path=str(tmp_path / "chat-en.png"), full_page=True)
    for shot in ("chat-zh.png", "chat-en.png"):
        assert (tmp_path / shot).stat().st_size > 10_000
    assert errors == []
    context.close()


def test_a_name_made_of_html_shows_literally(browser: object, live_server: LiveServer) -> None:
    from playwright.sync_api import Browser, Dialog, expect

    assert isinstance(browser, Browser)
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(live_server.url + "/#brand")
    expect(page.locator("#room-title")).to_have_text("小鹿咖啡会员群")
    name = "<script>window.pwned=2</script><img src=x onerror=pwned=1>"
    page.locator("#join-name").fill(name)
    page.get_by_role("button", name="Join", exact=True).click()
    messages = page.locator("#messages")
    expect(messages.locator(".kind-system").first).to_have_text(f"{name} joined", timeout=WAIT)
    expect(messages.locator(".message.bot").first).to_contain_text(name, timeout=WAIT)
    page.locator("#text").fill("<b>bold?</b>")
    page.locator("#text").press("Enter")
    mine = messages.locator(".message.mine .text")
    expect(mine).to_have_text("<b>bold?</b>", timeout=WAIT)
    expect(page.locator("#status")).to_have_text(f"You are in this group as {name}.")
    assert page.locator("#messages img, #messages b, #messages script").count() == 0
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
    context.close()


def test_a_muted_person_sees_why_the_message_was_not_sent(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import Browser, expect

    from groupops.engine import settings_admin

    assert isinstance(browser, Browser)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + "/#creators")
    page.locator("#join-name").fill("小明")
    page.locator("#join").click()
    messages = page.locator("#messages")
    expect(messages.locator(".message.bot", has_text="欢迎 小明")).to_have_count(1, timeout=WAIT)
    runtime = live_server.web.state.runtime
    settings_admin.set_setting(
        runtime.app.db,
        runtime.app.registry,
        feature="moderation",
        key="ladder",
        value=["mute:1h"],
        group_ref="sandbox:creators",
    )
    runtime.app.engine.directory.invalidate()
    box = page.locator("#text")
    box.fill("加我微信 abc123")
    box.press("Enter")
    expect(messages.locator(".kind-system", has_text="小明 被禁言")).to_have_count(1, timeout=WAIT)
    status = page.locator("#status")
    expect(status).to_contain_text("你已被禁言至", timeout=WAIT)
    box.fill("为什么不能说话")
    box.press("Enter")
    alert = page.locator("#alert")
    expect(alert).to_be_visible(timeout=WAIT)
    expect(alert).to_contain_text("发送失败：小明 已被禁言至")
    expect(box).to_have_value("为什么不能说话")  # kept, not lost
    expect(messages).not_to_contain_text("为什么不能说话")
    context.close()
