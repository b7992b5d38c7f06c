"""The Compare tab: the same person and garment on v1 and v1.5 at once, side by side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import TryOnError
from ..flow.compare import compare
from ..flow.step import Step, json_dumps_safe
from ..settings import MODELS
from ..text.i18n import Language
from ..text.messages import msg, text
from .common import Context, T, for_display, lang_of, pick_source, remember, visitor_of
from .history import history_entry
from .run_result import PICTURE_HEIGHT, status_update, step_state

_LABELS = ("**v1**", "**v1.5**")


@dataclass
class Compare:
    """The tab's button, status and the two results."""

    button: gr.Button
    status: gr.Markdown
    images: list[gr.Image]


def build_compare() -> Compare:
    """The tab's content."""
    button = gr.Button(T("compare_run"), variant="primary", elem_id="compare-button")
    status = gr.Markdown(elem_id="compare-status", elem_classes=["state"])
    images = []
    with gr.Row():
        for label, key in ((T("model_v1"), "v1"), (T("model_v1_5"), "v1-5")):
            with gr.Column():
                # Named above the picture: a label on it would cover the SIMULATED strip.
                gr.Markdown(label, elem_classes="step-title")
                image = gr.Image(
                    label=label,
                    show_label=False,
                    type="filepath",
                    interactive=False,
                    height=PICTURE_HEIGHT,
                    elem_id=f"compare-{key}",
                )
                images.append(image)
    return Compare(button, status, images)


def compare_handler(ctx: Context) -> Any:
    """The Compare button's handler. Its outputs: the tab's status, both images, the button,
    the browser's tokens, the main status (a new action replaces its old state), the new
    history entries (merged into the history once it ends), and the API panel's request and
    answer (each one object per model)."""

    async def compare_flow(
        human_file: str | None,
        human_link: str,
        cloth_file: str | None,
        cloth_link: str,
        visitor_key: str,
        known: dict[str, str] | None,
        choice: str | None,
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        lang = lang_of(request, choice)
        main = status_update(text("page.compare_started", lang), None)
        busy = status_update(Step("preparing", 0.0).status_text(lang), "busy")
        empty = ("{}", gr.Code(value="{}", label=text("page.json_api", lang)))
        yield busy, None, None, gr.Button(interactive=False), gr.skip(), main, [], *empty
        try:
            person = pick_source(human_file, human_link, msg("field.person"))
            garment = pick_source(cloth_file, cloth_link, msg("field.garment"))
        except TryOnError as exc:
            refusal = Step("error", 0.0, error=exc)
            failed = status_update(refusal.status_text(lang), "error")
            answer = json_dumps_safe(dict.fromkeys(MODELS, refusal.task_json))
            label = text("page.json_local", lang)
            yield (
                failed,
                None,
                None,
                gr.Button(interactive=True),
                gr.skip(),
                gr.skip(),
                [],
                "{}",
                gr.Code(value=answer, label=label),
            )
            return
        visitor = visitor_of(request, ctx.settings, visitor_key)
        steps = compare(ctx.pipeline, person, garment, visitor=visitor)
        tokens: dict[str, str] | None = None
        async for latest in steps:
            lines = [
                f"{label}: {latest[model].status_text(lang)}"
                for label, model in zip(_LABELS, MODELS, strict=True)
                if model in latest
            ]
            results = [
                str(latest[m].result_path) if m in latest and latest[m].result_path else None
                for m in MODELS
            ]
            done = len(latest) == len(MODELS) and all(step.done for step in latest.values())
            new = {
                step.task.task_id: step.owner_token
                for step in latest.values()
                if step.task is not None and step.owner_token
            }
            if not new.items() <= (tokens or {}).items():
                tokens = remember(tokens or known, new)
            # Every update carries them once known: Gradio may merge a generator's updates.
            stored = tokens if tokens is not None else gr.skip()
            states = {step_state(step) for step in latest.values()}
            state = "error" if "error" in states else ("done" if done else "busy")
            entries = [
                entry
                for model, step in latest.items()
                if (entry := history_entry(step, model, "compare")) is not None
            ]
            shown = status_update("\n\n".join(lines), state)
            yield (
                shown,
                *results,
                gr.Button(interactive=done),
                stored,
                gr.skip(),
                entries,
                *_api_panel(latest, lang),
            )

    return compare_flow


def _api_panel(latest: dict[str, Step], lang: Language) -> tuple[Any, Any]:
    """The API panel for a compare: the request and the answer of each model, by model."""
    sent = {m: for_display(s.request, lang) for m, s in latest.items() if s.request is not None}
    said = {m: for_display(s.task_json, lang) for m, s in latest.items() if s.task_json}
    request = json_dumps_safe(sent) if sent else gr.skip()
    answer = (
        gr.Code(value=json_dumps_safe(said), label=text("page.json_api", lang))
        if said
        else gr.skip()
    )
    return request, answer
