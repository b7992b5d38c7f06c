"""What the page does for people on a keyboard or a screen reader, and to keep a message in
view, where Gradio has no option for it: a hidden list of the examples' names, and two small
scripts, each explained where it is defined."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from .common import T

#: The ids of the examples' names (``example-name-<file stem>``), which the page script gives
#: each example thumbnail as its name (``aria-labelledby``).
EXAMPLE_NAME_PREFIX = "example-name-"

#: Run once when the page loads (``launch(js=...)``), and again whenever Gradio redraws part of
#: the page. Three gaps in Gradio's own markup that no component option reaches:
#: - an example thumbnail (``gr.Examples``) is a button holding only a picture with an empty
#:   ``alt``, so it has no name; ``example_labels`` would name it but show the text instead of
#:   the picture. The script points each thumbnail at its name in the hidden list that
#:   :func:`example_names` draws in the visitor's language (so the language switch renames it).
#: - an empty picture (a compare result not made yet) is a ``div`` with an ``aria-label`` and no
#:   role, which ARIA forbids; it is only a grey placeholder, so it is hidden from screen readers.
#: - a read-only table wider than a phone (History's) scrolls sideways inside a region that no
#:   key can reach (its cells take no focus); its first column header takes the focus, so Tab
#:   reaches it and the arrow keys scroll it.
PAGE_JS = r"""
() => {
  const prefix = __PREFIX__;
  const stem = (src) => decodeURIComponent((src || "").split("?")[0].split("/").pop())
    .replace(/\.[^.]+$/, "");
  const mend = () => {
    for (const thumb of document.querySelectorAll("button.gallery-item")) {
      const name = prefix + stem(thumb.querySelector("img")?.getAttribute("src"));
      if (document.getElementById(name) && thumb.getAttribute("aria-labelledby") !== name) {
        thumb.setAttribute("aria-labelledby", name);
      }
    }
    for (const empty of document.querySelectorAll(".empty[aria-label]:not([role])")) {
      if (empty.getAttribute("aria-hidden") !== "true") empty.setAttribute("aria-hidden", "true");
    }
    for (const table of document.querySelectorAll(".virtual-table-viewport")) {
      const first = table.querySelector("th[role=columnheader]");
      if (first && first.getAttribute("tabindex") !== "0") first.setAttribute("tabindex", "0");
    }
  };
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; mend(); });
  }).observe(document.body, {childList: true, subtree: true});
  mend();
}
""".replace("__PREFIX__", json.dumps(EXAMPLE_NAME_PREFIX))


def example_names(paths: Sequence[str | Path]) -> gr.HTML:
    """The hidden list of the examples' names (catalogue keys ``ui.example_<file stem>``, with
    ``-`` read as ``_``), each under the id the page script looks for."""
    spans = "".join(
        f'<span id="{EXAMPLE_NAME_PREFIX}{Path(p).stem}">{T(example_key(p))}</span>' for p in paths
    )
    return gr.HTML(
        f'<div hidden="hidden">{spans}</div>',
        container=False,
        padding=False,
        elem_classes=["example-names"],
    )


def example_key(path: str | Path) -> str:
    """The catalogue key (without ``ui.``) naming the example picture at ``path``."""
    return "example_" + Path(path).stem.replace("-", "_")


def reveal_js(elem_id: str) -> str:
    """A script that brings the element ``elem_id`` into view unless it is wholly in view
    already: its bottom at the screen's bottom, so what stands above it (the result above the
    status) shows too. Run after an action whose message lands far from the button pressed
    (the composer and History both report in the status at the top of the page)."""
    return r"""
() => {
  const el = document.getElementById(__ID__);
  if (!el) return;
  const box = el.getBoundingClientRect();
  if (box.height === 0 || (box.top >= 0 && box.bottom <= window.innerHeight)) return;
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  el.scrollIntoView({block: box.height < window.innerHeight ? "end" : "start",
                     behavior: calm ? "auto" : "smooth"});
}
""".replace("__ID__", json.dumps(elem_id))


def reveal_on(triggers: list[Any], elem_id: str) -> None:
    """When any of ``triggers`` fires, bring ``elem_id`` into view."""
    gr.on(triggers, None, None, None, js=reveal_js(elem_id), queue=False, api_visibility="private")


def reveal_after(event: Any, elem_id: str) -> None:
    """Once ``event`` (an event's dependency) ends, bring ``elem_id`` into view."""
    event.then(None, None, None, js=reveal_js(elem_id), queue=False, api_visibility="private")
