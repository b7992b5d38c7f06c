"""Every fixed text of the page in the visitor's language, switched in place, at once.

The page is built with ``gr.I18n`` markers (``T("run")``), which Gradio's frontend translates
when each part is first drawn, in the browser's language. A switch of language afterwards
reaches only some of them (a tab's label, a table's headers and Gradio's own upload texts stay
as they were drawn), and the tables' headers are the server's own text. So the language
switch, and the page's load, send every text again from the server: :func:`page_texts` finds
each marker the page was built with (labels, info lines, placeholders, choices, the values of
buttons and Markdown), and :func:`wire` sends them in the chosen language, with the tables
rendered anew. A value a handler has changed since (a status line after a run) is left as it
is: only a value still showing its fixed text in some language is replaced.

Gradio's own texts follow its locale, which :data:`APPLY_LOCALE_JS` switches first; a gallery
drawn before the switch keeps its upload text until it is drawn again, so it is hidden and
shown once more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.blocks import Block
from gradio.i18n import I18nData

from ..text.i18n import Language, choose, gradio_locales
from ..text.messages import languages, text

#: A component's properties that hold text a person reads.
TEXT_PROPS = ("label", "info", "placeholder", "value", "choices")
_MARKER = re.compile(r'__i18n__(\{[^{}]*"key":\s*"[^"]*"[^{}]*\})')

#: Switches Gradio's own locale (its upload texts, and the markers it translates itself) to
#: the chosen language, and waits until it has, so that the server's texts land after it.
#: Gradio picks its locale from ``navigator.language`` once at start-up and exposes no public
#: way to change it; its frontend module "core-*.js" exports the ``changeLocale`` its own
#: settings panel uses, so the page imports that same (already loaded, hence the same
#: instance) module. Best effort: if a Gradio version renames it, Gradio's own few texts stay
#: in the browser's language and everything the server sends still switches. It hands the
#: inputs on to the server's handler, the last one (:func:`wire`'s hidden flag) set to say
#: whether the locale changed just now.
APPLY_LOCALE_JS = r"""
async (choice, ...rest) => {
  const locales = __LOCALES__;
  const target = locales[choice];
  // The page starts in the browser's language: nothing to switch until the visitor does.
  const browser = (navigator.language || "").toLowerCase().split("-")[0];
  const drawnIn = window.__tryonLocale || browser;
  let switched = false;
  if (target && drawnIn !== choice) {
    try {
      const url = performance.getEntriesByType("resource").map((entry) => entry.name)
        .find((name) => /\/assets\/core-[\w-]+\.js(\?.*)?$/.test(name));
      const core = url ? await import(url) : null;
      if (core && typeof core.changeLocale === "function") {
        core.changeLocale(target);
        window.__tryonLocale = choice;
        switched = true;
        // Gradio loads the locale's texts before it sets <html lang>.
        for (let waited = 0; waited < 2000 && document.documentElement.lang !== target;
             waited += 50) {
          await new Promise((done) => setTimeout(done, 50));
        }
      }
    } catch (error) {
      console.warn("language switch: Gradio's locale could not be changed", error);
    }
  }
  // The last input says whether Gradio's own texts changed language just now (then the
  // galleries must be drawn again); a page load in the browser's language changes none.
  return [choice, ...rest.slice(0, -1), switched ? "yes" : ""];
}
""".replace("__LOCALES__", json.dumps(gradio_locales()))


@dataclass(frozen=True)
class PageText:
    """One property of one component, and the text it was built with (markers and all)."""

    block: Block
    prop: str
    template: Any

    def render(self, lang: Language) -> Any:
        """The property's value in ``lang``."""
        return translated(self.template, lang)

    def shows_fixed_text(self, current: Any) -> bool:
        """Whether ``current`` (the value the browser holds) is still the fixed text, in any
        language, rather than something a handler put there since."""
        return _same_text(current, self.template) or any(
            _same_text(current, self.render(lang)) for lang in languages()
        )


def _same_text(shown: Any, rendered: Any) -> bool:
    return str(shown if shown is not None else "").strip() == str(rendered).strip()


def translated(template: Any, lang: Language) -> Any:
    """``template`` with every ``gr.I18n`` marker replaced by its text in ``lang``; choices
    (``[(label, value), ...]``) keep their values."""
    if isinstance(template, I18nData):
        return text(f"ui.{template.key}", lang)
    if isinstance(template, str):
        return _MARKER.sub(lambda found: _marker_text(found.group(1), lang), template)
    if isinstance(template, list | tuple):
        return [
            (translated(item[0], lang), item[1])
            if isinstance(item, list | tuple) and len(item) == 2
            else translated(item, lang)
            for item in template
        ]
    return template


def _marker_text(payload: str, lang: Language) -> str:
    try:
        key = json.loads(payload)["key"]
    except (ValueError, KeyError, TypeError):
        return payload
    return text(f"ui.{key}", lang)


def _has_marker(value: Any) -> bool:
    if isinstance(value, I18nData):
        return True
    if isinstance(value, str):
        return "__i18n__" in value
    if isinstance(value, list | tuple):
        return any(_has_marker(item) for item in value)
    return False


def page_texts(demo: gr.Blocks) -> list[PageText]:
    """Every property of the page's components built with a ``gr.I18n`` marker."""
    found = []
    for block in demo.blocks.values():
        for prop in TEXT_PROPS:
            value = getattr(block, prop, None)
            if prop == "value" and not isinstance(value, str):
                continue  # a picture, a table, a file: no text of the page's own
            if _has_marker(value):
                found.append(PageText(block, prop, value))
    return found


#: A table the switch renders anew: the component, the inputs it is made from, and how.
Table = tuple[gr.components.Component, Sequence[Any], Callable[..., Any]]


def wire(
    demo: gr.Blocks,
    language: gr.Dropdown,
    tables: Sequence[Table] = (),
    redrawn: Sequence[gr.components.Component] = (),
) -> None:
    """On the page's load (once the switch shows the visitor's language) and on every switch:
    Gradio's locale first, then every fixed text and ``tables`` in the chosen language.
    ``redrawn`` (galleries with an upload area) are hidden and shown again so that Gradio
    draws its own texts anew."""
    texts = page_texts(demo)
    values = [t for t in texts if t.prop == "value"]
    watched = list(dict.fromkeys(t.block for t in values))  # each once, in order
    table_inputs = [component for _, inputs, _ in tables for component in inputs]
    # Set by APPLY_LOCALE_JS: "yes" when Gradio's own texts changed language just now.
    locale_switched = gr.Textbox(visible=False, elem_id="locale-switched")
    outputs = list(
        dict.fromkeys(
            [
                *(t.block for t in texts),
                *(table for table, _, _ in tables),
                *redrawn,
                locale_switched,  # kept for the follow-up that shows the galleries again
            ]
        )
    )

    def relabel(choice: str | None, *current: Any) -> dict[Any, Any]:
        # The switch always names a language here: the page's load sets it to the visitor's.
        lang = choose(choice, None)
        now = dict(zip(watched, current[: len(watched)], strict=True))
        rest = list(current[len(watched) : -1])
        redraw = current[-1] == "yes"
        changes: dict[Any, dict[str, Any]] = {block: {} for block in outputs}
        for page_text in texts:
            rendered = page_text.render(lang)
            if page_text.prop == "value":
                # What the visitor sees may have changed since this event was sent (a status
                # after a run pressed while the page loaded): a value is replaced only where
                # it shows a fixed text in another language, never with the text it shows.
                shown = now.get(page_text.block)
                if not page_text.shows_fixed_text(shown) or _same_text(shown, rendered):
                    continue
            changes[page_text.block][page_text.prop] = rendered
        for table, inputs, render in tables:
            given, rest = rest[: len(inputs)], rest[len(inputs) :]
            changes[table] = {"__table__": render(*given, lang)}
        if redraw:
            # Hiding a gallery drops a picture being chosen for it at that moment, so only
            # when Gradio's texts in it would otherwise stay in the other language.
            for block in redrawn:
                changes[block]["visible"] = False
        changes[locale_switched]["value"] = "yes" if redraw else ""
        return {
            block: (change["__table__"] if "__table__" in change else gr.update(**change))
            for block, change in changes.items()
            if change
        }

    event = language.change(
        relabel,
        [language, *watched, *table_inputs, locale_switched],
        outputs,
        js=APPLY_LOCALE_JS,
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    if redrawn:

        def show_again(switched: str | None) -> Any:
            shown = [gr.update(visible=True) if switched == "yes" else gr.skip() for _ in redrawn]
            return shown if len(shown) > 1 else shown[0]

        event.then(
            show_again,
            [locale_switched],
            list(redrawn),
            api_visibility="private",
            queue=False,
            show_progress="hidden",
        )
