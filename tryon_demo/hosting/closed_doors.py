"""Routes Gradio offers that this app does not use, closed for every visitor, password or not.

- ``/gradio_api/file=<http(s) URL>`` makes the server fetch any public URL and relay it (an open
  proxy: anyone could stream 50 MB through it); ``/gradio_api/proxy=<URL>`` is the same for
  Spaces loaded with ``gr.load``. The page only ever names files on this server.
- ``/gradio_api/deep_link`` writes a session's values to ``<GRADIO_TEMP_DIR>/deep_links/`` for
  good, whatever a visitor stuffed into them (three 10 MB requests left 60 MB on disk), and a
  deep link then shows that visitor's values on the page of whoever opens it. The page has no
  deep-link button.

Both are refused before Gradio sees the request: nothing is resolved, fetched or written.
"""

from __future__ import annotations

import re

from ..text.i18n import language
from ..text.messages import text
from .http_common import (
    REMOTE_ADDRESS,
    ASGIApp,
    Receive,
    Scope,
    Send,
    header,
    route_path,
    send_json,
)

#: ``file=`` or ``proxy=`` followed by a web address: Gradio reads the rest of the path as a URL.
_REMOTE = re.compile(r"^/gradio_api/(?:file|proxy)=" + REMOTE_ADDRESS)
#: Gradio's deep-link route, with or without a trailing slash.
DEEP_LINK_PATHS = frozenset({"/gradio_api/deep_link", "/gradio_api/deep_link/"})


def refusal(path: str) -> str | None:
    """The catalogue key saying why ``path`` is closed, or ``None`` when it is open."""
    if _REMOTE.match(path):
        return "http.remote_file"
    if path in DEEP_LINK_PATHS:
        return "http.deep_link"
    return None


class ClosedDoors:
    """ASGI middleware: 403 for a remote ``file=``/``proxy=`` URL and for deep links."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = refusal(route_path(scope))
        if key is None:
            await self.app(scope, receive, send)
            return
        lang = language(header(scope, b"accept-language") or None)
        await send_json(send, 403, {"detail": text(key, lang)})
