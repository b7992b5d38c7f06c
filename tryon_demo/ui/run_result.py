"""The result column: the result (an example until the first run), the model, Run and Cancel,
the status, and the handlers of a run and of a re-attach."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import gradio as gr

from ..errors import TaskNotFoundError, TryOnError
from ..flow import reattach
from ..flow.run import run
from ..flow.step import Step, guarded, json_dumps_safe
from ..settings import DEFAULT_MODEL
from ..text.i18n import Language
from ..text.markup import code
from ..text.messages import Code, Msg, msg, text
from . import history as hist
from .api_panel import answer_update, build_api_panel
from .common import (
    EXAMPLE_PAIR,
    MODEL_CHOICES,
    Context,
    T,
    for_display,
    lang_of,
    pick_source,
    public_url,
    remember,
    visitor_of,
)

#: The height of the three pictures of the first screen (person, garment, result): the result,
#: Run and the status fit a 1366 x 768 screen under it.
PICTURE_HEIGHT = 360
_RESULT_NOTES = {True: "page.result_note_offline", False: "page.result_note_online"}
#: A result URL the page may show as a link: http(s) and nothing that could end the link early.
_LINKABLE = re.compile(r"https?://[^\s<>`\\]+", re.IGNORECASE)


@dataclass
class Outputs:
    """The components one run updates, in the order handlers return them."""

    status: gr.Markdown
    request_json: gr.Code
    task_json: gr.Code
    notes: gr.Markdown
    result: gr.Image
    slider: gr.ImageSlider
    download: gr.DownloadButton
    link: gr.Markdown
    run: gr.Button
    cancel: gr.Button
    current: gr.State
    example: gr.ImageSlider

    def all(self) -> list[Any]:
        return list(self.__dict__.values())


@dataclass
class RunControls:
    """The result column's inputs: the model and the advanced fields."""

    model: gr.Dropdown
    callback: gr.Textbox
    api_key: gr.Textbox
    seed_links: gr.Button


def build_result_column() -> tuple[Outputs, RunControls]:
    """The third column: result, model and Run, status, then the API panel under them."""
    gr.Markdown(T("step_result"), elem_classes="step-title")
    with gr.Tabs(elem_id="result-tabs"):
        with gr.Tab(T("tab_result"), elem_id="result-tab"):
            example = gr.ImageSlider(
                value=(str(EXAMPLE_PAIR[0]), str(EXAMPLE_PAIR[1])),
                label=str(T("example_label")),  # the frontend translates the marker
                type="filepath",
                interactive=False,
                max_height=PICTURE_HEIGHT,
                elem_id="example-result",
            )
            result = gr.Image(
                label=T("result"),
                show_label=False,  # the tab names it; a label would cover the SIMULATED strip
                type="filepath",
                interactive=False,
                height=PICTURE_HEIGHT,
                visible=False,
                elem_id="result-image",
                buttons=["fullscreen"],
            )
        with gr.Tab(T("tab_before_after"), elem_id="before-after-tab"):
            slider = gr.ImageSlider(
                label=str(T("tab_before_after")),
                type="filepath",
                interactive=False,
                max_height=PICTURE_HEIGHT,
                elem_id="comparison",
            )
    with gr.Row(elem_id="run-row", equal_height=True):
        model = gr.Dropdown(
            MODEL_CHOICES,
            value=DEFAULT_MODEL,
            label=T("model"),
            scale=3,
            min_width=200,
            elem_id="model-name",
        )
        run = gr.Button(T("run"), variant="primary", elem_id="run-button", scale=1, min_width=112)
        cancel = gr.Button(
            T("cancel"), visible=False, elem_id="cancel-button", scale=1, min_width=90
        )
    status = gr.Markdown(T("ready"), elem_id="status", elem_classes=["state"])
    download = gr.DownloadButton(str(T("download")), visible=False, elem_id="download")
    link = gr.Markdown(elem_id="result-link")
    with gr.Accordion(T("advanced"), open=False, elem_id="advanced"):
        gr.Markdown(T("model_info"), elem_classes="rules")
        callback = gr.Textbox(
            label=T("callback"),
            placeholder="https://your-server/hook",
            info=T("callback_info"),
            max_lines=1,
        )
        api_key = gr.Textbox(
            label=T("own_key"),
            type="password",
            info=T("own_key_info"),
            max_lines=1,
            elem_id="api-key",
        )
        seed_links = gr.Button(T("seed_links"), size="sm", elem_id="seed-links")
    api = build_api_panel()  # under the result: what was sent and what came back
    outputs = Outputs(
        status,
        api.request_json,
        api.task_json,
        api.notes,
        result,
        slider,
        download,
        link,
        run,
        cancel,
        gr.State(None),
        example,
    )
    return outputs, RunControls(model, callback, api_key, seed_links)


def result_link(step: Step, offline: bool, lang: Language) -> str:
    """The result URL and how long it lives, as Markdown; a URL that is not a plain http(s)
    link is shown as text, never as a link. An address on this server (the simulator's) is
    not shown at all: nobody's browser can open it."""
    if step.task is None or not step.task.result_url:
        return ""
    url = public_url(step.task.result_url)
    if not url:
        return text("page.result_note_simulated", lang)
    shown = f"<{url}>" if not offline and _LINKABLE.fullmatch(url) else code(url)
    return f"{text('page.result_url', lang, url=shown)}  \n{text(_RESULT_NOTES[offline], lang)}"


def step_state(step: Step) -> str | None:
    """The colour of a step's status: error, done, or busy while it runs."""
    if step.phase in ("error", "failed"):
        return "error"
    return "done" if step.phase == "succeed" else "busy"


def status_update(value: str, state: str | None) -> Any:
    """The status panel showing ``value`` coloured as ``state``."""
    classes = ["state", f"state-{state}"] if state else ["state"]
    return gr.Markdown(value=value, elem_classes=classes)


def render(
    step: Step, *, running: bool, offline: bool = False, lang: Language = "en"
) -> tuple[Any, ...]:
    """Component updates for one :class:`Step`, texts in ``lang``."""
    finished = step.phase == "succeed"
    # A step from the history may outlive its files (deleted after TRYON_WORK_TTL).
    kept = finished and step.result_path is not None and step.result_path.is_file()
    pair = step.comparison if finished and step.comparison else None
    status = step.status_text(lang)
    if isinstance(step.error, TaskNotFoundError) and step.task is None:
        status = f"**{text('page.not_found', lang)}**  \n{step.error.as_msg().markdown(lang)}"
    return (
        status_update(status, step_state(step)),
        json_dumps_safe(for_display(step.request, lang)) if step.request is not None else gr.skip(),
        answer_update(step, lang),
        "\n".join(f"- {note.markdown(lang)}" for note in step.notes) if step.notes else gr.skip(),
        gr.Image(value=str(step.result_path), visible=True) if kept else gr.skip(),
        tuple(str(p) for p in pair) if pair and all(p.is_file() for p in pair) else gr.skip(),
        gr.DownloadButton(value=str(step.result_path), visible=True) if kept else gr.skip(),
        result_link(step, offline, lang) if finished else gr.skip(),
        gr.Button(interactive=not running),
        gr.Button(visible=running),
        step.task.task_id if step.task else gr.skip(),
        gr.skip(),
    )


def cleared(lang: Language) -> tuple[Any, ...]:
    """A new run replaces everything the last one showed; the example makes room."""
    return (
        status_update(Step("preparing", 0.0).status_text(lang), "busy"),
        "{}",  # not "": Gradio draws an empty Code as a tall blank box
        gr.Code(value="{}", label=text("page.json_api", lang)),
        "",
        gr.Image(value=None, visible=True),
        None,
        gr.DownloadButton(value=None, visible=False),
        "",
        gr.Button(interactive=False),
        gr.Button(visible=True),
        None,
        gr.ImageSlider(visible=False),
    )


def refused(error: TryOnError, lang: Language) -> tuple[Any, ...]:
    """The updates for a run the app refused before anything was sent."""
    return render(Step("error", 0.0, error=error), running=False, lang=lang)


def placeholder_status(task_id: str, lang: Language) -> Any:
    """The status of an offline run on links: a placeholder came back, not a try-on."""
    said = Msg.join([msg("page.placeholder", task_id=Code(task_id)), msg("page.placeholder_why")])
    return status_update(Msg.join([said], sep="line").markdown(lang), None)


def stopped(current: str | None, lang: Language) -> Any:
    """The status after Cancel: waiting stopped, the task goes on, and how to find it again."""
    said = [msg("page.stopped_waiting")]
    if current:
        said.append(msg("page.reattach", task_id=Code(current)))
    return status_update(Msg.join(said).markdown(lang), None)


async def rendered(
    steps: AsyncIterator[Step], offline: bool, lang: Language
) -> AsyncIterator[tuple[Step, tuple[Any, ...]]]:
    """Each step of a run with its updates; a fault becomes a sentence (see ``guarded``)."""
    async for step in guarded(steps):
        yield step, render(step, running=not step.done, offline=offline, lang=lang)


def run_handlers(ctx: Context) -> tuple[Any, Any]:
    """The handlers of Run and of re-attach. Their outputs: :class:`Outputs`, the history,
    its table and the browser's tokens (a task's token is stored as soon as it exists)."""

    async def shown(
        steps: AsyncIterator[Step],
        model_name: str,
        entries: Any,
        lang: Language,
        known: dict[str, str] | None,
        placeholder: bool = False,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """The updates of each step; with ``placeholder`` (links sent to the offline simulator)
        a success is called what it is, a placeholder picture."""
        tokens: dict[str, str] | None = None
        listed = False  # whether the history lists this run's task yet
        async for step, updates in rendered(steps, ctx.offline, lang):
            if tokens is None and step.task is not None and step.owner_token:
                tokens = remember(known, {step.task.task_id: step.owner_token})
            # Sent with every later update, not once: Gradio may merge a generator's
            # updates, and a skip after the one that carried the token would lose it.
            stored = tokens if tokens is not None else gr.skip()
            # Listed the moment the task exists (a Cancel or a closed page must not lose it),
            # and again with its end.
            entry = None
            if step.task is not None and (step.done or not listed):
                entry = hist.history_entry(step, model_name)
                listed = True
            if placeholder and step.phase == "succeed" and step.task is not None:
                updates = (placeholder_status(step.task.task_id, lang), *updates[1:])
            if entry is None:
                yield (*updates, gr.skip(), gr.skip(), stored)
                continue
            entries = hist.merged(entries, [entry])
            yield (*updates, entries, hist.table_update(entries, lang), stored)

    async def run_flow(
        human_file: str | None,
        human_link: str,
        cloth_file: str | None,
        cloth_link: str,
        model_name: str,
        callback_url: str,
        visitor_key: str,
        entries: Any,
        known: dict[str, str] | None,
        choice: str | None,
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        lang = lang_of(request, choice)
        yield (*cleared(lang), gr.skip(), gr.skip(), gr.skip())
        try:
            person = pick_source(human_file, human_link, msg("field.person"))
            garment = pick_source(cloth_file, cloth_link, msg("field.garment"))
        except TryOnError as exc:
            yield (*refused(exc, lang), gr.skip(), gr.skip(), gr.skip())
            return
        visitor = visitor_of(request, ctx.settings, visitor_key)
        steps = run(ctx.pipeline, person, garment, model_name, callback_url, visitor=visitor)
        # Offline, links are not downloaded: the simulator answers with a placeholder picture.
        linked = isinstance(person, str) or isinstance(garment, str)
        async for update in shown(steps, model_name, entries, lang, known, ctx.offline and linked):
            yield update

    async def follow_flow(
        task: str,
        visitor_key: str,
        entries: Any,
        known: dict[str, str] | None,
        choice: str | None,
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        lang = lang_of(request, choice)
        yield (*cleared(lang), gr.skip(), gr.skip(), gr.skip())
        task = (task or "").strip()
        token = known.get(task) if isinstance(known, dict) else None
        visitor = visitor_of(request, ctx.settings, visitor_key)
        steps = reattach.follow(ctx.pipeline, task, owner_token=token, visitor=visitor)
        model_name = next(
            (e.get("model", "") for e in hist.valid(entries) if e["task_id"] == task), ""
        )
        # The model the task ran with, when this browser's history knows it; the API's task
        # does not name it.
        async for update in shown(steps, model_name, entries, lang, known):
            yield update

    return run_flow, follow_flow
