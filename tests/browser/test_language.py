"""The language switch in a real browser: it overrides the browser's language for the fixed
labels and for what the server writes, and the browser remembers it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


def choose_language(page: Page, name: str) -> None:
    page.click("#language input")
    page.get_by_role("option", name=name).click()


def test_the_switch_overrides_a_chinese_browser_and_is_remembered(
    browser: Browser, app_url: str
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(app_url)
    expect(page.locator("#run-button")).to_have_text("开始试穿")
    expect(page.locator("#language input")).to_have_value("中文")  # the browser's, until chosen
    choose_language(page, "English")
    page.mouse.move(0, 0)
    save_screenshot(page, "language-switch")
    expect(page.locator("#run-button")).to_have_text("Run try-on")
    page.click("#run-button")  # nothing chosen: the server's refusal follows the switch too
    expect(page.locator("#status")).to_contain_text("Person image: nothing was given")
    page.reload()
    expect(page.locator("#language input")).to_have_value("English")
    expect(page.locator("#run-button")).to_have_text("Run try-on")
    choose_language(page, "中文")
    expect(page.locator("#run-button")).to_have_text("开始试穿")
    page.click("#run-button")
    expect(page.locator("#status")).to_contain_text("人物图片：未提供图片")
    context.close()
