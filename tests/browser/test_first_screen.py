"""The page a stakeholder sees: the result on the first screen, checks at once, states that
look like states, a history that lasts, a phone and a Chinese browser."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests import pictures
from tests.browser.conftest import ROOT, app_simulator, save_screenshot
from tests.browser.test_page import upload

pytestmark = pytest.mark.browser

#: Each screen, and the example's label in its language.
SCREENS: dict[str, tuple[dict[str, Any], str]] = {
    "1440x900": ({"viewport": {"width": 1440, "height": 900}}, "Example"),
    "1366x768": ({"viewport": {"width": 1366, "height": 768}}, "Example"),
    "zh-CN": ({"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN"}, "示例"),
}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
}
ERROR = re.compile(r"(^|\s)state-error(\s|$)")
DONE = re.compile(r"(^|\s)state-done(\s|$)")


def open_page(browser: Browser, app_url: str, **context: Any) -> Page:
    """A fresh browser (its own storage) on the page."""
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(20_000)
    page.goto(app_url)
    page.wait_for_selector("#run-button")
    return page


@pytest.fixture
def fresh(browser: Browser, app_url: str) -> Iterator[Page]:
    page = open_page(browser, app_url, viewport={"width": 1440, "height": 900})
    yield page
    page.context.close()


def in_first_screen(page: Page, selector: str) -> None:
    """``selector`` lies wholly inside the viewport with the page scrolled to the top."""
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (selector, box, size)
    assert box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (selector, box, size)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_run_and_the_result_are_on_the_first_screen(
    browser: Browser, app_url: str, screen: str
) -> None:
    context, example = SCREENS[screen]
    page = open_page(browser, app_url, **context)
    expect(page.locator("#example-result")).to_contain_text(example)
    in_first_screen(page, "#example-result")
    upload(page)
    in_first_screen(page, "#run-button")
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    expect(page.locator("#status")).to_have_class(DONE)
    expect(page.locator("#example-result")).to_be_hidden()
    in_first_screen(page, "#result-image")
    in_first_screen(page, "#status")
    if screen != "1366x768":
        save_screenshot(page, "desktop" if screen == "1440x900" else "chinese")
    page.context.close()


def test_a_refused_upload_is_flagged_before_run(fresh: Page, tmp_path: Path) -> None:
    small = tmp_path / "small.jpg"
    small.write_bytes(pictures.small_image())
    fresh.locator("#human-image input[type=file]").set_input_files(str(small))
    note = fresh.locator("#human-check")
    expect(note).to_contain_text("200 x 200")
    expect(note).to_contain_text("at least 300 x 300")
    expect(note).to_have_class(ERROR)
    expect(fresh.locator("#status")).not_to_contain_text("200 x 200")  # nothing was run


def test_a_picture_over_this_apps_pixel_budget_is_flagged_before_run(
    fresh: Page, tmp_path: Path
) -> None:
    big = tmp_path / "big.png"  # 36 MP: over the 30 MP this test app decodes, under the default
    big.write_bytes(pictures.encode(Image.new("1", (6000, 6000)), "PNG"))
    fresh.locator("#human-image input[type=file]").set_input_files(str(big))
    note = fresh.locator("#human-check")
    expect(note).to_contain_text("6000 x 6000")
    expect(note).to_contain_text("larger than the 30 MP this app will decode")
    expect(note).to_have_class(ERROR)


def test_a_webp_garment_says_it_will_be_sent_as_jpeg(fresh: Page, tmp_path: Path) -> None:
    webp = tmp_path / "garment.webp"
    buffer = io.BytesIO()
    Image.open(io.BytesIO(pictures.garment_png((600, 600)))).save(buffer, "WEBP")
    webp.write_bytes(buffer.getvalue())
    fresh.locator("#cloth-image input[type=file]").set_input_files(str(webp))
    expect(fresh.locator("#cloth-check")).to_contain_text("WEBP")
    expect(fresh.locator("#cloth-check")).to_contain_text("will be sent as JPEG")
    expect(fresh.locator("#cloth-check")).not_to_have_class(ERROR)


#: A cut-out portrait, 1200 x 1600 with a transparent border: Run flattens it and shrinks it.
CUT_OUT_NOTES = {
    "en": (
        "PNG, 1200 x 1600 — will be sent as JPEG, 1125 x 1500: flattened onto white "
        "(transparent parts turn white), downscaled 1200 x 1600 to 1125 x 1500.",
        "Person image: flattened onto white (transparent parts turn white), downscaled "
        "1200 x 1600 to 1125 x 1500",
    ),
    "zh-CN": (
        "PNG 图片，1200 x 1600——将以 JPEG、1125 x 1500 发送：铺在白底上（透明部分变为白色）；"
        "从 1200 x 1600 缩小到 1125 x 1500。",
        "人物图片：铺在白底上（透明部分变为白色）；从 1200 x 1600 缩小到 1125 x 1500",
    ),
}


@pytest.mark.parametrize("locale", list(CUT_OUT_NOTES))
def test_the_note_under_a_transparent_photo_says_what_run_will_send(
    browser: Browser, app_url: str, tmp_path: Path, locale: str
) -> None:
    cut_out = pictures.person((1200, 1600)).convert("RGBA")
    cut_out.paste((0, 0, 0, 0), (0, 0, 1200, 80))
    photo = tmp_path / "cut-out.png"
    photo.write_bytes(pictures.encode(cut_out, "PNG"))
    page = open_page(browser, app_url, viewport={"width": 1440, "height": 900}, locale=locale)
    note, done = CUT_OUT_NOTES[locale]
    page.locator("#human-image input[type=file]").set_input_files(str(photo))
    expect(page.locator("#human-check")).to_have_text(note)
    expect(page.locator("#human-check")).not_to_have_class(ERROR)
    page.locator("#human-check").scroll_into_view_if_needed()
    save_screenshot(page, f"note-{locale}")
    upload(page, str(photo))
    page.click("#run-button")
    expect(page.locator("#status")).to_have_class(DONE, timeout=30_000)
    expect(page.locator("#prep-notes")).to_contain_text(done)  # what Run did, as the note said
    page.context.close()


def test_an_error_looks_like_one_and_the_answer_pane_says_whose_it_is(fresh: Page) -> None:
    fresh.click("#run-button")  # nothing chosen: refused by the app, nothing sent
    expect(fresh.locator("#status")).to_have_class(ERROR)
    expect(fresh.locator("#task-json")).to_contain_text("nothing was sent to the API")
    expect(fresh.locator("#task-json")).not_to_contain_text("Task JSON from the API")


def test_a_compare_replaces_the_main_status_error(fresh: Page) -> None:
    fresh.click("#run-button")
    expect(fresh.locator("#status")).to_have_class(ERROR)
    upload(fresh)
    fresh.get_by_role("tab", name="Compare", exact=True).click()
    fresh.click("#compare-button")
    expect(fresh.locator("#status")).not_to_have_class(ERROR)
    expect(fresh.locator("#status")).not_to_contain_text("nothing was given")


def test_re_attaching_to_an_unknown_id_says_not_found(fresh: Page) -> None:
    fresh.get_by_role("tab", name="History").click()
    fresh.locator("#task-id input, #task-id textarea").first.fill("no-such-task-123")
    fresh.click("#attach-button")
    expect(fresh.locator("#status")).to_contain_text("Not found")
    expect(fresh.locator("#status")).not_to_contain_text("Could not run")
    expect(fresh.locator("#status")).to_have_class(ERROR)


def test_cancel_fills_in_the_task_id_to_re_attach_with(fresh: Page) -> None:
    upload(fresh)
    fresh.click("#run-button")
    expect(fresh.locator("#status code")).to_be_visible()
    task_id = fresh.locator("#status code").first.inner_text()
    fresh.click("#cancel-button")
    expect(fresh.locator("#status")).to_contain_text("keeps running at the API")
    fresh.get_by_role("tab", name="History").click()
    expect(fresh.locator("#task-id input, #task-id textarea").first).to_have_value(task_id)


def test_the_history_survives_a_reload_with_a_compares_two_tasks(fresh: Page) -> None:
    upload(fresh)
    fresh.get_by_role("tab", name="Compare", exact=True).click()
    fresh.click("#compare-button")
    expect(fresh.locator("#compare-v1-5 img")).to_be_visible(timeout=20_000)
    expect(fresh.locator("#compare-button")).to_be_enabled()
    task_ids = fresh.locator("#compare-status code").all_inner_texts()
    assert len(task_ids) == 2
    # In the page's history (and so in its browser store) before the reload, not racing it.
    fresh.get_by_role("tab", name="History").click()
    for task_id in task_ids:
        expect(fresh.locator("#history-table")).to_contain_text(task_id)
    fresh.reload()
    fresh.wait_for_selector("#run-button")
    fresh.get_by_role("tab", name="History").click()
    table = fresh.locator("#history-table")
    for task_id in task_ids:
        expect(table).to_contain_text(task_id)
    assert table.inner_text().count("compare") == 2
    # Clicking an entry shows it again (queried with the browser's own token).
    table.get_by_text(task_ids[1], exact=True).last.click()
    expect(fresh.locator("#task-id input, #task-id textarea").first).to_have_value(task_ids[1])
    expect(fresh.locator("#status")).to_contain_text(task_ids[1])
    expect(fresh.locator("#result-image img")).to_be_visible(timeout=20_000)
    fresh.click("#forget-history")
    expect(table).not_to_contain_text(task_ids[0])
    fresh.reload()
    fresh.wait_for_selector("#run-button")
    fresh.get_by_role("tab", name="History").click()
    expect(fresh.locator("#history-table")).to_be_visible()
    expect(fresh.locator("#history-table")).not_to_contain_text(task_ids[0])


def test_on_a_phone_run_follows_the_two_pictures_and_every_tab_shows(
    browser: Browser, app_url: str
) -> None:
    page = open_page(browser, app_url, **PHONE)
    garment = page.locator("#cloth-image").bounding_box()
    link = page.locator("#cloth-url").bounding_box()
    run = page.locator("#run-button").bounding_box()
    assert garment and link and run
    assert garment["y"] < link["y"] < run["y"]  # the examples between: see test_phone.py
    tabs = page.locator("#more-tabs [role=tab]")
    expect(tabs).to_have_count(3)
    for n in range(3):
        expect(tabs.nth(n)).to_be_visible()
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save_screenshot(page, "phone")
    page.context.close()


@pytest.fixture
def held_tasks() -> Iterator[None]:
    """The app's offline simulator with its tasks' clock stopped: every task it is sent stays
    submitted until the test ends, however slow the machine (no race with a timer)."""
    simulator = app_simulator()
    simulator.hold()
    try:
        yield
    finally:
        simulator.release()


@pytest.mark.usefixtures("held_tasks")
def test_stop_during_a_lookbook_leaves_true_states_and_no_error_box(fresh: Page) -> None:
    garments = sorted(str(p) for p in (ROOT / "assets" / "garments").glob("*.png"))[:5]
    fresh.locator("#human-image input[type=file]").set_input_files(
        str(ROOT / "assets" / "people" / "person-chloe.jpg")
    )
    fresh.get_by_role("tab", name="Lookbook").click()
    fresh.locator("#lookbook-garments input[type=file]").set_input_files(garments)
    expect(fresh.locator("#lookbook-garments img")).to_have_count(5)
    table = fresh.locator("#lookbook-table")
    for _ in range(10):  # the failure this guards against came 3 times in 12
        fresh.click("#lookbook-run")
        # Some created (each create waits for its simulated render, seconds on a busy
        # machine), the rest waiting their turn; held, none can end before Stop.
        expect(table).to_contain_text("submitted", timeout=30_000)
        fresh.click("#lookbook-cancel")
        expect(fresh.locator("#lookbook-status")).to_contain_text("Stopped")
        expect(fresh.locator("#lookbook-run")).to_be_enabled()
        expect(table).to_contain_text("still running at the API")
        expect(table).to_contain_text("not sent")
        for gone in ("submitted", "processing", "queued"):
            expect(table).not_to_contain_text(gone)
        expect(fresh.locator(".error, [data-testid=error]")).to_have_count(0)
        assert fresh.get_by_text("Error", exact=True).count() == 0
