"""A real browser against the real app: headless Debian Chromium driven by Playwright.

No skip when the browser is missing: CI installs it, and a missing browser must fail the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.test_app import RunningApp
from tryon_demo.flow.clients import shared_simulator
from tryon_demo.settings import Settings
from tryon_demo.simulator.store import Simulator

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
DOCS = ROOT / "docs"


#: What the browser saw go wrong during the current test (console errors, HTTP errors, failed
#: requests): shown with a failing test's report, as the page's own toasts vanish with it.
SEEN: list[str] = []


def _watch(context: BrowserContext) -> BrowserContext:
    def console(message: Any) -> None:
        if message.type in ("error", "warning"):
            SEEN.append(f"console {message.type}: {message.text[:500]}")

    def response(answer: Any) -> None:
        if answer.status >= 400:
            SEEN.append(f"HTTP {answer.status} {answer.request.method} {answer.url[:200]}")

    def failed(request: Any) -> None:
        SEEN.append(f"request failed: {request.method} {request.url[:200]} ({request.failure})")

    context.on("console", console)
    context.on("response", response)
    context.on("requestfailed", failed)
    return context


@pytest.fixture(autouse=True)
def _forget_what_was_seen() -> None:
    SEEN.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and SEEN:
        report.sections.append(("what the browser saw", "\n".join(SEEN[-60:])))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread until it
    # stops, which would break later tests that call asyncio.run().
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (see .ci/run).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        opened = chromium.new_context
        # Every test's context is watched, whichever fixture or test opens it.
        chromium.new_context = lambda **options: _watch(opened(**options))  # type: ignore[method-assign]
        yield chromium
        chromium.close()


#: The browser tests' app. A pixel budget below the default, so a test can tell the page's
#: checks apply this app's own settings (test pictures are far smaller).
APP_SETTINGS = Settings(
    simulator_task_seconds=2.0,
    poll_interval=0.3,
    poll_max_interval=0.5,
    max_input_pixels=30_000_000,
)


def app_simulator() -> Simulator:
    """The offline simulator the browser tests' app talks to (this process's)."""
    return shared_simulator(APP_SETTINGS).simulator


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    running = RunningApp(APP_SETTINGS, tmp_path_factory.mktemp("browser-work"))
    yield running.url
    running.close()


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(app_url)
    page.wait_for_selector("#run-button")
    yield page
    context.close()


def save_screenshot(page: Page, name: str) -> Path:
    """Save to test-output/; with UPDATE_SCREENSHOTS=1 also to docs/ for the README."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(path, DOCS / f"screenshot-{name}.png")
    return path
