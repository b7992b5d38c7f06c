"""The page's header: title, the offline/online banner and the language switch."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ..text.i18n import language_choices
from .common import LANGUAGE_CODES, Context, T, lang_of

#: Where the language switch is remembered in the browser (localStorage), across restarts.
LANGUAGE_STORAGE_KEY = "kolors-tryon-language"


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
    text the server writes (the switch itself re-sends the page's texts: see
    :mod:`.relabel`)."""

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
