"""What a person can see, measured with bounding boxes: no label under an icon, no message
landing off the screen, no picture cut off in the lookbook."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ROOT
from tests.browser.test_first_screen import open_page
from tests.browser.test_page import PERSON, upload

pytestmark = pytest.mark.browser

DESKTOPS = {"1440x900": (1440, 900), "1366x768": (1366, 768)}
LOCALES = {"en": "en-US", "zh": "zh-CN"}
GARMENTS = ROOT / "assets" / "garments"

#: Every text on the page that an icon or a dropdown arrow sits on: the text's own boxes (a
#: Range over a label's text, or a dropdown's value measured in its font) against the icon
#: buttons and arrows drawn over the same block.
COVERED_JS = """
() => {
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden";
  };
  const meets = (a, b) =>
    a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const found = [];
  const labels = document.querySelectorAll(
    "label[data-testid=block-label], span[data-testid=block-info], .label-wrap > span"
  );
  for (const label of labels) {
    if (!shown(label) || label.classList.contains("sr-only")) continue;
    const block = label.closest(".block") || label.parentElement;
    const icons = [...block.querySelectorAll(".icon-button-wrapper button, .icon-button-wrapper a")]
      .filter(shown);
    const range = document.createRange();
    range.selectNodeContents(label);
    for (const text of range.getClientRects()) {
      for (const icon of icons) {
        if (meets(text, icon.getBoundingClientRect())) {
          found.push([label.innerText.trim(), icon.getAttribute("aria-label") || icon.title]);
        }
      }
    }
  }
  const canvas = document.createElement("canvas").getContext("2d");
  for (const input of document.querySelectorAll("input[role=combobox]")) {
    if (!shown(input) || !input.value) continue;
    const arrow = input.closest(".wrap-inner")?.querySelector(".icon-wrap");
    if (!arrow || !shown(arrow)) continue;
    const style = getComputedStyle(input);
    canvas.font = style.font;
    const box = input.getBoundingClientRect();
    const left = box.left + parseFloat(style.paddingLeft);
    const textBox = {left, right: left + canvas.measureText(input.value).width,
                     top: box.top, bottom: box.bottom};
    const clipped = box.right - parseFloat(style.paddingRight);
    if (meets(textBox, arrow.getBoundingClientRect()) || textBox.right > clipped + 1) {
      found.push([input.value, "dropdown arrow"]);
    }
  }
  return found;
}
"""


def covered(page: Page) -> list[list[str]]:
    """Each (text, what covers it) on the page as it is now."""
    return list(page.evaluate(COVERED_JS))


def choose(page: Page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    # Scoped to this dropdown: a list left open by the previous choice holds the same names.
    page.locator(dropdown).get_by_role("option", name=option, exact=True).click()
    expect(page.locator(f"{dropdown} input")).to_have_value(option)


@pytest.mark.parametrize("locale", list(LOCALES))
@pytest.mark.parametrize("screen", [*DESKTOPS, "390x844"])
def test_no_label_or_choice_lies_under_an_icon_or_an_arrow(
    browser: Browser, app_url: str, screen: str, locale: str
) -> None:
    width, height = DESKTOPS.get(screen, (390, 844))
    page = open_page(
        browser, app_url, viewport={"width": width, "height": height}, locale=LOCALES[locale]
    )
    zh = locale == "zh"
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.locator("#outfit button.label-wrap").click()
    page.locator("#outfit-top input[type=file]").set_input_files(
        str(GARMENTS / "top-tshirt-red.png")
    )
    page.locator("#outfit-bottom input[type=file]").set_input_files(
        str(GARMENTS / "bottom-jeans.png")
    )
    expect(page.locator("#outfit-bottom img")).to_be_visible()
    choose(
        page,
        "#outfit-bottom-kind",
        "连体服装（连衣裙、连身裤）" if zh else "one-piece (dress, jumpsuit)",
    )
    choose(
        page,
        "#model-name",
        "Kolors v1.5（也支持上衣 + 下装）" if zh else "Kolors v1.5 (also top + bottom)",
    )
    assert (found := covered(page)) == [], found
    page.click("#lookbook-tab-button")
    choose(
        page,
        "#lookbook-model",
        "Kolors v1.5（也支持上衣 + 下装）" if zh else "Kolors v1.5 (also top + bottom)",
    )
    assert (found := covered(page)) == [], found
    page.context.close()


def test_the_measure_sees_a_label_under_an_icon(browser: Browser, app_url: str) -> None:
    # The check above must be able to fail: squeeze the API panel until its label runs under
    # the copy and download icons.
    page = open_page(browser, app_url, viewport={"width": 1440, "height": 900})
    page.wait_for_selector("#request-json label")  # drawn a moment after Run, on a busy machine
    page.evaluate("document.querySelector('#request-json').style.width = '160px'")
    page.evaluate(
        "document.querySelector('#request-json label').style.maxWidth = 'none';"
        "document.querySelector('#request-json label').style.whiteSpace = 'nowrap'"
    )
    assert covered(page) != []
    page.context.close()


# -- messages in view --------------------------------------------------------------------------


def in_viewport(page: Page, selector: str) -> dict[str, Any]:
    """Where ``selector`` lies, and whether wholly inside the viewport."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    inside = box["y"] >= -1 and box["y"] + box["height"] <= size["height"] + 1  # sub-pixels
    return {"inside": inside, "box": box, "viewport": size}


def wait_in_view(page: Page, selector: str) -> None:
    """The message is scrolled into view (waited for: the page scrolls once it lands)."""
    expect(page.locator(selector)).to_be_in_viewport(ratio=0.99)
    where = in_viewport(page, selector)
    assert where["inside"], where


@pytest.mark.parametrize("screen", list(DESKTOPS))
@pytest.mark.parametrize(
    ("bottom", "said"),
    [("bottom-jeans.png", "Outfit composed"), ("top-tshirt-red.png", "two tops")],
)
def test_the_composers_message_is_scrolled_into_view(
    browser: Browser, app_url: str, screen: str, bottom: str, said: str
) -> None:
    width, height = DESKTOPS[screen]
    page = open_page(browser, app_url, viewport={"width": width, "height": height})
    page.locator("#outfit button.label-wrap").click()
    page.locator("#outfit-top input[type=file]").set_input_files(
        str(GARMENTS / "top-tshirt-striped.png")
    )
    page.locator("#outfit-bottom input[type=file]").set_input_files(str(GARMENTS / bottom))
    if bottom.startswith("top"):
        choose(page, "#outfit-bottom-kind", "top")
    expect(page.locator("#outfit-bottom img")).to_be_visible()
    # Where a person pressing Compose has the page: the composer filling the screen.
    page.locator("#outfit").evaluate("box => box.scrollIntoView({block: 'start'})")
    page.click("#compose-button")
    expect(page.locator("#status")).to_contain_text(said, timeout=30_000)
    wait_in_view(page, "#status")
    page.context.close()


@pytest.mark.parametrize("how", ["button", "enter"])
@pytest.mark.parametrize("screen", list(DESKTOPS))
def test_historys_not_found_is_scrolled_into_view(
    browser: Browser, app_url: str, screen: str, how: str
) -> None:
    width, height = DESKTOPS[screen]
    page = open_page(browser, app_url, viewport={"width": width, "height": height})
    # A visitor who ran once before: the API panel and the history are full, the page long.
    upload(page)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=30_000)
    page.click("#history-tab-button")
    expect(page.locator("#history-table tbody tr")).to_have_count(1)
    # Where a person typing an id has the page: the tabs filling the screen.
    page.locator("#more-tabs").evaluate("tabs => tabs.scrollIntoView({block: 'start'})")
    field = page.locator("#task-id input, #task-id textarea").first
    field.fill("no-such-task-123")
    if how == "button":
        page.click("#attach-button")
    else:
        field.press("Enter")
    expect(page.locator("#status")).to_contain_text("Not found", timeout=30_000)
    wait_in_view(page, "#status")
    page.context.close()


# -- the lookbook's pictures -----------------------------------------------------------------

#: Each picture in a gallery: the share of it not clipped by a scrolling or hidden-overflow
#: container, whether its frame crops it (object-fit: cover on a frame of another shape), and
#: whether the gallery's label lies over it.
PICTURES_JS = """
(gallery) => [...gallery.querySelectorAll("img")].map((img) => {
  const box = img.getBoundingClientRect();
  const label = gallery.querySelector("label[data-testid=block-label]")?.getBoundingClientRect();
  const labelled = !!label && label.width > 0 && label.left < box.right && box.left < label.right
    && label.top < box.bottom && box.top < label.bottom;
  let seen = {left: box.left, right: box.right, top: box.top, bottom: box.bottom};
  for (let node = img.parentElement; node && node !== document.body; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.overflowX === "visible" && style.overflowY === "visible") continue;
    const clip = node.getBoundingClientRect();
    seen = {left: Math.max(seen.left, clip.left), right: Math.min(seen.right, clip.right),
            top: Math.max(seen.top, clip.top), bottom: Math.min(seen.bottom, clip.bottom)};
  }
  const area = (r) => Math.max(0, r.right - r.left) * Math.max(0, r.bottom - r.top);
  const fit = getComputedStyle(img).objectFit;
  const frame = box.width / box.height;
  const picture = img.naturalWidth / img.naturalHeight;
  const cropped = fit === "cover" && Math.abs(frame - picture) / picture > 0.02;
  return {src: img.src.split("/").pop(), shown: area(seen) / area(box), cropped, labelled};
})
"""


def pictures_in(page: Page, gallery: str) -> list[dict[str, Any]]:
    page.locator(gallery).scroll_into_view_if_needed()
    return list(page.locator(gallery).evaluate(PICTURES_JS))


@pytest.mark.parametrize("screen", [*DESKTOPS, "390x844"])
def test_the_lookbook_shows_every_garment_and_whole_people(
    browser: Browser, app_url: str, screen: str
) -> None:
    width, height = DESKTOPS.get(screen, (390, 844))
    page = open_page(browser, app_url, viewport={"width": width, "height": height})
    page.locator("#human-image input[type=file]").set_input_files(PERSON)
    page.click("#lookbook-tab-button")
    page.click("#lookbook-examples")
    expect(page.locator("#lookbook-garments img")).to_have_count(7)
    garments = pictures_in(page, "#lookbook-garments")
    assert [g for g in garments if g["shown"] < 0.999 or g["cropped"] or g["labelled"]] == []
    page.click("#lookbook-run")
    expect(page.locator("#lookbook-status")).to_contain_text("Finished", timeout=60_000)
    expect(page.locator("#lookbook-results img")).to_have_count(7)
    results = pictures_in(page, "#lookbook-results")
    assert [r for r in results if r["shown"] < 0.999 or r["cropped"] or r["labelled"]] == []
    page.context.close()
