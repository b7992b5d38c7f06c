"""What a visitor typed comes back as text, never as a link or other markup (issue 23,
finding 5), as Gradio's own Markdown renderer in a real browser shows it.

Escaping ``< > [ ] *`` is not enough: Gradio renders Markdown with GitHub's extensions, which
turn a bare ``https://...``, ``www....`` or ``someone@host`` into a link by themselves.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_page import GARMENT

pytestmark = pytest.mark.browser

TYPED = [
    "see https://evil.example/login now",
    "www.evil.example",
    "write to boss@evil.example",
    "get ftp://evil.example/x",
    "<https://evil.example>",
    "[click](https://evil.example)",
]


@pytest.mark.parametrize("typed", TYPED)
def test_text_typed_as_a_link_comes_back_in_the_status_as_plain_text(
    page: Page, typed: str
) -> None:
    page.locator("#cloth-image input[type=file]").set_input_files(GARMENT)
    page.locator("#human-url input, #human-url textarea").first.fill(typed)
    page.click("#run-button")
    status = page.locator("#status")
    expect(status).to_contain_text("give an uploaded image or an http(s) link")
    expect(status).to_contain_text(typed[:60])  # shown as typed, every character
    assert status.locator("a").count() == 0, status.inner_html()
