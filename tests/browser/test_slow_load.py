"""What a visitor does while the page is still settling is kept.

When the page loads, the server sends every fixed text again in the visitor's language (see
``tryon_demo/ui/relabel.py``). On a slow link or a busy server that reply can land after the
visitor has already chosen pictures or pressed Run; it must not undo what they did. The reply
is held back here in the browser (a wrapped ``fetch``) until the visitor has acted, then let go.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ROOT
from tests.browser.test_language import choose_language
from tests.browser.test_page import GARMENT

pytestmark = pytest.mark.browser

#: Holds every request of the event ``__FN__`` until ``window.__release()`` is called.
HOLD_JS = """
(() => {
  let release;
  const held = new Promise((done) => (release = done));
  window.__release = () => release();
  window.__heldSeen = 0;
  window.__heldDone = 0;
  const pattern = /"fn_index":\\s*__FN__\\b/;
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const body = init && typeof init.body === "string" ? init.body : "";
    if (!pattern.test(body)) return realFetch(input, init);
    window.__heldSeen += 1;
    await held;
    try {
      return await realFetch(input, init);
    } finally {
      setTimeout(() => (window.__heldDone += 1), 0);
    }
  };
})();
"""


def relabel_event(app_url: str) -> int:
    """The index of the page's relabelling event (the one that switches Gradio's locale)."""
    config = requests.get(app_url.rstrip("/") + "/config", timeout=10).json()
    found = [d["id"] for d in config["dependencies"] if "changeLocale" in (d.get("js") or "")]
    assert len(found) == 1, found
    return int(found[0])


@pytest.fixture
def held(browser: Browser, app_url: str) -> Iterator[Page]:
    """The page, its load-time relabelling sent but its reply not yet let in."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(HOLD_JS.replace("__FN__", str(relabel_event(app_url))))
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(app_url)
    page.wait_for_selector("#run-button")
    page.wait_for_function("window.__heldSeen >= 1")
    yield page
    context.close()


def let_the_load_finish(page: Page) -> None:
    page.evaluate("window.__release()")
    page.wait_for_function("window.__heldDone >= window.__heldSeen")
    page.wait_for_timeout(1500)  # the follow-up events of the reply, if any


def test_a_refusal_shown_before_the_page_settled_stays_shown(held: Page) -> None:
    held.locator("#cloth-image input[type=file]").set_input_files(GARMENT)
    held.locator("#human-url input, #human-url textarea").first.fill("not a link")
    held.click("#run-button")
    status = held.locator("#status")
    expect(status).to_contain_text("give an uploaded image or an http(s) link")
    let_the_load_finish(held)
    expect(status).to_contain_text("give an uploaded image or an http(s) link")


def test_lookbook_garments_chosen_before_the_page_settled_stay_chosen(held: Page) -> None:
    garments = [
        str(ROOT / "assets" / "garments" / name)
        for name in ("top-tshirt-red.png", "onepiece-dress-yellow.png")
    ]
    held.get_by_role("tab", name="Lookbook").click()
    held.locator("#lookbook-garments input[type=file]").set_input_files(garments)
    expect(held.locator("#lookbook-garments img")).to_have_count(2)
    let_the_load_finish(held)
    expect(held.locator("#lookbook-garments img")).to_have_count(2)


def test_lookbook_garments_being_shrunk_when_the_page_settles_still_arrive(
    held: Page, tmp_path: Path
) -> None:
    # A 12 MP photo keeps the page busy shrinking it while the held reply lands.
    photo = tmp_path / "camera.jpg"
    noise = Image.effect_noise((4000, 3000), 60).convert("RGB")
    noise.save(photo, quality=90)
    held.get_by_role("tab", name="Lookbook").click()
    held.locator("#lookbook-garments input[type=file]").set_input_files([str(photo)])
    held.evaluate("window.__release()")
    expect(held.locator("#lookbook-garments img")).to_have_count(1, timeout=20_000)
    held.wait_for_function("window.__heldDone >= window.__heldSeen")
    held.wait_for_timeout(1500)
    expect(held.locator("#lookbook-garments img")).to_have_count(1, timeout=20_000)


def test_a_lookbook_photo_being_shrunk_when_the_language_is_switched_still_arrives(
    page: Page, tmp_path: Path
) -> None:
    photo = tmp_path / "camera.jpg"
    Image.effect_noise((4000, 3000), 60).convert("RGB").save(photo, quality=90)
    page.get_by_role("tab", name="Lookbook").click()
    page.locator("#lookbook-garments input[type=file]").set_input_files([str(photo)])
    choose_language(page, "中文")  # the gallery is drawn again while the photo is shrunk
    expect(page.get_by_role("tab", name="造型集")).to_be_visible()
    expect(page.locator("#lookbook-garments img")).to_have_count(1, timeout=20_000)
