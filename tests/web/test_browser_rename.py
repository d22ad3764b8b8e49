"""The web chat in a real Chromium: an admin renames the group. The rename button shows only
to an admin; the new name shows at once in the room's title and the group list, for the others
too (the page's poll says the group's name), with a line saying who renamed it, in the reader's
language."""

from __future__ import annotations

import pytest

from tests.web.conftest import LiveServer
from tests.web.test_browser import WAIT

pytestmark = pytest.mark.browser

NEW = "Python 进阶训练营"


def test_an_admin_renames_the_group_and_everyone_sees_the_new_name(
    browser: object, live_server: LiveServer
) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    errors: list[str] = []
    pages = []
    for name, locale in (("小明", "zh-CN"), ("Hong", "en-GB")):
        context = browser.new_context(locale=locale)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(live_server.url + "/#course")
        page.locator("#join-name").fill(name)
        page.locator("#join").click()
        expect(page.locator("#send-form")).to_be_visible(timeout=WAIT)
        pages.append(page)
    ming, hong = pages

    # not an admin: no rename; an admin: the button, and a form with the name as it is
    expect(ming.locator("#rename")).to_be_hidden()
    ming.locator("#admin").click()
    rename = ming.get_by_role("button", name="修改群名")
    expect(rename).to_be_visible(timeout=WAIT)
    rename.click()
    field = ming.get_by_label("新群名")
    expect(field).to_have_value("Python 入门训练营")
    field.fill(NEW)
    ming.get_by_role("button", name="改名", exact=True).click()
    expect(ming.locator("#rename-form")).to_be_hidden(timeout=WAIT)
    expect(ming.locator("#room-title")).to_have_text(NEW)
    expect(ming.locator("#groups .group.active .group-title")).to_have_text(NEW)
    expect(ming.locator(".kind-system").last).to_have_text(
        f"小明 把群名改为「{NEW}」", timeout=WAIT
    )

    # the other member, without reloading: the title, the list and the line, in English
    expect(hong.locator("#room-title")).to_have_text(NEW, timeout=WAIT)
    expect(hong.locator("#groups .group.active .group-title")).to_have_text(NEW)
    expect(hong.locator(".kind-system").last).to_have_text(f"小明 renamed the group to “{NEW}”")
    expect(hong.locator("#rename")).to_be_hidden()
    assert errors == []
    for page in pages:
        page.context.close()
