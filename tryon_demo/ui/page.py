"""The whole page, composed from its parts top-down, and wired to the try-on pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..flow.clients import check_api_settings
from ..flow.pipeline import Pipeline
from ..hosting import session_state
from ..hosting.callback_route import CALLBACK_PATH, loopback_url
from ..hosting.usage import usage_for
from ..pictures import ImageLimits
from ..settings import Settings, load_settings
from ..text.messages import Code, Msg, msg
from . import history as hist
from . import relabel
from .a11y import reveal_after, reveal_on
from .common import WORKDIR, Context, T, lang_of
from .compare import Compare, build_compare, compare_handler
from .endpoints import add_endpoints
from .header import build_header, wire_header
from .inputs import Inputs, build_garment_column, build_person_column, wire_inputs
from .lookbook import Lookbook, build_lookbook, lookbook_handlers, with_examples
from .lookbook import table_update as lookbook_table
from .run_result import (
    Outputs,
    RunControls,
    build_result_column,
    run_handlers,
    status_update,
)
from .shrink import wire_shrinking


def build_demo(settings: Settings | None = None, *, workdir: Path = WORKDIR) -> gr.Blocks:
    """The whole page, wired to one :class:`Pipeline`."""
    settings = settings or load_settings()
    # A KLING_API_BASE that needs a key it does not have stops the app here, as it stops the
    # command line: the page would otherwise look offline and fail only at the first Run.
    check_api_settings(settings)
    session_state.install()
    # What the owner's view counts, and what the daily cap counts from (TRYON_STATE_DIR).
    usage = usage_for(settings)
    pipeline = Pipeline.build(settings, workdir, served_url=lambda: _served_url(demo), usage=usage)
    usage.watch_queue(lambda: pipeline.capacity.waiting)
    ctx = Context(pipeline, settings)
    # Gradio's own copies of what the page showed (uploads, results) go as the work files do.
    ttl = max(1, int(settings.work_ttl))
    demo = gr.Blocks(title="Kolors Try-On Studio", delete_cache=(max(1, min(ttl // 4, 300)), ttl))
    with demo:
        # task id -> ownership token, kept in the browser so that a reload or a restart of the
        # app does not lose the right to re-attach to one's own tasks. Gradio scrambles it with
        # a key the page itself carries: no secret from whoever can use this browser profile.
        owner_tokens = gr.BrowserState(
            {}, storage_key="kolors-tryon-owner-tokens", secret=pipeline.owners.browser_secret()
        )
        # The history's store sits outside the tabs: a store inside a tab never visited would
        # not be read from the browser, and the page would start with an empty history.
        entries = hist.stored_entries(pipeline.owners.browser_secret())
        header = build_header(ctx)
        # The result column a little wider than the two pictures': its model choice shares a
        # line with Run, and must show "Kolors v1.5 (also top + bottom)" whole.
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=5, min_width=260, elem_id="person-column"):
                person = build_person_column()
            with gr.Column(scale=5, min_width=260, elem_id="garment-column"):
                inputs = build_garment_column(person)
            with gr.Column(scale=6, min_width=300, elem_id="result-column"):
                outputs, controls = build_result_column()
        with gr.Tabs(elem_id="more-tabs"):
            with gr.Tab(T("tab_compare"), elem_id="compare-tab"):
                compare = build_compare()
            with gr.Tab(T("tab_lookbook"), elem_id="lookbook-tab"):
                lookbook = build_lookbook(settings.lookbook_max_items)
            with gr.Tab(T("tab_history"), elem_id="history-tab"):
                history = hist.build_history(entries)
        language = header.language
        wire_header(demo, header)
        wire_inputs(ctx, inputs, controls, outputs.status, language)
        wire_shrinking(demo, ImageLimits.from_settings(settings))

        parts = Parts(inputs, outputs, controls, compare, lookbook, history, owner_tokens, language)
        _wire_run(ctx, parts)
        wire_history(demo, history, language)
        _wire_tabs(ctx, parts)
        relabel.wire(
            demo,
            language,
            tables=[
                (history.table, [history.entries], hist.table_update),
                (lookbook.table, [lookbook.items], lookbook_table),
            ],
            redrawn=[lookbook.garments],
        )
        add_endpoints(ctx)
    return demo


@dataclass
class Parts:
    """The parts of the page the events wire together."""

    inputs: Inputs
    outputs: Outputs
    controls: RunControls
    compare: Compare
    lookbook: Lookbook
    history: hist.History
    owner_tokens: gr.BrowserState
    language: gr.Dropdown


def _wire_run(ctx: Context, parts: Parts) -> None:
    """Run, re-attach (by id or by a history row) and Cancel."""
    inputs, outputs, controls, history = parts.inputs, parts.outputs, parts.controls, parts.history
    owner_tokens, language = parts.owner_tokens, parts.language
    run_flow, follow_flow = run_handlers(ctx)
    tracked = [*outputs.all(), history.entries, history.table, owner_tokens]
    run_event = outputs.run.click(
        run_flow,
        [
            inputs.human,
            inputs.human_url,
            inputs.cloth,
            inputs.cloth_url,
            controls.model,
            controls.callback,
            controls.api_key,
            history.entries,
            owner_tokens,
            language,
        ],
        tracked,
        concurrency_limit=None,
        api_visibility="private",
    )
    attach_inputs = [history.task_id, controls.api_key, history.entries, owner_tokens, language]
    attach_event = gr.on(
        [history.attach.click, history.task_id.submit],
        follow_flow,
        attach_inputs,
        tracked,
        concurrency_limit=None,
        api_visibility="private",
    )
    picked = history.table.select(
        _picked, [history.entries], [history.task_id], api_visibility="private", queue=False
    ).success(follow_flow, attach_inputs, tracked, concurrency_limit=None, api_visibility="private")
    # The status is at the top of the page, far above History: shown as soon as the visitor
    # asks, and again once the answer is in (it may have grown past the screen's edge).
    attaching = [history.attach.click, history.task_id.submit, history.table.select]
    reveal_on(attaching, "status")
    reveal_after(attach_event, "status")
    reveal_after(picked, "status")
    # Cancel first, then report: a late update from the stopped run must not land after it.
    outputs.cancel.click(
        None, None, None, cancels=[run_event, attach_event, picked], queue=False
    ).then(
        _stopped,
        [outputs.current, language],
        [outputs.status, outputs.run, outputs.cancel, history.task_id],
        api_visibility="private",
    )


def _wire_tabs(ctx: Context, parts: Parts) -> None:
    """Compare and Lookbook; what they create joins the history once they end."""
    inputs, outputs, controls, history = parts.inputs, parts.outputs, parts.controls, parts.history
    owner_tokens, language = parts.owner_tokens, parts.language
    compare, lookbook = parts.compare, parts.lookbook
    fresh = gr.State([])  # history entries a compare or a lookbook just made
    compare.button.click(
        compare_handler(ctx),
        [
            inputs.human,
            inputs.human_url,
            inputs.cloth,
            inputs.cloth_url,
            controls.api_key,
            owner_tokens,
            language,
        ],
        [
            compare.status,
            *compare.images,
            compare.button,
            owner_tokens,
            outputs.status,
            fresh,
            outputs.request_json,
            outputs.task_json,
        ],
        concurrency_limit=None,
        api_visibility="private",
    ).then(
        _merge,
        [fresh, history.entries, language],
        [history.entries, history.table],
        api_visibility="private",
    )
    lookbook_flow, lookbook_stop = lookbook_handlers(ctx)
    lookbook.run.click(
        lookbook_flow,
        [
            inputs.human,
            inputs.human_url,
            lookbook.garments,
            lookbook.model,
            controls.api_key,
            owner_tokens,
            language,
        ],
        [
            lookbook.status,
            lookbook.table,
            lookbook.results,
            lookbook.download,
            lookbook.run,
            lookbook.cancel,
            owner_tokens,
            fresh,
            lookbook.items,
        ],
        concurrency_limit=None,
        api_visibility="private",
    ).then(
        _merge,
        [fresh, history.entries, language],
        [history.entries, history.table],
        api_visibility="private",
    )
    lookbook.cancel.click(
        lookbook_stop, None, [lookbook.cancel], queue=False, api_visibility="private"
    )
    most = ctx.settings.lookbook_max_items
    lookbook.add_examples.click(
        lambda current: with_examples(current, most),
        [lookbook.garments],
        [lookbook.garments],
        api_visibility="private",
        queue=False,
    )


def wire_history(demo: gr.Blocks, history: hist.History, language: Any) -> None:
    """The table is filled from the browser's store on load; "Forget history" empties both."""

    def on_load(entries: Any, choice: str | None, request: gr.Request) -> Any:
        return hist.table_update(entries, lang_of(request, choice))

    demo.load(
        on_load,
        [history.entries, language],
        [history.table],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    history.forget.click(
        lambda: ([], []),
        None,
        [history.entries, history.table],
        api_visibility="private",
        queue=False,
    )


def _picked(entries: Any, evt: gr.SelectData) -> str:
    """The task id of the history row clicked (rows are newest first)."""
    shown = list(reversed(hist.valid(entries)))
    row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
    if not isinstance(row, int) or not 0 <= row < len(shown):
        raise gr.Error("no such row", visible=False)
    return str(shown[row]["task_id"])


def _stopped(current: str | None, choice: str | None, request: gr.Request) -> tuple[Any, ...]:
    said: list[Msg | str] = [msg("page.stopped_waiting")]
    if current:
        said.append(msg("page.reattach", task_id=Code(current)))
    status = status_update(Msg.join(said).markdown(lang_of(request, choice)), None)
    return status, gr.Button(interactive=True), gr.Button(visible=False), current or gr.skip()


def _merge(fresh: Any, entries: Any, choice: str | None, request: gr.Request) -> tuple[Any, Any]:
    """The history with the entries a compare or a lookbook just made."""
    new = hist.valid(fresh)
    if not new:
        return gr.skip(), gr.skip()
    merged = hist.merged(entries, new)
    return merged, hist.table_update(merged, lang_of(request, choice))


def _served_url(demo: gr.Blocks) -> str | None:
    """The loopback URL ``demo`` is being served at, once it runs with the callback route
    (launched with ``launch_options``); ``None`` before, so runs poll instead."""
    app = getattr(demo, "server_app", None)
    port = getattr(demo, "server_port", None)
    if not getattr(demo, "is_running", False) or app is None or not port:
        return None
    if not any(getattr(route, "path", None) == CALLBACK_PATH for route in app.routes):
        return None
    return loopback_url(getattr(demo, "server_name", None), int(port))
