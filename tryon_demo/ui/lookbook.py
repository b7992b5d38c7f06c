"""The Lookbook tab: the person in many garments, a few at a time, with a Stop that leaves
every row in a true state."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import TryOnError
from ..flow.batch import lookbook, lookbook_zip
from ..flow.lookbook import Garment, LookItem, table_rows
from ..flow.lookbook import summary_msg as lookbook_summary
from ..flow.step import APP_FAULT, Step
from ..settings import DEFAULT_MODEL
from ..text.i18n import Language, table_headers
from ..text.messages import Msg, msg, text
from .common import ASSETS, MODEL_CHOICES, Context, T, lang_of, pick_source, remember, visitor_of
from .history import make_entry
from .run_result import status_update
from .shrink import SHRINK_CLASS

log = logging.getLogger(__name__)


@dataclass
class Lookbook:
    """The tab's parts."""

    garments: gr.Gallery
    add_examples: gr.Button
    model: gr.Dropdown
    run: gr.Button
    cancel: gr.Button
    status: gr.Markdown
    table: gr.Dataframe
    results: gr.Gallery
    download: gr.DownloadButton
    #: The last run's rows and whether it was stopped, to show them again in another language.
    items: gr.State


def build_lookbook(most: int) -> Lookbook:
    """The tab's content."""
    gr.Markdown(T("lookbook_help"), elem_classes="rules")
    garments = gr.Gallery(
        label=f"{T('garments')} (≤ {most})",
        type="filepath",
        interactive=True,
        file_types=["image"],
        columns=6,
        # As tall as its rows (every garment in view, up to the most allowed), each picture
        # whole: Gradio's default crops thumbnails to squares. (Gradio reads height="auto" as
        # its fixed default, which scrolls past 55 % of the screen; a CSS height it applies.)
        height="fit-content",
        object_fit="contain",
        fit_columns=False,  # three garments stay thumbnails, not three half-screen pictures
        elem_id="lookbook-garments",
        elem_classes=[SHRINK_CLASS],  # each garment is shrunk in the browser before upload
    )
    with gr.Row(elem_id="lookbook-controls"):
        add_examples = gr.Button(T("lookbook_examples"), size="sm", elem_id="lookbook-examples")
        model = gr.Dropdown(
            MODEL_CHOICES,
            value=DEFAULT_MODEL,
            label=T("lookbook_model"),
            scale=2,
            elem_id="lookbook-model",
        )
        run = gr.Button(T("lookbook_run"), variant="primary", scale=2, elem_id="lookbook-run")
        cancel = gr.Button(T("stop"), visible=False, scale=1, elem_id="lookbook-cancel")
    status = gr.Markdown(elem_id="lookbook-status", elem_classes=["state"])
    table = gr.Dataframe(
        headers=list(table_headers("en")),
        datatype=["str"] * len(table_headers("en")),
        interactive=False,
        wrap=True,
        elem_id="lookbook-table",
    )
    # Whole people, head to feet: a square crop of a portrait cuts both off; every row shown.
    results = gr.Gallery(
        label=T("results"),
        columns=4,
        height="fit-content",
        object_fit="contain",
        fit_columns=False,
        elem_id="lookbook-results",
    )
    download = gr.DownloadButton(
        str(T("lookbook_zip")),  # the frontend translates the marker
        visible=False,
        elem_id="lookbook-download",
    )
    return Lookbook(
        garments, add_examples, model, run, cancel, status, table, results, download, gr.State(None)
    )


def table_update(shown: Any, lang: Language) -> Any:
    """The table of ``shown`` (the :attr:`Lookbook.items` state: the last run's rows and
    whether it was stopped), with headers, in ``lang``."""
    items, stopped = shown if isinstance(shown, tuple) and len(shown) == 2 else ((), False)
    return gr.Dataframe(value=rows(items, lang, stopped), headers=list(table_headers(lang)))


def with_examples(current: list[Any] | None, most: int) -> list[str]:
    """The gallery with the example garments added, up to ``most`` pictures."""
    pictures = [item[0] if isinstance(item, (list, tuple)) else item for item in current or []]
    examples = sorted(str(p) for p in (ASSETS / "garments").glob("*.png"))
    return [*pictures, *[e for e in examples if e not in pictures]][:most]


def stopped_items(items: tuple[LookItem, ...]) -> tuple[LookItem, ...]:
    """Where every garment stands once Stop was pressed: done as it is, a garment never sent
    as not sent, one already created as still running at the API (with its task id)."""
    kept = []
    for item in items:
        if item.done:
            kept.append(item)
        elif item.task_id is None:
            kept.append(replace(item, note=msg("lookbook.not_sent")))
        else:
            kept.append(replace(item, note=msg("lookbook.still_running")))
    return tuple(kept)


def stopped_summary(items: tuple[LookItem, ...]) -> Msg:
    """What the table says once Stop was pressed, counted from its rows: done, failed, could
    not run, still running at the API, not sent."""
    done = sum(1 for item in items if item.state == "succeed")
    counts = {
        "failed": sum(1 for item in items if item.state == "failed"),
        "error": sum(1 for item in items if item.state == "error"),
        "still_running": sum(1 for item in items if not item.done and item.task_id),
        "not_sent": sum(1 for item in items if not item.done and not item.task_id),
    }
    parts = [msg("lookbook.summary_done", done=done, total=len(items))]
    parts += [msg(f"lookbook.summary_{name}", count=n) for name, n in counts.items() if n]
    return Msg.join(parts, sep="summary")


def rows(items: tuple[LookItem, ...], lang: Language, stopped: bool = False) -> list[list[str]]:
    """The table's rows; after Stop the status column says what is true now."""
    table = table_rows(items, lang)
    if stopped:
        for row, item in zip(table, items, strict=True):
            if not item.done:
                row[2] = item.note.render(lang) if item.note is not None else row[2]
                row[4] = ""
    return table


def _gallery(items: tuple[LookItem, ...]) -> list[tuple[str, str]]:
    return [
        (str(item.result_path), f"{item.index}. {item.garment}")
        for item in items
        if item.result_path is not None
    ]


def _entries(items: tuple[LookItem, ...], model_name: str) -> list[dict[str, Any]]:
    """History entries for the garments whose task was created."""
    return [
        make_entry(
            item.task_id,
            "lookbook",
            model_name,
            item.state if item.done else "processing",
            item.result_url,
            item.result_path,
        )
        for item in items
        if item.task_id is not None
    ]


def lookbook_handlers(ctx: Context) -> tuple[Any, Any]:
    """The Run and Stop handlers. Stop does not cancel Gradio's event (a cancelled generator
    leaves its outputs in an error state): it tells the run, which stops following and shows
    where every garment stands. Run's outputs: status, table, results, download, run, stop,
    the browser's tokens, the new history entries and the rows (:attr:`Lookbook.items`)."""
    stops: dict[str, asyncio.Event] = {}

    async def lookbook_flow(
        human_file: str | None,
        human_link: str,
        pictures: list[tuple[str, str | None]] | None,
        model_name: str,
        visitor_key: str,
        known: dict[str, str] | None,
        choice: str | None,
        request: gr.Request,
    ) -> AsyncIterator[tuple[Any, ...]]:
        lang = lang_of(request, choice)
        stop = stops[request.session_hash or ""] = asyncio.Event()
        tokens: dict[str, str] | None = None
        items: tuple[LookItem, ...] = ()

        def shown(said: Any, state: str | None, *, idle: bool = False) -> tuple[Any, ...]:
            return (
                status_update(said, state),
                rows(items, lang, stopped=stop.is_set()) if items else gr.skip(),
                _gallery(items) if items else gr.skip(),
                gr.skip(),
                gr.Button(interactive=idle),
                gr.Button(visible=not idle, interactive=True),
                tokens if tokens is not None else gr.skip(),
                _entries(items, model_name) if idle else [],
                (items, stop.is_set()),
            )

        yield (
            status_update(Step("preparing", 0.0).status_text(lang), "busy"),
            gr.Dataframe(value=[], headers=list(table_headers(lang))),
            [],
            gr.DownloadButton(value=None, visible=False),
            gr.Button(interactive=False),
            gr.Button(visible=True, interactive=True),
            gr.skip(),
            [],
            None,
        )
        garments = [Garment(Path(path).name, Path(path)) for path, _ in pictures or []]
        batch: AsyncIterator[tuple[LookItem, ...]] | None = None
        try:
            person = pick_source(human_file, human_link, msg("field.person"))
            visitor = visitor_of(request, ctx.settings, visitor_key)
            batch = lookbook(ctx.pipeline, person, garments, model_name, visitor=visitor)
            async for items in _until(batch, stop):
                new = {
                    item.task_id: ctx.pipeline.owners.token(item.task_id)
                    for item in items
                    if item.task_id and item.task_id not in (tokens or {})
                }
                if new:  # each garment's task may be re-attached to by its id later
                    tokens = remember(tokens or known, new)
                yield shown(f"**{lookbook_summary(items).render(lang)}**", "busy")
            if stop.is_set():
                # What is done is offered at once: the rest may take minutes, or never end.
                items = stopped_items(items)
                kept = any(item.result_path is not None for item in items)
                archive = lookbook_zip(ctx.pipeline, items, model_name) if kept else None
                said = text("page.lookbook_stopped", lang, summary=stopped_summary(items))
                stopped = shown(said, None, idle=True)
                offered = (
                    gr.DownloadButton(value=str(archive), visible=True) if archive else gr.skip()
                )
                yield (*stopped[:3], offered, *stopped[4:])
                return
            archive = lookbook_zip(ctx.pipeline, items, model_name) if items else None
        except Exception as exc:  # the page shows a sentence, never a traceback
            if not isinstance(exc, TryOnError):
                log.exception("the lookbook failed unexpectedly")
                exc = TryOnError(APP_FAULT)
            said = text("page.lookbook_failed", lang) + f"\n\n{exc.as_msg().markdown(lang)}"
            yield shown(said, "error", idle=True)
            return
        finally:
            stops.pop(request.session_hash or "", None)
        finished = f"**{text('lookbook.finished', lang, summary=lookbook_summary(items))}**"
        done = shown(finished, "done", idle=True)
        zipped = gr.DownloadButton(value=str(archive), visible=True) if archive else gr.skip()
        yield (*done[:3], zipped, *done[4:])

    def lookbook_stop(request: gr.Request) -> Any:
        event = stops.get(request.session_hash or "")
        if event is not None:
            event.set()
        return gr.Button(interactive=False)

    return lookbook_flow, lookbook_stop


async def _until(
    batch: AsyncIterator[tuple[LookItem, ...]], stop: asyncio.Event
) -> AsyncIterator[tuple[LookItem, ...]]:
    """The batch's snapshots until it ends or ``stop`` is set; then the batch is closed,
    which stops following (tasks already created keep running at the API)."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        while True:
            following = asyncio.ensure_future(anext(batch))
            await asyncio.wait({following, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not following.done():
                following.cancel()
                with contextlib.suppress(BaseException):
                    await following
                return
            try:
                yield following.result()
            except StopAsyncIteration:
                return
    finally:
        stopping.cancel()
        aclose = getattr(batch, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
