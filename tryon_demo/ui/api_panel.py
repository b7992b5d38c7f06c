"""The API panel under the result: the request as sent and the answer, each named for what it
is (the API's reply, or the app's own refusal when nothing reached the API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import ApiError
from ..flow.step import Step, json_dumps_safe
from ..text.i18n import Language
from ..text.messages import text
from .common import T, for_display


@dataclass
class ApiPanel:
    """The request, the answer and the preparation notes."""

    request_json: gr.Code
    task_json: gr.Code
    notes: gr.Markdown


def build_api_panel() -> ApiPanel:
    """A compact accordion: the answer, the request, then the notes (stacked: the column is
    narrow, and JSON wrapped at half its width reads badly)."""
    with gr.Accordion(T("api_panel"), open=True, elem_id="api-panel"):
        with gr.Column():
            # "{}" until the first run: Gradio draws an empty Code as a tall blank box.
            request_json = gr.Code(
                "{}",
                label=T("request_json"),
                language="json",
                interactive=False,
                wrap_lines=True,
                lines=1,  # no tall empty box before the first run: it grows with its content
                max_lines=12,
                elem_id="request-json",
            )
            task_json = gr.Code(
                "{}",
                label=T("task_json"),
                language="json",
                interactive=False,
                wrap_lines=True,
                lines=1,  # no tall empty box before the first run: it grows with its content
                max_lines=12,
                elem_id="task-json",
            )
        notes = gr.Markdown(elem_id="prep-notes")
    return ApiPanel(request_json, task_json, notes)


def answer_update(step: Step, lang: Language) -> Any:
    """The answer pane for ``step``: labelled as the API's reply only when it is one."""
    if step.task_json is None:
        return gr.skip()
    key = "page.json_api"
    if step.error is not None and not isinstance(step.error, ApiError):
        key = "page.json_app_error" if step.task is not None else "page.json_local"
    label = text(key, lang)
    return gr.Code(value=json_dumps_safe(for_display(step.task_json, lang)), label=label)
