"""While a try-on runs the page says how long it usually takes, then that it takes longer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ROOT, app_simulator, save_screenshot
from tests.browser.test_page import PERSON, upload

pytestmark = pytest.mark.browser
SetSeconds = Callable[[float], None]


@pytest.fixture
def task_seconds() -> Iterator[SetSeconds]:
    """Set how long the app's own simulator takes per task, for one test."""
    config = app_simulator().config
    before = config.task_seconds

    def set_to(seconds: float) -> None:
        config.task_seconds = seconds

    yield set_to
    config.task_seconds = before


def test_a_run_shows_the_time_usually_left_then_the_result(
    page: Page, task_seconds: SetSeconds
) -> None:
    task_seconds(4.0)
    upload(page)
    page.click("#run-button")
    expect(page.locator("#status")).to_contain_text("usually ready in about", timeout=10_000)
    expect(page.locator("#status")).to_contain_text("task")
    save_screenshot(page, "time-left")
    expect(page.locator("#result-image img")).to_be_visible(timeout=30_000)
    expect(page.locator("#status")).to_contain_text("Done")
    expect(page.locator("#status")).not_to_contain_text("usually")


def test_a_task_running_longer_than_usual_is_said_to(
    browser: Browser, app_url: str, task_seconds: SetSeconds
) -> None:
    task_seconds(9.0)  # the app expects its simulator's 2 s
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(app_url)
    upload(page)
    page.click("#run-button")
    expect(page.locator("#status")).to_contain_text("比平时用时更长", timeout=15_000)
    save_screenshot(page, "time-left-longer-zh")
    expect(page.locator("#result-image img")).to_be_visible(timeout=30_000)
    expect(page.locator("#status")).not_to_contain_text("比平时用时更长")
    context.close()


def test_each_lookbook_row_says_the_time_usually_left(page: Page, task_seconds: SetSeconds) -> None:
    task_seconds(4.0)
    garments = [
        str(ROOT / "assets" / "garments" / name)
        for name in ("top-tshirt-red.png", "onepiece-dress-yellow.png")
    ]
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.get_by_role("tab", name="Lookbook").click()
    page.locator("#lookbook-garments input[type=file]").set_input_files(garments)
    expect(page.locator("#lookbook-garments img")).to_have_count(2)
    page.click("#lookbook-run")
    expect(page.locator("#lookbook-table")).to_contain_text("usually ready in about")
    page.locator("#lookbook-table").scroll_into_view_if_needed()
    save_screenshot(page, "time-left-lookbook")
    expect(page.locator("#lookbook-status")).to_contain_text(
        "Finished: 2 of 2 done", timeout=30_000
    )
    expect(page.locator("#lookbook-table")).not_to_contain_text("usually")
