"""The page's accessibility helpers that need no browser (the browser checks are in
tests/browser/test_accessibility.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tryon_demo.text.messages import catalogue, languages
from tryon_demo.ui.a11y import EXAMPLE_NAME_PREFIX, example_key, example_names

ASSETS = Path(__file__).resolve().parents[1] / "assets"
EXAMPLES = sorted([*(ASSETS / "people").glob("*.jpg"), *(ASSETS / "garments").glob("*.png")])


@pytest.mark.parametrize("lang", languages())
def test_every_example_picture_has_a_name_in_every_language(lang: str) -> None:
    # A screen reader reads an example thumbnail by this name: a picture added to assets/
    # without one would be a nameless button again.
    names = catalogue(lang)
    missing = [p.name for p in EXAMPLES if f"ui.{example_key(p)}" not in names]
    assert missing == []
    assert len({names[f"ui.{example_key(p)}"] for p in EXAMPLES}) == len(EXAMPLES)


def test_the_hidden_list_holds_each_examples_name_under_the_id_the_page_script_reads() -> None:
    html = str(example_names(EXAMPLES).value)
    for path in EXAMPLES:
        assert f'id="{EXAMPLE_NAME_PREFIX}{path.stem}"' in html
        assert example_key(path) in html  # the gr.I18n marker the browser translates
    assert 'hidden="hidden"' in html
