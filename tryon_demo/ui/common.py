"""What every part of the page shares: the labels, the visitor's language and the helpers that
turn a visitor's inputs into what the flows of :mod:`tryon_demo.flow` take."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gradio as gr

from ..flow.admit import Visitor
from ..flow.pipeline import Pipeline
from ..flow.prepare import api_image_source
from ..hosting import access
from ..hosting.netpolicy import is_loopback_host
from ..pictures import ImageSource
from ..settings import MODELS, Settings
from ..text.i18n import Language, choose, language_choices, ui_translations
from ..text.messages import Msg, text


def _assets() -> Path:
    """The pictures the page shows: ``tryon_demo/assets`` in an installed package (see
    pyproject.toml), else ``assets/`` at the top of the repository this package runs from."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "assets"
    return installed if installed.is_dir() else package.parent / "assets"


ASSETS = _assets()
WORKDIR = Path(tempfile.gettempdir()) / "kolors-tryon-studio"
SEED_EXAMPLE_URLS = (
    "https://gw.alicdn.com/imgextra/i1/1860536677/O1CN012wEzZ11zC7RDNm0Jr_!!1860536677.jpg",
    "https://gw.alicdn.com/imgextra/i4/3370044138/O1CN01p0Zl411gRFvj0NnwQ_!!3370044138.jpg",
)
#: The page's fixed texts in every catalogue's language; the browser's language picks one.
T = gr.I18n(**ui_translations())
LANGUAGE_CODES = frozenset(code for _, code in language_choices())
PIECE_KINDS = [
    (T("piece_top"), "top"),
    (T("piece_bottom"), "bottom"),
    (T("piece_one_piece"), "one-piece"),
]
MODEL_CHOICES = [(T("model_v1"), MODELS[0]), (T("model_v1_5"), MODELS[1])]
#: The most ownership tokens the browser keeps (the newest): enough for any session history.
MAX_STORED_TOKENS = 200
#: The example before/after the result area shows until the first run (see
#: scripts/make_offline_examples.py, which draws it with the simulator).
EXAMPLE_PAIR = (ASSETS / "people" / "person-chloe.jpg", ASSETS / "ui" / "example-result.png")
#: The CSS classes a status panel wears, one per kind of state (see CSS in launch.py).
STATE_CLASSES = {"error": "state-error", "done": "state-done", "busy": "state-busy"}


@dataclass(frozen=True)
class Context:
    """What every part's handlers need: the pipeline, the settings and the mode."""

    pipeline: Pipeline
    settings: Settings

    @property
    def offline(self) -> bool:
        return self.settings.mode == "offline"


def lang_of(request: gr.Request | None, choice: str | None = None) -> Language:
    """The visitor's language: their choice on the page (the language switch), else the
    browser's Accept-Language header."""
    headers = getattr(request, "headers", None)
    return choose(choice, headers.get("accept-language") if headers is not None else None)


def session_of(request: gr.Request | None, settings: Settings) -> str:
    """The visitor a submission or lookup counts against: the client address (or the MCP
    caller's), never the Gradio session, which a client can make anew for free."""
    return access.visitor_key(request, settings.trusted_proxies)


def visitor_of(
    request: gr.Request | None,
    settings: Settings,
    own_key: str | None = None,
    gone: Callable[[], Awaitable[bool]] | None = None,
) -> Visitor:
    """The visitor a flow works for: their address (see :func:`session_of`), the API key
    they entered, if any, and how to tell that they hung up (see ``endpoints.caller_gone``)."""
    return Visitor(session_of(request, settings), own_key, gone)


def remember(known: dict[str, str] | None, new: dict[str, str]) -> dict[str, str]:
    """The browser's tokens with ``new`` (task id -> token) added, the oldest dropped beyond
    the cap."""
    tokens = dict(known) if isinstance(known, dict) else {}
    for task_id, token in new.items():
        tokens.pop(task_id, None)
        tokens[task_id] = token
    return dict(list(tokens.items())[-MAX_STORED_TOKENS:])


def pick_source(upload: str | None, link: str | None, field: str | Msg) -> ImageSource | None:
    """A typed link wins over an upload (typing one clears the other anyway).

    Uploads arrive as paths inside Gradio's upload folder, or as data: URLs from the webcam;
    typed text is only ever treated as a link, never as a path on this server.
    """
    if link and link.strip():
        return api_image_source(link, field)
    if not upload:
        return None
    return upload if upload.startswith("data:") else Path(upload)


def state_panel(value: str, state: str | None) -> Any:
    """A status panel's update: its text, and the class that colours it as ``state`` (one of
    :data:`STATE_CLASSES`, or ``None`` for a neutral line)."""
    classes = [STATE_CLASSES[state]] if state else []
    return gr.Markdown(value=value, elem_classes=["state", *classes])


def public_url(url: str | None) -> str:
    """``url`` when a visitor's browser could open it; ``""`` for an address on this server
    (the offline simulator's results, the app's own callback route on loopback)."""
    value = (url or "").strip()
    host = urlsplit(value).hostname if value else None
    return "" if host is None or is_loopback_host(host) else value


def for_display(value: Any, lang: Language) -> Any:
    """A copy of parsed JSON for the page, every URL on this server replaced by a note saying
    so: a visitor can open none of them, and they name the server's internal ports."""
    if isinstance(value, str):
        looks_like_url = value.lower().startswith(("http://", "https://"))
        return (
            text("page.local_address", lang) if looks_like_url and not public_url(value) else value
        )
    if isinstance(value, list):
        return [for_display(item, lang) for item in value]
    if isinstance(value, dict):
        return {key: for_display(item, lang) for key, item in value.items()}
    return value
