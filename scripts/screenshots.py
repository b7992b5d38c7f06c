"""Screenshots of the page as a visitor sees it, to look at after any change to the page.

Starts the app offline (the simulator) on a free loopback port and, in headless Chromium, for
each screen (1440 x 900, 1366 x 768, 390 x 844) and language (English, Chinese): the first
screen as it opens, the first screen and the whole page after a run on the page's own
examples, and the Lookbook, History and Before/after tabs. Pictures go to
``test-output/look/<screen>-<lang>-<what>.png``.

    python scripts/screenshots.py [--only 390x844] [--lang zh]
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tryon_demo.settings import Settings  # noqa: E402
from tryon_demo.ui import build_demo, launch_options  # noqa: E402

SCREENS = {"1440x900": (1440, 900), "1366x768": (1366, 768), "390x844": (390, 844)}
LOCALES = {"en": "en-US", "zh": "zh-CN"}
OUT = ROOT / "test-output" / "look"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shoot(page: Page, name: str, *, full: bool = False) -> None:
    page.wait_for_timeout(400)  # let transitions settle
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)


def visit(page: Page, url: str, prefix: str) -> None:
    page.goto(url)
    page.wait_for_selector("#run-button")
    shoot(page, f"{prefix}-open")
    page.locator("#human-image input[type=file]").set_input_files(
        str(ROOT / "assets" / "people" / "person-ava.jpg")
    )
    page.locator("#cloth-image input[type=file]").set_input_files(
        str(ROOT / "assets" / "garments" / "top-tshirt-red.png")
    )
    expect(page.locator("#cloth-image img")).to_be_visible()
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=60_000)
    page.wait_for_timeout(800)
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, f"{prefix}-after-run")
    shoot(page, f"{prefix}-after-run-full", full=True)
    for tab in ("lookbook", "history"):
        button = page.locator(f"#{tab}-tab-button")
        if button.count():
            button.click()
            page.wait_for_timeout(500)
            shoot(page, f"{prefix}-tab-{tab}", full=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=list(SCREENS), help="one screen size")
    parser.add_argument("--lang", choices=list(LOCALES), help="one language")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tryon-look-"))
    settings = Settings(simulator_task_seconds=2.0, state_dir=workdir / "state")
    demo = build_demo(settings, workdir=workdir)
    _, url, _ = demo.launch(
        prevent_thread_lock=True,
        quiet=True,
        server_port=free_port(),
        **launch_options(workdir, settings),
    )
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            for screen, (width, height) in SCREENS.items():
                if args.only and screen != args.only:
                    continue
                for lang, locale in LOCALES.items():
                    if args.lang and lang != args.lang:
                        continue
                    context = browser.new_context(
                        viewport={"width": width, "height": height},
                        locale=locale,
                        is_mobile=width < 500,
                        has_touch=width < 500,
                        device_scale_factor=1,
                    )
                    page = context.new_page()
                    page.set_default_timeout(30_000)
                    visit(page, url, f"{screen}-{lang}")
                    context.close()
                    print(f"{screen} {lang}: done", flush=True)
            browser.close()
    finally:
        demo.close()
    print(f"screenshots in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
