"""The Gradio Blocks page: layout and wiring only. Every decision lives in :mod:`tryon_demo.flow`.

One module per part of the page: :mod:`.header`, :mod:`.inputs` (person and garment),
:mod:`.run_result` (result, model, Run, status), :mod:`.api_panel`, :mod:`.compare`,
:mod:`.lookbook` and :mod:`.history`; :mod:`.page` composes them, :mod:`.endpoints` adds the
programmatic API and :mod:`.launch` says how the page is served.
"""

from __future__ import annotations

from ..text.i18n import language_choices
from .common import ASSETS, SEED_EXAMPLE_URLS, WORKDIR, T
from .common import lang_of as _lang
from .history import gallery as _gallery
from .history import history_entry as _history_entry
from .launch import CSS, launch_options
from .page import build_demo
from .relabel import APPLY_LOCALE_JS
from .run_result import render as _render
from .run_result import result_link as _result_link

__all__ = [
    "APPLY_LOCALE_JS",
    "ASSETS",
    "CSS",
    "SEED_EXAMPLE_URLS",
    "WORKDIR",
    "T",
    "_gallery",
    "_history_entry",
    "_lang",
    "_render",
    "_result_link",
    "build_demo",
    "language_choices",
    "launch_options",
]
