"""Gradio components the app needs beyond the stock ones.

Gradio writes a ``.pyi`` stub beside any module that defines a component; ``components.pyi`` is
that stub, committed so the tree stays clean when the app runs.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from gradio.events import Dependency

class OriginalImage(gr.Image):
    """An image input that hands the uploaded file to the app untouched.

    ``gr.Image`` opens uploads with Pillow (and may convert them) before the app sees them; an
    upload Pillow cannot open would then fail with Gradio's generic error. The app's own image
    preparation gives clearer messages, so it gets the original file.
    """

    is_template = True  # render with the stock Image front end

    def preprocess(self, payload: Any) -> str | None:
        if payload is None:
            return None
        url = getattr(payload, "url", None)
        if isinstance(url, str) and url.startswith("data:"):
            return url  # a webcam or clipboard image sent inline
        path = getattr(payload, "path", None)
        return str(path) if path else None
    from typing import Callable, Literal, Sequence, Any, TYPE_CHECKING
    from gradio.blocks import Block
    if TYPE_CHECKING:
        from gradio.components import Timer
        from gradio.components.base import Component