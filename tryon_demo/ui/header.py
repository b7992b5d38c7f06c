"""The page's header: title, the offline/online banner and the language switch."""

from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

from ..text.i18n import gradio_locales, language_choices
from .common import LANGUAGE_CODES, Context, T, lang_of

#: Where the language switch is remembered in the browser (localStorage), across restarts.
LANGUAGE_STORAGE_KEY = "kolors-tryon-language"
#: Switches Gradio's own locale (the gr.I18n labels) to the chosen language. Gradio picks its
#: locale from navigator.language once at start-up and exposes no public way to change it; its
#: frontend module "core-*.js" exports the ``changeLocale`` its own settings panel uses, so the
#: page imports that same (already loaded, hence the same instance) module. Best effort: if a
#: Gradio version renames it, only the fixed labels stay in the browser's language.
APPLY_LOCALE_JS = r"""
async (choice) => {
  const locales = __LOCALES__;
  if (!choice || !(choice in locales)) return;
  // The page starts in the browser's language: nothing to switch until the visitor does.
  const browser = (navigator.language || "").toLowerCase().split("-")[0];
  if (!window.__tryonLocaleSwitched && browser === choice) return;
  try {
    const url = performance.getEntriesByType("resource").map((entry) => entry.name)
      .find((name) => /\/assets\/core-[\w-]+\.js(\?.*)?$/.test(name));
    if (!url) return;
    const core = await import(url);
    if (typeof core.changeLocale === "function") {
      core.changeLocale(locales[choice]);
      window.__tryonLocaleSwitched = true;
    }
  } catch (error) {
    console.warn("language switch: Gradio's locale could not be changed", error);
  }
}
""".replace("__LOCALES__", json.dumps(gradio_locales()))


@dataclass
class Header:
    """The language switch every handler reads (its last input) and where it is kept."""

    language: gr.Dropdown
    saved_language: gr.BrowserState


def build_header(ctx: Context) -> Header:
    """The header row; the switch's choice is remembered in the browser."""
    if ctx.offline:
        banner = f'<span class="mode-banner mode-offline">{T("banner_offline")}</span>'
    else:
        online = f"{T('banner_online')} {ctx.settings.base_host}"
        banner = f'<span class="mode-banner mode-online">{online}</span>'
    saved_language = gr.BrowserState(
        "", storage_key=LANGUAGE_STORAGE_KEY, secret=LANGUAGE_STORAGE_KEY
    )
    with gr.Row(elem_id="app-header"):
        gr.HTML(
            f"<div><h1>Kolors Try-On Studio</h1><p>{T('subtitle')}</p></div>",
            elem_id="header",
            padding=False,
        )
        gr.HTML(banner, elem_id="mode", padding=False)
        language = gr.Dropdown(
            language_choices(),
            value=None,
            label=T("language"),
            show_label=False,
            container=False,
            min_width=110,
            scale=0,
            elem_id="language",
        )
    return Header(language, saved_language)


def wire_header(demo: gr.Blocks, header: Header) -> None:
    """A choice is remembered in the browser and overrides the browser's language for every
    text the server writes; it also switches Gradio's labels."""

    def initial_language(saved: str | None, request: gr.Request) -> str:
        """The switch shows the remembered choice, else the browser's language."""
        return lang_of(request, saved)

    demo.load(
        initial_language,
        [header.saved_language],
        [header.language],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    header.language.input(
        lambda choice: choice if choice in LANGUAGE_CODES else "",
        [header.language],
        [header.saved_language],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    header.language.change(
        None, [header.language], None, js=APPLY_LOCALE_JS, api_visibility="private"
    )
