"""Every text of every tab follows the language switch at once, before any run; a run in
Chinese names the API's words in Chinese beside the API's own; and no address of this server
shows anywhere on the page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import save_screenshot
from tests.browser.test_first_screen import open_page
from tests.browser.test_page import upload

pytestmark = pytest.mark.browser

#: Every text node a person can see (with its size and not hidden), and the placeholders of
#: empty fields. Raw values are left out where the page shows them as such: code (task ids,
#: the JSON panels) and the language switch's own names of the languages.
VISIBLE_TEXTS = r"""
() => {
  const seen = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent.trim();
    const element = node.parentElement;
    if (!text || !element) continue;
    if (element.closest("code, pre, .cm-editor, script, style, #language")) continue;
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (!box.width || !box.height || style.visibility === "hidden" || style.display === "none")
      continue;
    seen.push(text);
  }
  for (const field of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    const box = field.getBoundingClientRect();
    if (box.width && box.height && !field.value && !field.closest("#language"))
      seen.push(field.placeholder);
  }
  return seen;
}
"""
#: Words that stay as they are in Chinese: names of things, formats and units.
NAMES = frozenset(
    {"Kolors", "Try", "On", "Studio", "Kling", "API", "JSON", "JPG", "JPEG", "PNG", "MB", "URL"}
    | {"ID", "px", "zip", "http", "https", "v1"}
)
#: Values shown as values: links, dotted names (v1.5), task ids (22 letters and digits), the
#: API's own word beside its name.
VALUES = re.compile(
    r"https?://\S+|\b\w+(?:[.-]\w+)+\b|\b[A-Za-z0-9_-]{16,64}\b|API 原文：\w+|\(API: \w+\)"
)
LOCAL = ("127.0.0.1", "localhost", "[::1]", "/simulator/")
CJK = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")


def english_words(texts: list[str]) -> list[str]:
    """The English words left in ``texts``, names and raw values apart."""
    left = []
    for text in texts:
        for word in re.findall(r"[A-Za-z]{2,}", VALUES.sub(" ", text)):
            if word not in NAMES:
                left.append(f"{word} (in {text!r})")
    return left


def every_tab(page: Page) -> list[str]:
    """The visible texts of the page with each tab shown in turn and the sections opened."""
    texts: list[str] = []
    for section in ("#advanced", "#outfit"):
        toggle = page.locator(f"{section} > .label-wrap").first
        if "open" not in (toggle.get_attribute("class") or ""):
            toggle.click()
    for tabs in ("#result-tabs", "#more-tabs"):
        buttons = page.locator(f"{tabs} > .tab-wrapper [role=tab]")
        for n in range(buttons.count()):
            buttons.nth(n).click()
            page.wait_for_timeout(200)  # the tab's content is drawn when it is first shown
            texts += page.evaluate(VISIBLE_TEXTS)
    return texts


def choose_language(page: Page, name: str) -> None:
    page.click("#language input")
    page.get_by_role("option", name=name).click()


def test_switching_to_chinese_leaves_no_english_on_any_tab(browser: Browser, app_url: str) -> None:
    page = open_page(browser, app_url, viewport={"width": 1440, "height": 900}, locale="en-US")
    assert english_words(every_tab(page))  # the page starts in English, every tab drawn
    choose_language(page, "中文")
    expect(page.locator("#run-button")).to_have_text("开始试穿")
    expect(page.locator("#history-tab-button")).to_have_text("历史")
    texts = every_tab(page)
    assert english_words(texts) == [], english_words(texts)
    save_screenshot(page, "switched-to-chinese")
    page.context.close()


def test_a_chinese_browser_sees_no_english_on_any_tab(browser: Browser, app_url: str) -> None:
    page = open_page(browser, app_url, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    expect(page.locator("#language input")).to_have_value("中文")
    page.get_by_role("tab", name="历史").click()
    expect(page.locator("#history-table")).to_contain_text("任务 ID")
    texts = every_tab(page)
    assert english_words(texts) == [], english_words(texts)
    page.context.close()


def test_switching_to_english_leaves_no_chinese_on_any_tab(browser: Browser, app_url: str) -> None:
    page = open_page(browser, app_url, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    every_tab(page)
    choose_language(page, "English")
    expect(page.locator("#run-button")).to_have_text("Run try-on")
    left = [text for text in every_tab(page) if CJK.search(text)]
    assert left == [], left
    page.context.close()


def test_a_run_in_chinese_speaks_chinese_and_shows_no_address_of_this_server(
    browser: Browser, app_url: str
) -> None:
    page = open_page(browser, app_url, viewport={"width": 1440, "height": 900}, locale="zh-CN")
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=30_000)
    expect(page.locator("#status")).to_contain_text("完成")
    status = page.locator("#status").inner_text()
    assert not re.search(r"回调：(succeed|processing|submitted|failed)", status), status
    texts = every_tab(page)
    assert english_words(texts) == [], english_words(texts)
    # The page's own address is loopback here (the test serves it there): links to the page
    # itself (its downloads) are not what this looks for.
    shown: Any = page.evaluate(
        """(own) => document.body.innerText + [...document.querySelectorAll('input, textarea, a')]
        .map((e) => (e.value || '') + ' ' + (e.href && !e.href.startsWith('blob:')
          && !e.href.startsWith(own) ? e.href : '')).join(' ')""",
        app_url.rstrip("/"),
    )
    assert not [address for address in LOCAL if address in shown], shown
    save_screenshot(page, "run-in-chinese")
    page.context.close()
