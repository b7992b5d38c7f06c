"""What a person sees and does on the page, in headless Chromium."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests import pictures
from tests.browser.conftest import ROOT, app_simulator, save_screenshot
from tryon_demo.ui import lookbook as lookbook_tab

pytestmark = pytest.mark.browser

PERSON = str(ROOT / "assets" / "people" / "person-chloe.jpg")
GARMENT = str(ROOT / "assets" / "garments" / "top-hoodie-green.png")


def upload(page: Page, person: str = PERSON, garment: str = GARMENT) -> None:
    page.locator("#human-image input[type=file]").set_input_files(person)
    page.locator("#cloth-image input[type=file]").set_input_files(garment)
    expect(page.locator("#human-image img")).to_be_visible()
    expect(page.locator("#cloth-image img")).to_be_visible()


def choose_model(page: Page, label: str) -> None:
    page.locator("#model-name input").click()
    page.get_by_role("option", name=label).click()


def test_the_page_loads_with_the_offline_banner(page: Page) -> None:
    expect(page.get_by_text("Offline demo: simulated results")).to_be_visible()
    expect(page.locator("#run-button")).to_be_enabled()


def test_a_full_run_shows_request_status_and_result(page: Page) -> None:
    simulator = app_simulator()
    simulator.hold()  # the task waits at each step until the page has shown it
    try:
        upload(page)
        choose_model(page, "Kolors v1.5 (also top + bottom)")
        page.click("#run-button")
        expect(page.locator("#status")).to_contain_text("task", timeout=10_000)
        simulator.hold_at(page.locator("#status code").first.inner_text(), "processing")
        expect(page.locator("#status")).to_contain_text("Processing")
    finally:
        simulator.release()
    expect(page.locator("#request-json")).to_contain_text("kolors-virtual-try-on-v1-5")
    expect(page.locator("#request-json")).to_contain_text("KB)")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    expect(page.locator("#status")).to_contain_text("Done")
    expect(page.locator("#task-json")).to_contain_text('"task_status": "succeed"')
    expect(page.locator("#download")).to_be_visible()
    expect(page.locator("#run-button")).to_be_enabled()
    save_screenshot(page, "desktop")


def test_the_history_lists_the_sessions_tasks(page: Page) -> None:
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    task_id = page.locator("#status code").first.inner_text()
    page.get_by_role("tab", name="History").click()
    row = page.locator("#history-table tbody tr").first
    expect(row).to_contain_text(task_id)
    expect(row).to_contain_text("done")
    expect(row).to_contain_text("run")


def test_an_image_too_small_shows_the_rule_and_gives_the_button_back(
    page: Page, tmp_path: Path
) -> None:
    small = tmp_path / "small.jpg"
    small.write_bytes(pictures.small_image())
    upload(page, person=str(small))
    page.click("#run-button")
    expect(page.locator("#status")).to_contain_text("Person image: it is 200 x 200 pixels")
    expect(page.locator("#run-button")).to_be_enabled()


def test_an_upload_that_is_not_an_image_gets_the_apps_message(page: Page, tmp_path: Path) -> None:
    fake = tmp_path / "garment.png"
    fake.write_bytes(pictures.text_file())
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.locator("#cloth-url input, #cloth-url textarea").fill("")
    with page.expect_response(lambda r: "/upload" in r.url and r.request.method == "POST"):
        page.locator("#cloth-image input[type=file]").set_input_files(str(fake))
    page.click("#run-button")
    expect(page.locator("#status")).to_contain_text(
        "Garment image: this file is not an image this app can read. Use a JPG or PNG photo."
    )
    expect(page.locator("#status")).not_to_contain_text("Traceback")
    expect(page.locator("#task-json")).to_contain_text('"last_task": null')  # nothing was created
    expect(page.locator("#task-json")).not_to_contain_text('"task_id": "')
    expect(page.locator("#run-button")).to_be_enabled()


def test_cancel_stops_waiting_and_says_the_task_keeps_running(page: Page, app_url: str) -> None:
    # The app's own simulator (this process's) holds its tasks until Cancel was pressed: on a
    # slow machine a 2 s task could otherwise end before the click, taking Cancel away.
    simulator = app_simulator()
    upload(page)
    simulator.hold()
    try:
        page.click("#run-button")
        expect(page.locator("#status")).to_contain_text("task")
        page.click("#cancel-button")
        expect(page.locator("#status")).to_contain_text("keeps running at the API")
    finally:
        simulator.release()
    expect(page.locator("#run-button")).to_be_enabled()
    # Wait until the task has really ended at the API (a condition, not a guess at its length),
    # then one poll pause more: a run that had not stopped would show the result by then.
    # A lookup through the app would need the owner token, which only the page's browser holds.
    task_id = page.locator("#status code").first.inner_text()
    deadline = time.monotonic() + 60
    while simulator.status(simulator.tasks[task_id])[0] != "succeed":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    page.wait_for_timeout(1000)  # twice the app's longest poll pause (0.5 s)
    expect(page.locator("#status")).to_contain_text("keeps running at the API")
    expect(page.locator("#run-button")).to_be_enabled()
    expect(page.locator("#result-image img")).to_have_count(0)


def test_the_page_loads_nothing_from_outside_the_app(browser: Browser, app_url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith((app_url, "data:", "blob:")) else None
        ),
    )
    page.goto(app_url)
    page.wait_for_selector("#run-button")
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    context.close()
    assert outside == []


def test_on_a_phone_the_inputs_stack_and_nothing_overflows(browser: Browser, app_url: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#run-button")
    person = page.locator("#human-image").bounding_box()
    garment = page.locator("#cloth-image").bounding_box()
    run = page.locator("#run-button").bounding_box()
    assert person and garment and run
    assert garment["y"] >= person["y"] + person["height"]  # stacked, not side by side
    assert run["y"] > garment["y"]
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    save_screenshot(page, "phone")
    context.close()


def test_the_outfit_composer_feeds_a_top_and_bottom_to_v1_5(page: Page) -> None:
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.get_by_text("Outfit composer (v1.5)").click()
    page.locator("#outfit-top input[type=file]").set_input_files(
        str(ROOT / "assets" / "garments" / "top-tshirt-striped.png")
    )
    page.locator("#outfit-bottom input[type=file]").set_input_files(
        str(ROOT / "assets" / "garments" / "bottom-jeans.png")
    )
    expect(page.locator("#outfit-bottom img")).to_be_visible()
    page.click("#compose-button")
    expect(page.locator("#status")).to_contain_text("Outfit composed")
    expect(page.locator("#cloth-image img")).to_be_visible()
    expect(page.locator("#model-name input")).to_have_value("Kolors v1.5 (also top + bottom)")
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    expect(page.locator("#request-json")).to_contain_text("kolors-virtual-try-on-v1-5")


def test_the_outfit_composer_refuses_two_tops(page: Page) -> None:
    page.get_by_text("Outfit composer (v1.5)").click()
    page.locator("#outfit-top input[type=file]").set_input_files(GARMENT)
    page.locator("#outfit-bottom input[type=file]").set_input_files(GARMENT)
    page.locator("#outfit-bottom-kind input").click()
    page.get_by_role("option", name="top", exact=True).click()
    page.click("#compose-button")
    expect(page.locator("#status")).to_contain_text("two tops cannot be worn together")


def test_compare_models_shows_v1_and_v1_5_side_by_side(page: Page) -> None:
    upload(page)
    page.get_by_role("tab", name="Compare", exact=True).click()
    page.click("#compare-button")
    expect(page.locator("#compare-v1 img")).to_be_visible(timeout=20_000)
    expect(page.locator("#compare-v1-5 img")).to_be_visible(timeout=20_000)
    expect(page.locator("#compare-status")).to_contain_text("v1.5")
    expect(page.locator("#compare-button")).to_be_enabled()
    v1 = page.locator("#compare-v1").bounding_box()
    v15 = page.locator("#compare-v1-5").bounding_box()
    assert v1 and v15
    assert abs(v1["y"] - v15["y"]) < 5 and v15["x"] > v1["x"]  # side by side on a desktop


@pytest.mark.parametrize("how", ["button", "enter"])
def test_a_task_id_re_attaches_to_an_earlier_task(page: Page, how: str) -> None:
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    task_id = page.locator("#status code").first.inner_text()
    page.reload()
    page.wait_for_selector("#run-button")
    page.get_by_role("tab", name="History").click()
    field = page.locator("#task-id textarea, #task-id input").first
    field.fill(task_id)
    if how == "button":
        page.click("#attach-button")
    else:
        field.press("Enter")
    expect(page.locator("#status")).to_contain_text(task_id)
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)


def test_the_lookbook_runs_several_garments_and_offers_a_zip(page: Page, tmp_path: Path) -> None:
    garments = [
        str(ROOT / "assets" / "garments" / name)
        for name in ("top-tshirt-red.png", "top-jacket-camel.png", "onepiece-dress-yellow.png")
    ]
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.get_by_role("tab", name="Lookbook").click()
    page.locator("#lookbook-garments input[type=file]").set_input_files(garments)
    expect(page.locator("#lookbook-garments img")).to_have_count(3)
    page.click("#lookbook-run")
    expect(page.locator("#lookbook-table")).to_contain_text("top-jacket-camel.png")
    expect(page.locator("#lookbook-status")).to_contain_text("running")
    expect(page.locator("#lookbook-status")).to_contain_text(
        "Finished: 3 of 3 done", timeout=30_000
    )
    expect(page.locator("#lookbook-results img")).to_have_count(3)
    expect(page.locator("#lookbook-table")).not_to_contain_text("processing")
    with page.expect_download() as download:
        page.click("#lookbook-download")
    archive = tmp_path / "lookbook.zip"
    download.value.save_as(archive)
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    assert "manifest.json" in names and len([n for n in names if n.startswith("results/")]) == 3
    save_screenshot(page, "lookbook")


def test_the_lookbook_without_garments_says_what_to_add(page: Page) -> None:
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.get_by_role("tab", name="Lookbook").click()
    page.click("#lookbook-run")
    expect(page.locator("#lookbook-status")).to_contain_text("add at least one garment")
    expect(page.locator("#lookbook-run")).to_be_enabled()


def test_a_chinese_browser_gets_the_page_and_its_messages_in_chinese(
    browser: Browser, app_url: str, tmp_path: Path
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#run-button")
    expect(page.get_by_text("离线演示：模拟结果")).to_be_visible()
    expect(page.locator("#run-button")).to_have_text("开始试穿")
    expect(page.locator("#status")).to_contain_text("准备就绪")
    small = tmp_path / "small.jpg"
    small.write_bytes(pictures.small_image())
    upload(page, person=str(small))
    page.click("#run-button")
    expect(page.locator("#status")).to_contain_text("人物图片：图片为 200 x 200 像素")
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=20_000)
    expect(page.locator("#status")).to_contain_text("完成")
    save_screenshot(page, "chinese")
    context.close()


def test_a_fault_inside_the_lookbook_is_a_sentence_and_gives_the_button_back(
    page: Page, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*_: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lookbook_tab, "lookbook_zip", full_disk)
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.get_by_role("tab", name="Lookbook").click()
    page.locator("#lookbook-garments input[type=file]").set_input_files(GARMENT)
    expect(page.locator("#lookbook-garments img")).to_have_count(1)
    page.click("#lookbook-run")
    status = page.locator("#lookbook-status")
    expect(status).to_contain_text("Something went wrong inside the app", timeout=20_000)
    expect(status).not_to_contain_text("Traceback")
    expect(status).not_to_contain_text("No space left")
    expect(page.locator("#lookbook-run")).to_be_enabled()
