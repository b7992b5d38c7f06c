"""A stakeholder on a phone (390 x 844): the page reads top to bottom, the examples and the
example result before Run, the API panel after the result, nothing important hidden."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_first_screen import PHONE, open_page

pytestmark = pytest.mark.browser

#: What a phone visitor needs, in the order the page must show it, top to bottom.
PHONE_ORDER = {
    "person photo": "#human-image",
    "example people": "#people-examples",
    "garment photo": "#cloth-image",
    "example garments": "#garment-examples",
    "example result": "#example-result",
    "Run": "#run-button",
    "status": "#status",
    "API panel": "#api-panel",
    "more tabs": "#more-tabs",
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_on_a_phone_the_examples_and_the_example_result_come_before_run(
    browser: Browser, app_url: str, locale: str
) -> None:
    page = open_page(browser, app_url, **PHONE, locale=locale)
    tops = {}
    for name, selector in PHONE_ORDER.items():
        part = page.locator(selector).first
        expect(part).to_be_visible()
        box = part.bounding_box()
        assert box is not None and box["height"] > 0, name
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
        tops[name] = box["y"]
    assert sorted(tops, key=tops.__getitem__) == list(PHONE_ORDER), tops
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.context.close()
