"""The /owner page in Chromium: Gradio's login as the owner, then the figures and plots of
real runs, in English and in Chinese, at desktop and phone sizes, with no visitor data."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from playwright.sync_api import Browser, Page, expect

from tests import pictures
from tests.browser.conftest import save_screenshot
from tests.conftest import FAKE_KEY
from tests.owner_app import OwnerApp
from tryon_demo.hosting.usage_store import DAY, day_of
from tryon_demo.settings import MODELS, Settings
from tryon_demo.simulator import Faults, SimulatorConfig, SimulatorServer

pytestmark = pytest.mark.browser
#: The page fills itself in once loaded: on a busy machine that takes a few seconds.
expect.set_options(timeout=30_000)

OWNER = "owner-browser-pass-3"
VISITOR = "203.0.113.51"


@pytest.fixture(scope="module")
def owner_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OwnerApp, list[str]]]:
    """An app after two try-ons, a failed task, a create the API refused and a refused
    picture; and the task ids it created (none may show on the owner's page)."""
    folder = tmp_path_factory.mktemp("owner-page")
    person, garment, junk = folder / "person.jpg", folder / "garment.png", folder / "notes.jpg"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(pictures.garment_png())
    junk.write_bytes(pictures.text_file())
    with SimulatorServer(
        SimulatorConfig(task_seconds=0.3, api_keys=frozenset({FAKE_KEY}))
    ) as simulator:
        settings = Settings(
            api_key=FAKE_KEY,
            api_base=simulator.gateway_base,
            poll_interval=0.05,
            poll_max_interval=0.2,
            owner_password=OWNER,
            daily_cap=50,
            trusted_proxies=1,
            state_dir=folder / "state",
        )
        app = OwnerApp(settings, folder / "work")
        client = Client(app.url, headers={"X-Forwarded-For": VISITOR}, verbose=False)

        def tryon(cloth: Path, model: str = MODELS[0]) -> None:
            client.predict(
                handle_file(str(person)), handle_file(str(cloth)), model, "", api_name="/tryon"
            )

        tryon(garment)
        tryon(garment, MODELS[1])
        for faults, cloth in (
            (Faults(fail_share=1.0), garment),
            (Faults(error_code=1301, applies_to="create"), garment),
            (Faults(), junk),
        ):
            simulator.simulator.config.faults = faults
            with pytest.raises(AppError):
                tryon(cloth)
        yield app, list(simulator.simulator.tasks)
        app.close()


def open_owner_page(browser: Browser, url: str, locale: str, size: tuple[int, int]) -> Page:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url + "owner/")
    return page


def log_in(page: Page, password: str) -> None:
    """Gradio's login form, in whatever language Gradio shows it."""
    page.locator("input").first.fill("owner")
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name=re.compile("Login|登录")).click()


def card(page: Page, key: str) -> str:
    return page.locator(f'[data-card="{key}"] .value').inner_text()


def test_the_owner_page_asks_for_the_owners_login_and_refuses_a_wrong_one(
    browser: Browser, owner_app: tuple[OwnerApp, list[str]]
) -> None:
    app, _ = owner_app
    page = open_owner_page(browser, app.url, "en-US", (1440, 900))
    expect(page.get_by_text("sign in as owner", exact=False)).to_be_visible()
    log_in(page, "not-the-password")
    expect(page.get_by_text("Incorrect Credentials", exact=False)).to_be_visible()
    expect(page.locator("#owner-cards")).to_have_count(0)
    page.context.close()


@pytest.mark.parametrize(
    "size", [(1440, 900), (1366, 768), (390, 844)], ids=["1440", "1366", "390"]
)
def test_the_owner_sees_todays_figures_and_the_plots_in_english(
    browser: Browser, owner_app: tuple[OwnerApp, list[str]], size: tuple[int, int]
) -> None:
    app, task_ids = owner_app
    page = open_owner_page(browser, app.url, "en-US", size)
    log_in(page, OWNER)
    expect(page.get_by_role("heading", name="Owner's view")).to_be_visible()
    expect(page.locator('[data-card="creates"] .value')).to_have_text("3")
    assert card(page, "results") == "3"  # the create the API refused never ran
    assert "done 2 · failed 1 · errors 0" in page.locator('[data-card="results"]').inner_text()
    assert "1301" in page.locator('[data-card="results"]').inner_text()  # its code, though
    assert card(page, "refusals") == "2"  # the API's refusal and the picture
    assert card(page, "cap") == "47 left"
    assert card(page, "credits") == "3"
    for plot in ("hourly", "outcomes", "refusals", "times"):
        expect(page.locator(f"#owner-{plot} canvas, #owner-{plot} svg").first).to_be_visible()
    table = page.locator("#owner-table")
    for back in range(7):
        expect(table).to_contain_text(day_of(time.time() - back * DAY))
    text = page.locator("body").inner_text()
    for secret in [*task_ids, VISITOR, FAKE_KEY, OWNER]:
        assert secret not in text and secret not in page.content(), secret
    save_screenshot(page, "owner" if size[0] == 1440 else f"owner-{size[0]}")
    page.context.close()


def test_a_chinese_owner_reads_the_page_in_chinese_and_can_switch_to_english(
    browser: Browser, owner_app: tuple[OwnerApp, list[str]]
) -> None:
    app, _ = owner_app
    page = open_owner_page(browser, app.url, "zh-CN", (1440, 900))
    log_in(page, OWNER)
    expect(page.get_by_role("heading", name="所有者视图")).to_be_visible()
    expect(page.locator('[data-card="creates"] .title')).to_have_text("今日试穿")
    assert card(page, "cap") == "剩余 47"
    assert "完成 2 · 失败 1 · 出错 0" in page.locator('[data-card="results"]').inner_text()
    assert "图片被拒 1" in page.locator('[data-card="refusals"]').inner_text()
    expect(page.locator("#owner-refresh")).to_have_text("刷新")
    save_screenshot(page, "owner-chinese")
    phone = open_owner_page(browser, app.url, "zh-CN", (390, 844))
    log_in(phone, OWNER)
    expect(phone.get_by_role("heading", name="所有者视图")).to_be_visible()
    save_screenshot(phone, "owner-chinese-390")
    phone.context.close()

    page.locator("#owner-language input").click()
    page.get_by_role("option", name="English").click()
    expect(page.get_by_role("heading", name="Owner's view")).to_be_visible()
    expect(page.locator('[data-card="creates"] .title')).to_have_text("Try-ons today")
    assert re.search(r"done 2", page.locator('[data-card="results"]').inner_text())
    page.context.close()
