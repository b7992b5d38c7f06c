"""Messages as data: a key and named values until the moment they are shown.

A :class:`Msg` is what the app means to say ("the image is too small", with its width and
height); :meth:`Msg.render` turns it into a sentence in one language, from that language's
catalogue in ``tryon_demo/locales/<language>.json``. Catalogues are found by glob, so adding a
language is adding one file. The English catalogue is the source of the English texts.

Values that are themselves words of the app (a field name such as "Person image", a state such
as "queued") are nested :class:`Msg` values and are rendered in the same language. Anything
else (numbers, file names, task ids, URLs, the API's own words) is shown as it is.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .markup import code, escape

#: Where the catalogues live: one ``<language>.json`` per language.
LOCALES = Path(__file__).resolve().with_name("locales")
#: The language every catalogue is checked against, and the fallback for a missing text.
SOURCE_LANGUAGE = "en"
#: Keys that are not in any catalogue: text shown as it is, and parts joined by a separator.
VERBATIM = "_verbatim"
JOIN = "_join"


@dataclass(frozen=True)
class Msg:
    """A message: a catalogue ``key`` and its named ``params``, rendered only when shown."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, lang: str = SOURCE_LANGUAGE, *, markdown: bool = False) -> str:
        """This message as text in ``lang`` (English where the catalogue lacks the key).

        With ``markdown`` the text goes into a Markdown panel: the catalogue's own texts may
        use Markdown, but every value from outside (the API's words, file names, task ids) is
        made literal, so it cannot become markup on a visitor's page.
        """
        if self.key == VERBATIM:
            value = str(self.params.get("text", ""))
            return escape(value) if markdown and value else value
        if self.key == JOIN:
            parts = self.params.get("parts", ())
            sep = text(f"sep.{self.params.get('sep', 'sentence')}", lang)
            rendered = (
                [render(part, lang, markdown=markdown) for part in parts]
                if isinstance(parts, Sequence)
                else []
            )
            return sep.join(part for part in rendered if part)
        template = catalogue(lang).get(self.key)
        if template is None:
            template = catalogue(SOURCE_LANGUAGE).get(self.key, self.key)
        return _format(template, self.params, lang, markdown)

    def markdown(self, lang: str = SOURCE_LANGUAGE) -> str:
        """Shorthand for ``render(lang, markdown=True)``."""
        return self.render(lang, markdown=True)

    def __str__(self) -> str:
        return self.render(SOURCE_LANGUAGE)

    def replaced(self, keys: Mapping[str, str]) -> Msg:
        """This message with every key in ``keys`` (its own, a joined part's or a nested
        value's) replaced by the key it maps to, the values kept: the same message told to
        another reader (an owner's advice turned into a visitor's)."""

        def swap(value: object) -> object:
            if isinstance(value, Msg):
                return value.replaced(keys)
            if isinstance(value, tuple | list):
                return type(value)(swap(item) for item in value)
            return value

        params = {name: swap(value) for name, value in self.params.items()}
        return Msg(keys.get(self.key, self.key), params)

    @classmethod
    def verbatim(cls, value: str) -> Msg:
        """Text that is shown as it is in every language (the API's words, an unkeyed text)."""
        return cls(VERBATIM, {"text": value})

    @classmethod
    def join(cls, parts: Iterable[Msg | str], sep: str = "sentence") -> Msg:
        """Several messages shown one after the other, separated by the catalogue's
        ``sep.<sep>`` (a space between English sentences, nothing between Chinese ones)."""
        return cls(JOIN, {"parts": tuple(parts), "sep": sep})


@dataclass(frozen=True)
class Code:
    """A value shown as inline code in Markdown (a task id), and as it is anywhere else."""

    text: str

    def __str__(self) -> str:
        return self.text


def msg(key: str, **params: object) -> Msg:
    """Shorthand: ``msg("image.empty", field=...)``."""
    return Msg(key, params)


def api_word(raw: object) -> Msg:
    """One of the API's own words (a task state such as ``succeed``) for a person: in their
    language with the API's word beside it ("完成（succeed）"), or as it is when the catalogue
    has no name for it."""
    word = str(raw)
    if f"state.{word}" in catalogue(SOURCE_LANGUAGE):
        return msg("api.word", label=msg(f"state.{word}"), raw=word)
    return Msg.verbatim(word)


def as_msg(value: Msg | str) -> Msg:
    """A message for ``value``; a plain string stays as it is in every language."""
    return value if isinstance(value, Msg) else Msg.verbatim(value)


def render(value: object, lang: str = SOURCE_LANGUAGE, *, markdown: bool = False) -> str:
    """``value`` as text in ``lang``: a :class:`Msg` is rendered, a list of them is joined with
    the language's list separator, anything else is shown as it is (made literal when it goes
    into ``markdown``)."""
    if isinstance(value, Msg):
        return value.render(lang, markdown=markdown)
    if isinstance(value, list | tuple):
        return text("sep.list", lang).join(render(item, lang, markdown=markdown) for item in value)
    if isinstance(value, Code):
        return code(value.text) if markdown else value.text
    plain = "" if value is None else str(value)
    return escape(plain) if markdown and isinstance(value, str) and plain else plain


def text(key: str, lang: str = SOURCE_LANGUAGE, **params: object) -> str:
    """The catalogue text for ``key`` in ``lang``, with ``params`` filled in."""
    return Msg(key, params).render(lang)


# --- catalogues ------------------------------------------------------------------------------


@cache
def _load_all() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(LOCALES.glob("*.json")):
        found[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    return found


def languages() -> tuple[str, ...]:
    """Every language with a catalogue, the source language first."""
    names = sorted(_load_all())
    return tuple(sorted(names, key=lambda name: name != SOURCE_LANGUAGE))


def catalogue(lang: str) -> dict[str, str]:
    """The ``messages`` of one language's catalogue (empty for an unknown language)."""
    data = _load_all().get(lang) or {}
    messages: dict[str, str] = data.get("messages", {})
    return messages


def meta(lang: str) -> dict[str, Any]:
    """The ``meta`` block of one language's catalogue: its own name and browser locale tags."""
    data = _load_all().get(lang) or {}
    info: dict[str, Any] = data.get("meta", {})
    return info


def placeholders(template: str) -> set[str]:
    """The names of the ``{placeholders}`` in a catalogue text."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError:
        return {"<malformed>"}


class _SafeFormatter(string.Formatter):
    """``str.format_map`` that never raises: a missing value shows its ``{name}``, a value that
    does not take the format spec is shown plainly, and nested messages render in ``lang``."""

    def __init__(self, lang: str, markdown: bool = False) -> None:
        super().__init__()
        self.lang = lang
        self.markdown = markdown

    def get_field(self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        # The whole name is the key: no attribute or index lookups on values from outside.
        return self.get_value(field_name, args, kwargs), field_name

    def get_value(self, key: int | str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str) and key in kwargs:
            return kwargs[key]
        return _Missing(str(key))

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, _Missing):
            return "{" + value.name + "}"
        if isinstance(value, Msg | list | tuple | Code) or value is None:
            return render(value, self.lang, markdown=self.markdown)
        try:
            shown = format(value, format_spec)
        except (ValueError, TypeError):
            shown = str(value)
        return escape(shown) if self.markdown and isinstance(value, str) and shown else shown

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        try:
            return super().convert_field(value, conversion)
        except ValueError:
            return value


@dataclass(frozen=True)
class _Missing:
    name: str


def _format(template: str, params: Mapping[str, object], lang: str, markdown: bool = False) -> str:
    try:
        return _SafeFormatter(lang, markdown).vformat(template, (), dict(params))
    except (ValueError, IndexError, KeyError):  # a malformed catalogue text: show it unfilled
        return template
