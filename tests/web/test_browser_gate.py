"""The join gate in a real Chromium whose zone is not the group's: the mute under the
conversation is said in the group's zone, named, as the refusal says it, and the question's
buttons are disabled and marked once answered (QA zh finding 14)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from groupops.engine import settings_admin
from groupops.platforms.sandbox.platform import local_minute
from groupops.platforms.sandbox.tables import sandbox_members
from tests.web.conftest import LiveServer
from tests.web.test_browser import WAIT

pytestmark = pytest.mark.browser


def test_the_gate_in_the_page_names_the_groups_zone_and_settles_its_question(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    runtime = live_server.web.state.runtime
    settings_admin.set_setting(
        runtime.app.db,
        runtime.app.registry,
        feature="gate",
        key="enabled",
        value=True,
        group_ref="sandbox:course",
    )
    runtime.app.engine.directory.invalidate()
    context = browser.new_context(locale="zh-CN", timezone_id="America/New_York")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/#course")
    page.locator("#join-name").fill("小明")
    page.locator("#join").click()
    messages = page.locator("#messages")
    question = messages.locator(".message.bot", has=page.locator(".buttons"))
    expect(question).to_have_count(1, timeout=WAIT)
    with runtime.app.db.connect() as conn:
        until = conn.execute(
            select(sandbox_members.c.muted_until).where(sandbox_members.c.name == "小明")
        ).scalar_one()
        conn.rollback()
    shown = local_minute(until, "Asia/Shanghai")
    expect(page.locator("#status")).to_have_text(
        f"你已被禁言至 {shown}（Asia/Shanghai），期间发出的消息不会送达。", timeout=WAIT
    )
    page.locator("#text").fill("让我说话")
    page.locator("#text").press("Enter")
    expect(page.locator("#alert")).to_have_text(
        f"发送失败：小明 已被禁言至 {shown}（Asia/Shanghai）", timeout=WAIT
    )

    text = question.locator(".text").inner_text()
    a, b = (int(n) for n in re.findall(r"(\d+)\s*[+＋]\s*(\d+)", text)[0])
    question.get_by_role("button", name=str(a + b), exact=True).click()
    expect(messages.locator(".message.bot", has_text="欢迎 小明")).to_have_count(1, timeout=WAIT)
    expect(question.locator(".settled")).to_have_text("已回答", timeout=WAIT)
    for button in question.locator(".buttons button").all():
        expect(button).to_be_disabled()
    expect(page.locator("#status")).to_have_text("你以「小明」的身份在本群。")
    assert errors == []
    context.close()
