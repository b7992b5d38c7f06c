"""The Gradio Blocks page: layout and wiring only. Every decision lives in :mod:`studio`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.data_classes import FileData
from gradio.events import api as gr_api
from gradio.i18n import I18nData
from starlette.middleware import Middleware

from . import access, api_docs, callback_inbox, session_state
from .api_docs import documented
from .body_limit import BodyLimitMiddleware, UploadBudget
from .callback_route import CALLBACK_PATH, callback_routes, loopback_url
from .client import failure_reason
from .components import OriginalImage
from .errors import TryOnError
from .i18n import (
    Language,
    choose,
    error_text,
    gradio_locales,
    language_choices,
    table_headers,
    ui_translations,
)
from .images import ImageSource
from .lookbook import Garment, LookItem, table_rows
from .lookbook import summary_msg as lookbook_summary
from .markup import code
from .messages import Code, Msg, msg, text
from .settings import DEFAULT_MODEL, MODELS, Settings, load_settings
from .studio import APP_FAULT, Step, Studio, api_image_source, guarded, json_dumps_safe

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
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
#: Where the language switch is remembered in the browser (localStorage), across restarts.
LANGUAGE_STORAGE_KEY = "kolors-tryon-language"
#: Switches Gradio's own locale (the gr.I18n labels) to the chosen language. Gradio picks its
#: locale from navigator.language once at start-up and exposes no public way to change it; its
#: frontend module "core-*.js" exports the ``changeLocale`` its own settings panel uses, so the
#: page imports that same (already loaded, hence the same instance) module. Best effort: if a
#: Gradio version renames it, only the fixed labels stay in the browser's language.
APPLY_LOCALE_JS = r"""
async (choice) => {
  const locales = __LOCALES__;
  if (!choice || !(choice in locales)) return;
  // The page starts in the browser's language: nothing to switch until the visitor does.
  const browser = (navigator.language || "").toLowerCase().split("-")[0];
  if (!window.__tryonLocaleSwitched && browser === choice) return;
  try {
    const url = performance.getEntriesByType("resource").map((entry) => entry.name)
      .find((name) => /\/assets\/core-[\w-]+\.js(\?.*)?$/.test(name));
    if (!url) return;
    const core = await import(url);
    if (typeof core.changeLocale === "function") {
      core.changeLocale(locales[choice]);
      window.__tryonLocaleSwitched = true;
    }
  } catch (error) {
    console.warn("language switch: Gradio's locale could not be changed", error);
  }
}
""".replace("__LOCALES__", json.dumps(gradio_locales()))
CSS = """
#app-header {align-items:center; justify-content:space-between; gap:8px}
#app-header > #header {flex:1 1 0 !important; min-width:min(100%, 280px) !important}
#app-header > #mode {flex:0 0 auto !important; width:auto !important; min-width:0 !important}
#app-header > #language {flex:0 0 auto !important; width:7.5rem !important; min-width:0 !important}
#app-header h1 {margin:0; font-size:1.6rem}
#app-header p {margin:2px 0 0; opacity:.75}
.mode-banner {padding:6px 14px; border-radius:999px; font-weight:600; font-size:.9rem}
.mode-offline {background:#fff4cc; color:#6b4e00; border:1px solid #f0d36b}
.mode-online {background:#dcfce7; color:#14532d; border:1px solid #86efac}
.step-title {margin-bottom:0 !important}
.rules {font-size:.85rem; opacity:.8}
#status {min-height:3.2em; padding:8px 12px; border-radius:8px;
  background:var(--block-background-fill)}
#task-json .cm-editor, #request-json .cm-editor {max-height:340px}
#result-link code {word-break:break-all; white-space:pre-wrap}
footer {display:none !important}
"""


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

    def all(self) -> list[Any]:
        return list(self.__dict__.values())


_RESULT_NOTES = {True: "page.result_note_offline", False: "page.result_note_online"}
#: A result URL the page may show as a link: http(s) and nothing that could end the link early.
_LINKABLE = re.compile(r"https?://[^\s<>`\\]+", re.IGNORECASE)
#: The most ownership tokens the browser keeps (the newest): enough for any session history.
MAX_STORED_TOKENS = 200


def _result_link(step: Step, offline: bool, lang: Language) -> str:
    if step.task is None or not step.task.result_url:
        return ""
    url = step.task.result_url
    # The simulator's address is not a link to follow; an odd URL from the API is not a link.
    shown = f"<{url}>" if not offline and _LINKABLE.fullmatch(url) else code(url)
    return f"{text('page.result_url', lang, url=shown)}  \n{text(_RESULT_NOTES[offline], lang)}"


def _render(
    step: Step, *, running: bool, offline: bool = False, lang: Language = "en"
) -> tuple[Any, ...]:
    """Component updates for one :class:`Step`, texts in ``lang``."""
    finished = step.phase == "succeed"
    # A step from the history may outlive its files (deleted after TRYON_WORK_TTL).
    kept = finished and step.result_path is not None and step.result_path.is_file()
    pair = step.comparison if finished and step.comparison else None
    return (
        step.status_text(lang),
        json_dumps_safe(step.request) if step.request is not None else gr.skip(),
        json_dumps_safe(step.task_json) if step.task_json is not None else gr.skip(),
        "\n".join(f"- {note.markdown(lang)}" for note in step.notes) if step.notes else gr.skip(),
        str(step.result_path) if kept else gr.skip(),
        tuple(str(p) for p in pair) if pair and all(p.is_file() for p in pair) else gr.skip(),
        gr.DownloadButton(value=str(step.result_path), visible=True) if kept else gr.skip(),
        _result_link(step, offline, lang) if finished else gr.skip(),
        gr.Button(interactive=not running),
        gr.Button(visible=running),
        step.task.task_id if step.task else gr.skip(),
    )


def _cleared(lang: Language) -> tuple[Any, ...]:
    return (
        Step("preparing", 0.0).status_text(lang),
        "",
        "",
        "",
        None,
        None,
        gr.DownloadButton(value=None, visible=False),
        "",
        gr.Button(interactive=False),
        gr.Button(visible=True),
        None,
    )


def _history_entry(step: Step, model_name: str) -> dict[str, Any] | None:
    if step.task is None:
        return None
    return {
        "task_id": step.task.task_id,
        "model": model_name,
        "status": step.task.task_status if step.phase != "error" else "error",
        "time": time.strftime("%H:%M:%S"),
        "thumb": str(step.result_path) if step.result_path else None,
        "step": step,
    }


#: The history's task states, each named in the catalogues (``state.<name>``).
_HISTORY_STATES = frozenset({"submitted", "processing", "succeed", "failed", "error"})


def _gallery(history: list[dict[str, Any]], lang: Language = "en") -> list[tuple[str, str]]:
    placeholder = str(ASSETS / "ui" / "no-result.png")
    return [
        (
            entry["thumb"] if entry["thumb"] and Path(entry["thumb"]).is_file() else placeholder,
            " · ".join(
                (
                    entry["time"],
                    text(f"state.{entry['status']}", lang)
                    if entry["status"] in _HISTORY_STATES
                    else entry["status"],
                    entry["model"].removeprefix("kolors-virtual-try-on-"),
                    entry["task_id"][:10],
                )
            ),
        )
        for entry in reversed(history)
    ]


def build_demo(settings: Settings | None = None, *, workdir: Path = WORKDIR) -> gr.Blocks:
    """The whole page, wired to a :class:`Studio`."""
    settings = settings or load_settings()
    session_state.install()
    studio = Studio(settings, workdir, served_url=lambda: _served_url(demo))
    offline = settings.mode == "offline"
    banner_class = "mode-offline" if offline else "mode-online"
    banner_text = T("banner_offline") if offline else f"{T('banner_online')} {settings.base_host}"
    banner = f'<span class="mode-banner {banner_class}">{banner_text}</span>'
    people = sorted(str(p) for p in (ASSETS / "people").glob("*.jpg"))
    garments = sorted(str(p) for p in (ASSETS / "garments").glob("*.png"))

    # Gradio's own copies of what the page showed (uploads, results) go as the work files do.
    ttl = max(1, int(settings.work_ttl))
    demo = gr.Blocks(title="Kolors Try-On Studio", delete_cache=(max(1, min(ttl // 4, 300)), ttl))
    with demo:
        history = gr.State([])
        # task id -> ownership token, kept (encrypted) in the browser so that a reload or a
        # restart of the app does not lose the right to re-attach to one's own tasks.
        owner_tokens = gr.BrowserState(
            {}, storage_key="kolors-tryon-owner-tokens", secret=studio.browser_secret()
        )
        saved_language = gr.BrowserState(
            "", storage_key=LANGUAGE_STORAGE_KEY, secret=LANGUAGE_STORAGE_KEY
        )
        with gr.Row(elem_id="app-header"):
            gr.HTML(
                f"<div><h1>Kolors Try-On Studio</h1><p>{T('subtitle')}</p></div>",
                elem_id="header",
                padding=False,
            )
            gr.HTML(banner, elem_id="mode", padding=False)
            language_choice = gr.Dropdown(
                language_choices(),
                value=None,
                label=T("language"),
                show_label=False,
                container=False,
                min_width=110,
                scale=0,
                elem_id="language",
            )
        with gr.Row(equal_height=False):
            with gr.Column(min_width=300):
                human, human_url = _image_step(
                    T("step_person"), T("person_photo"), "human", T("person_rules")
                )
                gr.Examples(
                    people,
                    inputs=[human],
                    label=T("example_people"),
                    cache_examples=False,
                    examples_per_page=8,
                )
            with gr.Column(min_width=300):
                cloth, cloth_url = _image_step(
                    T("step_garment"), T("garment_photo"), "cloth", T("garment_rules")
                )
                with gr.Accordion(T("outfit"), open=False, elem_id="outfit"):
                    gr.Markdown(T("outfit_help"), elem_classes="rules")
                    with gr.Row():
                        top_image = OriginalImage(
                            label=T("first_piece"),
                            type="filepath",
                            height=200,
                            sources=["upload", "clipboard"],
                            elem_id="outfit-top",
                        )
                        bottom_image = OriginalImage(
                            label=T("second_piece"),
                            type="filepath",
                            height=200,
                            sources=["upload", "clipboard"],
                            elem_id="outfit-bottom",
                        )
                    with gr.Row():
                        top_kind = gr.Dropdown(
                            PIECE_KINDS,
                            value="top",
                            label=T("first_kind"),
                            elem_id="outfit-top-kind",
                        )
                        bottom_kind = gr.Dropdown(
                            PIECE_KINDS,
                            value="bottom",
                            label=T("second_kind"),
                            elem_id="outfit-bottom-kind",
                        )
                    compose = gr.Button(T("compose"), elem_id="compose-button")
                gr.Examples(
                    garments,
                    inputs=[cloth],
                    label=T("example_garments"),
                    cache_examples=False,
                    examples_per_page=8,
                )
            with gr.Column(min_width=300):
                gr.Markdown(T("step_run"), elem_classes="step-title")
                model = gr.Dropdown(
                    MODEL_CHOICES,
                    value=DEFAULT_MODEL,
                    label=T("model"),
                    info=T("model_info"),
                    elem_id="model-name",
                )
                with gr.Accordion(T("advanced"), open=False):
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
                with gr.Row():
                    run = gr.Button(T("run"), variant="primary", elem_id="run-button", scale=3)
                    cancel = gr.Button(T("cancel"), visible=False, elem_id="cancel-button", scale=1)
                status = gr.Markdown(T("ready"), elem_id="status")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=320):
                with gr.Tabs():
                    with gr.Tab(T("tab_result")):
                        result = gr.Image(
                            label=T("result"),
                            type="filepath",
                            interactive=False,
                            height=560,
                            elem_id="result-image",
                            buttons=["fullscreen"],
                        )
                    with gr.Tab(T("tab_before_after")):
                        slider = gr.ImageSlider(
                            label=str(T("tab_before_after")),
                            type="filepath",
                            interactive=False,
                            max_height=560,
                            elem_id="comparison",
                        )
                    with gr.Tab(T("tab_compare"), elem_id="compare-tab"):
                        compare_button = gr.Button(
                            T("compare_run"),
                            variant="primary",
                            elem_id="compare-button",
                        )
                        compare_status = gr.Markdown(elem_id="compare-status")
                        with gr.Row():
                            compare_images = [
                                gr.Image(
                                    label=label,
                                    type="filepath",
                                    interactive=False,
                                    height=460,
                                    elem_id=f"compare-{key}",
                                )
                                for label, key in (("Kolors v1", "v1"), ("Kolors v1.5", "v1-5"))
                            ]
                    with gr.Tab(T("tab_lookbook"), elem_id="lookbook-tab"):
                        gr.Markdown(T("lookbook_help"), elem_classes="rules")
                        lookbook_garments = gr.Gallery(
                            label=f"{T('garments')} (≤ {settings.lookbook_max_items})",
                            type="filepath",
                            interactive=True,
                            file_types=["image"],
                            columns=6,
                            height=220,
                            elem_id="lookbook-garments",
                        )
                        with gr.Row():
                            lookbook_run = gr.Button(
                                T("lookbook_run"),
                                variant="primary",
                                scale=3,
                                elem_id="lookbook-run",
                            )
                            lookbook_cancel = gr.Button(
                                T("stop"), visible=False, scale=1, elem_id="lookbook-cancel"
                            )
                        lookbook_status = gr.Markdown(elem_id="lookbook-status")
                        lookbook_table = gr.Dataframe(
                            headers=list(table_headers("en")),
                            datatype=["str"] * len(table_headers("en")),
                            interactive=False,
                            wrap=True,
                            elem_id="lookbook-table",
                        )
                        lookbook_results = gr.Gallery(
                            label=T("results"),
                            columns=4,
                            height="auto",
                            elem_id="lookbook-results",
                        )
                        lookbook_zip = gr.DownloadButton(
                            str(T("lookbook_zip")),  # the frontend translates the marker
                            visible=False,
                            elem_id="lookbook-download",
                        )
                download = gr.DownloadButton(str(T("download")), visible=False, elem_id="download")
                link = gr.Markdown(elem_id="result-link")
            with gr.Column(scale=2, min_width=320):
                request_json = gr.Code(
                    label=T("request_json"),
                    language="json",
                    interactive=False,
                    wrap_lines=True,
                    max_lines=24,
                    elem_id="request-json",
                )
                task_json = gr.Code(
                    label=T("task_json"),
                    language="json",
                    interactive=False,
                    wrap_lines=True,
                    max_lines=24,
                    elem_id="task-json",
                )
                notes = gr.Markdown(elem_id="prep-notes")
        with gr.Accordion(T("history"), open=False, elem_id="history"):
            gallery = gr.Gallery(
                label=T("history_gallery"),
                columns=6,
                height=260,
                allow_preview=False,
                elem_id="history-gallery",
            )
            with gr.Row():
                task_id = gr.Textbox(
                    label=T("task_id"),
                    placeholder=T("task_id_placeholder"),
                    scale=3,
                    max_lines=1,
                    elem_id="task-id",
                )
                attach = gr.Button(T("attach"), scale=1, elem_id="attach-button")

        outputs = Outputs(
            status,
            request_json,
            task_json,
            notes,
            result,
            slider,
            download,
            link,
            run,
            cancel,
            gr.State(None),
        )

        async def shown(
            steps: AsyncIterator[Step],
            model_name: str,
            entries: list[dict[str, Any]],
            lang: Language,
            known: dict[str, str] | None,
        ) -> AsyncIterator[tuple[Any, ...]]:
            """A run's steps as page updates; the finished one also goes into the history, and
            the task's ownership token into the browser as soon as the task exists."""
            tokens: dict[str, str] | None = None
            async for step in guarded(steps):
                if tokens is None and step.task is not None and step.owner_token:
                    tokens = _remember(known, {step.task.task_id: step.owner_token})
                # Sent with every later update, not once: Gradio may merge a generator's
                # updates, and a skip after the one that carried the token would lose it.
                stored = tokens if tokens is not None else gr.skip()
                if not step.done:
                    yield (
                        *_render(step, running=True, offline=offline, lang=lang),
                        gr.skip(),
                        gr.skip(),
                        stored,
                    )
                    continue
                entry = _history_entry(step, model_name)
                entries = [*entries, entry] if entry else entries
                rendered = _render(step, running=False, offline=offline, lang=lang)
                yield (*rendered, entries, _gallery(entries, lang), stored)

        async def run_flow(
            human_file: str | None,
            human_link: str,
            cloth_file: str | None,
            cloth_link: str,
            model_name: str,
            callback_url: str,
            visitor_key: str,
            entries: list[dict[str, Any]],
            known: dict[str, str] | None,
            choice: str | None,
            request: gr.Request,
        ) -> AsyncIterator[tuple[Any, ...]]:
            lang = _lang(request, choice)
            yield (*_cleared(lang), gr.skip(), gr.skip(), gr.skip())
            try:
                person = _pick_source(human_file, human_link, msg("field.person"))
                garment = _pick_source(cloth_file, cloth_link, msg("field.garment"))
            except TryOnError as exc:
                failed = _render(Step("error", 0.0, error=exc), running=False, lang=lang)
                yield (*failed, gr.skip(), gr.skip(), gr.skip())
                return
            steps = studio.run(
                person,
                garment,
                model_name,
                callback_url,
                api_key=visitor_key,
                session=_session(request, settings),
            )
            async for update in shown(steps, model_name, entries, lang, known):
                yield update

        async def follow_flow(
            task: str,
            visitor_key: str,
            entries: list[dict[str, Any]],
            known: dict[str, str] | None,
            choice: str | None,
            request: gr.Request,
        ) -> AsyncIterator[tuple[Any, ...]]:
            lang = _lang(request, choice)
            yield (*_cleared(lang), gr.skip(), gr.skip(), gr.skip())
            task = (task or "").strip()
            token = (known or {}).get(task) if isinstance(known, dict) else None
            steps = studio.follow(
                task,
                api_key=visitor_key,
                owner_token=token,
                session=_session(request, settings),
            )
            async for update in shown(steps, "re-attached", entries, lang, known):
                yield update

        def compose_pieces(
            first: str | None,
            second: str | None,
            first_kind: str,
            second_kind: str,
            choice: str | None,
            request: gr.Request,
        ) -> tuple[Any, ...]:
            lang = _lang(request, choice)
            try:
                path = studio.compose_outfit(
                    _pick_source(first, "", msg("field.top_garment")),
                    _pick_source(second, "", msg("field.bottom_garment")),
                    (first_kind, second_kind),
                )
            except TryOnError as exc:
                return (
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                    text("page.outfit_failed", lang) + f"\n\n{exc.as_msg().markdown(lang)}",
                )
            return (str(path), "", MODELS[1], text("page.outfit_composed", lang))

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
            lang = _lang(request, choice)
            yield (
                Step("preparing", 0.0).status_text(lang),
                None,
                None,
                gr.Button(interactive=False),
                gr.skip(),
            )
            try:
                person = _pick_source(human_file, human_link, msg("field.person"))
                garment = _pick_source(cloth_file, cloth_link, msg("field.garment"))
            except TryOnError as exc:
                failed = Step("error", 0.0, error=exc).status_text(lang)
                yield failed, None, None, gr.Button(interactive=True), gr.skip()
                return
            steps = studio.compare(
                person, garment, api_key=visitor_key, session=_session(request, settings)
            )
            tokens: dict[str, str] | None = None
            async for latest in steps:
                lines = [
                    f"{label}: {latest[model].status_text(lang)}"
                    for label, model in zip(("**v1**", "**v1.5**"), MODELS, strict=True)
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
                    tokens = _remember(tokens or known, new)
                # Every update carries them once known: Gradio may merge a generator's updates.
                stored = tokens if tokens is not None else gr.skip()
                yield "\n\n".join(lines), *results, gr.Button(interactive=done), stored

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
            lang = _lang(request, choice)
            tokens: dict[str, str] | None = None

            def idle() -> tuple[Any, ...]:
                stored = tokens if tokens is not None else gr.skip()
                return gr.Button(interactive=True), gr.Button(visible=False), stored

            yield (
                Step("preparing", 0.0).status_text(lang),
                gr.Dataframe(value=[], headers=list(table_headers(lang))),
                [],
                gr.DownloadButton(value=None, visible=False),
                gr.Button(interactive=False),
                gr.Button(visible=True),
                gr.skip(),
            )
            garments = [Garment(Path(path).name, Path(path)) for path, _ in pictures or []]
            items: tuple[LookItem, ...] = ()
            try:
                person = _pick_source(human_file, human_link, msg("field.person"))
                batch = studio.lookbook(
                    person,
                    garments,
                    model_name,
                    api_key=visitor_key,
                    session=_session(request, settings),
                )
                async for items in batch:
                    # Each garment's task, once created, may be re-attached to by its id later.
                    # (sent with every update once known: Gradio may merge a generator's updates)
                    new = {
                        item.task_id: studio.owner_token(item.task_id)
                        for item in items
                        if item.task_id and item.task_id not in (tokens or {})
                    }
                    if new:
                        tokens = _remember(tokens or known, new)
                    yield (
                        f"**{lookbook_summary(items).render(lang)}**",
                        _lookbook_rows(items, lang),
                        _lookbook_gallery(items),
                        gr.skip(),
                        gr.skip(),
                        gr.skip(),
                        tokens if tokens is not None else gr.skip(),
                    )
                archive = studio.lookbook_zip(items, model_name) if items else None
            except Exception as exc:  # the page shows a sentence, never a traceback
                if not isinstance(exc, TryOnError):
                    log.exception("the lookbook failed unexpectedly")
                    exc = TryOnError(APP_FAULT)
                yield (
                    text("page.lookbook_failed", lang) + f"\n\n{exc.as_msg().markdown(lang)}",
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                    *idle(),
                )
                return
            yield (
                f"**{text('lookbook.finished', lang, summary=lookbook_summary(items))}**",
                gr.skip(),
                gr.skip(),
                gr.DownloadButton(value=str(archive), visible=True) if archive else gr.skip(),
                *idle(),
            )

        def stop(current: str | None, choice: str | None, request: gr.Request) -> tuple[Any, ...]:
            said = [msg("page.stopped_waiting")]
            if current:
                said.append(msg("page.reattach", task_id=Code(current)))
            return (
                Msg.join(said).markdown(_lang(request, choice)),
                gr.Button(interactive=True),
                gr.Button(visible=False),
            )

        def lookbook_stopped(choice: str | None, request: gr.Request) -> tuple[Any, ...]:
            return (
                text("page.lookbook_stopped", _lang(request, choice)),
                gr.Button(interactive=True),
                gr.Button(visible=False),
            )

        def show_entry(
            entries: list[dict[str, Any]],
            choice: str | None,
            evt: gr.SelectData,
            request: gr.Request,
        ) -> tuple[Any, ...]:
            entry = list(reversed(entries))[evt.index]
            lang = _lang(request, choice)
            return _render(entry["step"], running=False, offline=offline, lang=lang)

        run_inputs = [
            human,
            human_url,
            cloth,
            cloth_url,
            model,
            callback,
            api_key,
            history,
            owner_tokens,
            language_choice,
        ]
        run_event = run.click(
            run_flow,
            run_inputs,
            [*outputs.all(), history, gallery, owner_tokens],
            concurrency_limit=None,
            api_visibility="private",
        )
        attach_event = gr.on(
            [attach.click, task_id.submit],
            follow_flow,
            [task_id, api_key, history, owner_tokens, language_choice],
            [*outputs.all(), history, gallery, owner_tokens],
            concurrency_limit=None,
            api_visibility="private",
        )
        # Cancel first, then report: a late update from the stopped run must not land after it.
        cancel.click(None, None, None, cancels=[run_event, attach_event], queue=False).then(
            stop,
            [outputs.current, language_choice],
            [status, run, cancel],
            api_visibility="private",
        )
        gallery.select(
            show_entry, [history, language_choice], outputs.all(), api_visibility="private"
        )
        compare_button.click(
            compare_flow,
            [human, human_url, cloth, cloth_url, api_key, owner_tokens, language_choice],
            [compare_status, *compare_images, compare_button, owner_tokens],
            concurrency_limit=None,
            api_visibility="private",
        )
        lookbook_event = lookbook_run.click(
            lookbook_flow,
            [human, human_url, lookbook_garments, model, api_key, owner_tokens, language_choice],
            [
                lookbook_status,
                lookbook_table,
                lookbook_results,
                lookbook_zip,
                lookbook_run,
                lookbook_cancel,
                owner_tokens,
            ],
            concurrency_limit=None,
            api_visibility="private",
        )
        lookbook_cancel.click(None, None, None, cancels=[lookbook_event], queue=False).then(
            lookbook_stopped,
            [language_choice],
            [lookbook_status, lookbook_run, lookbook_cancel],
            api_visibility="private",
        )
        compose.click(
            compose_pieces,
            [top_image, bottom_image, top_kind, bottom_kind, language_choice],
            [cloth, cloth_url, model, status],
            api_visibility="private",
        )
        # One source per image: an upload clears the link and a typed link clears the upload.
        human.upload(lambda: "", None, human_url, api_visibility="private", queue=False)
        cloth.upload(lambda: "", None, cloth_url, api_visibility="private", queue=False)
        human_url.input(lambda: None, None, human, api_visibility="private", queue=False)
        seed_links.click(
            lambda: (*SEED_EXAMPLE_URLS, None, None),
            None,
            [human_url, cloth_url, human, cloth],
            api_visibility="private",
            queue=False,
        )
        cloth_url.input(lambda: None, None, cloth, api_visibility="private", queue=False)

        # The language switch: a choice is remembered in the browser and overrides the
        # browser's language for every text the server writes; it also switches Gradio's labels.
        def initial_language(saved: str | None, request: gr.Request) -> str:
            """The switch shows the remembered choice, else the browser's language."""
            return _lang(request, saved)

        demo.load(
            initial_language,
            [saved_language],
            [language_choice],
            api_visibility="private",
            queue=False,
            show_progress="hidden",
        )
        language_choice.input(
            lambda choice: choice if choice in LANGUAGE_CODES else "",
            [language_choice],
            [saved_language],
            api_visibility="private",
            queue=False,
            show_progress="hidden",
        )
        language_choice.change(
            None, [language_choice], None, js=APPLY_LOCALE_JS, api_visibility="private"
        )

        # Programmatic endpoints: gradio_client, the MCP tools (TRYON_MCP_SERVER) and the tests.
        # /tryon holds a call open until its task ends: at most this many at once, more wait.
        tryons = asyncio.Semaphore(access.API_CONCURRENCY)

        @documented(api_docs.SUBMIT)
        async def submit(
            human_image: FileData | str,
            cloth_image: FileData | str,
            model_name: str = DEFAULT_MODEL,
            callback_url: str = "",
            request: gr.Request | None = None,
        ) -> dict[str, Any]:
            try:
                task = await studio.submit(
                    api_image_source(human_image, msg("field.person")),
                    api_image_source(cloth_image, msg("field.garment")),
                    model_name,
                    callback_url,
                    session=_session(request, settings),
                )
            except TryOnError as exc:
                raise gr.Error(error_text(exc, _lang(request)), print_exception=False) from None
            return {**task.raw, "owner_token": studio.owner_token(task.task_id)}

        @documented(api_docs.TRYON)
        async def tryon(
            human_image: FileData | str,
            cloth_image: FileData | str,
            model_name: str = DEFAULT_MODEL,
            callback_url: str = "",
            request: gr.Request | None = None,
        ) -> tuple[FileData, dict[str, Any]]:
            final: Step | None = None
            try:
                person = api_image_source(human_image, msg("field.person"))
                garment = api_image_source(cloth_image, msg("field.garment"))
            except TryOnError as exc:
                raise gr.Error(error_text(exc, _lang(request)), print_exception=False) from None
            steps = studio.run(
                person,
                garment,
                model_name,
                callback_url,
                session=_session(request, settings),
                compare=False,
            )
            async with tryons:
                async for step in steps:
                    final = step
            assert final is not None
            lang = _lang(request)
            if final.error is not None:
                # Errors after the create name the task already (see Studio._follow).
                raise gr.Error(error_text(final.error, lang), print_exception=False)
            if final.phase == "failed" or final.result_path is None:
                reason = failure_reason(final.task) if final.task else msg("status.no_reason")
                said = msg("task.failed_plain", reason=reason)
                if final.task is not None:  # the caller can look it up instead of paying again
                    said = Msg.join([said, msg("error.task_id", task_id=final.task.task_id)])
                raise gr.Error(said.render(lang), print_exception=False)
            assert final.task is not None
            owned = {**final.task.raw, "owner_token": studio.owner_token(final.task.task_id)}
            return FileData(path=str(final.result_path)), owned

        @documented(api_docs.QUERY)
        async def query(
            task_id: str, owner_token: str = "", request: gr.Request | None = None
        ) -> dict[str, Any]:
            try:
                task = await studio.query(
                    task_id.strip(), owner_token, session=_session(request, settings)
                )
                return task.raw
            except TryOnError as exc:
                raise gr.Error(error_text(exc, _lang(request)), print_exception=False) from None

        # All three run outside Gradio's queue. Gradio's queued MCP path calls the app back over
        # HTTP as one shared loopback client: it folds /tryon's two outputs into one, cannot log
        # in when a password is set, and would count every MCP caller as one visitor. Outside
        # the queue a tool call runs with the caller's own request (its address, and the
        # AccessGuard's password check), under the same limits; ``tryons`` bounds the long ones.
        gr_api(submit, api_name="submit", concurrency_limit=None, queue=False)
        gr_api(tryon, api_name="tryon", concurrency_limit=None, queue=False)
        gr_api(query, api_name="query", concurrency_limit=None, queue=False)
    return demo


def _served_url(demo: gr.Blocks) -> str | None:
    """The loopback URL ``demo`` is being served at, once it runs with the callback route
    (launched with :func:`launch_options`); ``None`` before, so runs poll instead."""
    app = getattr(demo, "server_app", None)
    port = getattr(demo, "server_port", None)
    if not getattr(demo, "is_running", False) or app is None or not port:
        return None
    if not any(getattr(route, "path", None) == CALLBACK_PATH for route in app.routes):
        return None
    return loopback_url(getattr(demo, "server_name", None), int(port))


def _remember(known: dict[str, str] | None, new: dict[str, str]) -> dict[str, str]:
    """The browser's tokens with ``new`` (task id -> token) added, the oldest dropped beyond
    the cap."""
    tokens = dict(known) if isinstance(known, dict) else {}
    for task_id, token in new.items():
        tokens.pop(task_id, None)
        tokens[task_id] = token
    return dict(list(tokens.items())[-MAX_STORED_TOKENS:])


def _lookbook_gallery(items: tuple[LookItem, ...]) -> list[tuple[str, str]]:
    return [
        (str(item.result_path), f"{item.index}. {item.garment}")
        for item in items
        if item.result_path is not None
    ]


def _lang(request: gr.Request | None, choice: str | None = None) -> Language:
    """The visitor's language: their choice on the page (the language switch), else the
    browser's Accept-Language header."""
    headers = getattr(request, "headers", None)
    return choose(choice, headers.get("accept-language") if headers is not None else None)


def _lookbook_rows(items: tuple[LookItem, ...], lang: Language) -> list[list[str]]:
    return table_rows(items, lang)


def _session(request: gr.Request | None, settings: Settings) -> str:
    """The visitor a submission or lookup counts against: the client address (or the MCP
    caller's), never the Gradio session, which a client can make anew for free."""
    return access.visitor_key(request, settings.trusted_proxies)


def _image_step(
    title: I18nData, label: I18nData, key: str, rules: I18nData
) -> tuple[OriginalImage, gr.Textbox]:
    """One image step: the upload (file, webcam, clipboard), a link field and the rules."""
    gr.Markdown(title, elem_classes="step-title")
    image = OriginalImage(
        label=label,
        sources=["upload", "webcam", "clipboard"],
        type="filepath",
        height=380,
        elem_id=f"{key}-image",
    )
    link = gr.Textbox(
        label=T("link"),
        placeholder="https://…",
        elem_id=f"{key}-url",
        max_lines=1,
    )
    gr.Markdown(rules, elem_classes="rules")
    return image, link


def _pick_source(upload: str | None, link: str | None, field: str | Msg) -> ImageSource | None:
    """A typed link wins over an upload (typing one clears the other anyway).

    Uploads arrive as paths inside Gradio's upload folder, or as data: URLs from the webcam;
    typed text is only ever treated as a link, never as a path on this server.
    """
    if link and link.strip():
        return api_image_source(link, field)
    if not upload:
        return None
    return upload if upload.startswith("data:") else Path(upload)


def launch_options(workdir: Path = WORKDIR, settings: Settings | None = None) -> dict[str, Any]:
    """What ``demo.launch`` needs: theme and CSS (the Gradio 6 way), limits and privacy.

    ``workdir`` must be the folder given to :func:`build_demo`: results are served from it.
    With ``TRYON_ACCESS_PASSWORD`` set, the page asks for it (user name ``TRYON_ACCESS_USER``).
    """
    settings = settings or load_settings()
    access.trust_forwarded_headers_here_only()
    auth = (settings.access_user, settings.access_password) if settings.access_password else None
    message = text("page.auth_message")
    return {
        "auth": auth,
        "auth_message": message,
        # The password on every route, MCP included, and a brake on guessing it; then Gradio
        # reads JSON bodies whole before looking at them, so huge ones are refused first.
        "app_kwargs": {
            "middleware": [
                *access.access_middleware(settings, message),
                Middleware(
                    BodyLimitMiddleware,
                    uploads=UploadBudget(settings.upload_budget_bytes),
                    address=access.scope_address(settings.trusted_proxies),
                ),
            ],
            # POST /callbacks/<token>: where the API's callbacks wake the runs waiting on them.
            "routes": callback_routes(callback_inbox.shared(), settings.trusted_proxies),
        },
        # Without server-side rendering no Node proxy sits between the visitor and this app,
        # so the X-Forwarded-For hops TRYON_TRUSTED_PROXIES counts are the same everywhere.
        "ssr_mode": False,
        "theme": gr.themes.Soft(primary_hue="indigo", neutral_hue="slate").set(
            button_primary_background_fill="*primary_600",
            button_primary_background_fill_hover="*primary_700",
            button_primary_text_color="white",
        ),
        "css": CSS,
        "i18n": T,
        # The browser would otherwise keep a history of every run's inputs, the API key field
        # included, in its local storage.
        "run_history": False,
        "footer_links": [],
        "max_file_size": "100mb",
        "allowed_paths": [str(workdir), str(ASSETS)],
        "show_error": False,
        # TRYON_MCP_SERVER switches the tools on; otherwise Gradio's own GRADIO_MCP_SERVER decides.
        "mcp_server": True if settings.mcp_server else None,
    }
