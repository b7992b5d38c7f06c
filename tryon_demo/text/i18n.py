"""Which language a visitor reads, and the page's texts in it.

Messages are keyed data (:mod:`tryon_demo.text.messages`) rendered from one catalogue per language
in ``tryon_demo/locales``; nothing here parses English back. The visitor's language is the one
they picked on the page (remembered by their browser) or else their browser's
``Accept-Language``. The page's fixed labels come from the same catalogues (the ``ui.`` keys),
handed to ``gr.I18n`` by :func:`ui_translations`. Nothing here knows about Gradio.
"""

from __future__ import annotations

from .messages import Msg, catalogue, languages, meta, render, text

Language = str  # a catalogue's name: "en", "zh", ...
#: The languages with a catalogue when the app started (the functions below look again).
LANGUAGES: tuple[Language, ...] = languages()


def language(accept_language: str | None) -> Language:
    """The visitor's language from an ``Accept-Language`` header: the most preferred language
    that has a catalogue (matched on the primary tag, ``zh-CN`` -> ``zh``), else English."""
    best: tuple[float, Language] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if primary not in languages() or quality <= 0:
            continue
        rank = quality - position * 1e-6  # equal weights: the first listed wins
        if best is None or rank > best[0]:
            best = (rank, primary)
    return best[1] if best else "en"


def choose(choice: str | None, accept_language: str | None) -> Language:
    """The language to render in: the visitor's choice on the page when it names a language
    with a catalogue, else the browser's ``Accept-Language``."""
    if choice and choice in languages():
        return choice
    return language(accept_language)


def translate(value: Msg | str, lang: Language) -> str:
    """``value`` in ``lang``: a :class:`Msg` is rendered from the catalogue; a plain string is
    shown as it is (it was never a key, so there is nothing to look up)."""
    return render(value, lang)


def language_choices() -> list[tuple[str, Language]]:
    """The language switch's choices: each language named in itself ("English", "中文")."""
    return [(str(meta(lang).get("name", lang)), lang) for lang in languages()]


def gradio_locales() -> dict[Language, str]:
    """The locale Gradio's frontend should switch to for each language (``zh`` -> ``zh-CN``)."""
    return {lang: str(meta(lang).get("gradio_locale", lang)) for lang in languages()}


def table_headers(lang: Language) -> tuple[str, ...]:
    """The lookbook table's column headers in ``lang``."""
    keys = ("number", "garment", "status", "task_id", "note")
    return tuple(text(f"lookbook.header_{key}", lang) for key in keys)


#: The lookbook table's column headers (kept for callers of the old name).
TABLE_HEADERS: dict[Language, tuple[str, ...]] = {lang: table_headers(lang) for lang in LANGUAGES}


def ui_translations() -> dict[str, dict[str, str]]:
    """The catalogues' ``ui.`` texts as ``gr.I18n`` takes them: one dictionary per browser
    locale (Gradio matches the browser's full tag, so ``zh`` is also named ``zh-CN``, ...)."""
    tables: dict[str, dict[str, str]] = {}
    for lang in languages():
        labels = {
            key.removeprefix("ui."): value
            for key, value in catalogue(lang).items()
            if key.startswith("ui.")
        }
        for tag in [lang, *meta(lang).get("browser_locales", [])]:
            tables[str(tag)] = labels
    return tables
