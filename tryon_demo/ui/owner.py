"""The ``/owner`` page: the Space's figures and plots, in the owner's language.

A Gradio app of its own, mounted beside the demo on the same server (not inside it), behind
Gradio's login (user ``owner``, ``TRYON_OWNER_PASSWORD``) and the owner's guard
(:class:`~tryon_demo.hosting.owner_door.OwnerPageGuard`). The words and numbers come from
:mod:`tryon_demo.hosting.usage_view`; this module only lays them out.
"""

from __future__ import annotations

import html
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd
from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount

from ..hosting import usage_view
from ..hosting.access import LoginThrottle
from ..hosting.owner_door import (
    OWNER_PAGE,
    OWNER_USER,
    OwnerGuard,
    OwnerPageGuard,
    owner_routes,
)
from ..hosting.usage import usage_for
from ..hosting.usage_report import UsageReport
from ..settings import Settings
from ..text.i18n import language_choices
from ..text.messages import text
from .common import lang_of
from .header import LANGUAGE_STORAGE_KEY

OWNER_CSS = """
#owner-header {align-items:center; justify-content:space-between; gap:8px}
#owner-header h1 {margin:0; font-size:1.5rem}
#owner-header p {margin:2px 0 0; opacity:.75}
#owner-header > #owner-language {flex:0 0 auto !important; width:7.5rem !important;
  min-width:0 !important}
#owner-header > #owner-refresh {flex:0 0 auto !important; min-width:0 !important}
.owner-cards {display:grid; grid-template-columns:repeat(auto-fill, minmax(210px, 1fr)); gap:10px}
.owner-card {padding:10px 14px; border-radius:10px; background:var(--block-background-fill);
  border:1px solid var(--border-color-primary)}
.owner-card .title {font-size:.85rem; opacity:.8}
.owner-card .value {font-size:1.6rem; font-weight:700; line-height:1.3}
.owner-card .detail {font-size:.8rem; opacity:.8}
.owner-note {font-size:.8rem; opacity:.75}
footer {display:none !important}
@media (max-width: 640px) {
  #owner-header {flex-wrap:wrap}
  #owner-header > #owner-heading {flex:1 1 100% !important}
  #owner-header h1 {font-size:1.25rem}
}
"""
#: The plots' heights in pixels: tall enough to read, short enough for a laptop screen.
PLOT_HEIGHT = 260


@dataclass
class OwnerPage:
    """The page's parts the refresh fills in."""

    heading: gr.HTML
    language: gr.Dropdown
    refresh: gr.Button
    cards: gr.HTML
    hourly: gr.BarPlot
    outcomes: gr.BarPlot
    refusals: gr.BarPlot
    times: gr.BarPlot
    table_title: gr.Markdown
    table: gr.Dataframe
    note: gr.HTML

    def outputs(self) -> list[Any]:
        """Every part a refresh updates, in :func:`render`'s order."""
        return [
            self.heading,
            self.language,
            self.refresh,
            self.cards,
            self.hourly,
            self.outcomes,
            self.refusals,
            self.times,
            self.table_title,
            self.table,
            self.note,
        ]


def build_owner_page(report: UsageReport, queue_waiting: Callable[[], int]) -> gr.Blocks:
    """The owner's page, refreshed on load, on Refresh and on a change of language."""
    page: gr.Blocks = gr.Blocks(title="Kolors Try-On Studio · owner")
    with page:
        saved_language = gr.BrowserState(
            "", storage_key=LANGUAGE_STORAGE_KEY, secret=LANGUAGE_STORAGE_KEY
        )
        with gr.Row(elem_id="owner-header"):
            heading = gr.HTML(elem_id="owner-heading", padding=False)
            language = gr.Dropdown(
                language_choices(),
                value=None,
                label=" / ".join(text("owner.language", lang) for _, lang in language_choices()),
                show_label=False,
                container=False,
                min_width=110,
                scale=0,
                elem_id="owner-language",
            )
            refresh = gr.Button("Refresh", size="sm", scale=0, elem_id="owner-refresh")
        cards = gr.HTML(elem_id="owner-cards", padding=False)
        hourly = gr.BarPlot(x="hour", y="creates", height=PLOT_HEIGHT, elem_id="owner-hourly")
        with gr.Row(equal_height=True):
            outcomes = gr.BarPlot(
                x="day", y="count", color="outcome", height=PLOT_HEIGHT, elem_id="owner-outcomes"
            )
            refusals = gr.BarPlot(
                x="reason", y="count", height=PLOT_HEIGHT, elem_id="owner-refusals"
            )
        times = gr.BarPlot(
            x="label", y="seconds", color="series", height=PLOT_HEIGHT, elem_id="owner-times"
        )
        table_title = gr.Markdown(elem_id="owner-table-title")
        table = gr.Dataframe(interactive=False, elem_id="owner-table")
        note = gr.HTML(elem_id="owner-note", padding=False)
        parts = OwnerPage(
            heading,
            language,
            refresh,
            cards,
            hourly,
            outcomes,
            refusals,
            times,
            table_title,
            table,
            note,
        )

        def show(choice: str | None, request: gr.Request) -> list[Any]:
            return render(report, lang_of(request, choice), queue_waiting())

        page.load(show, [saved_language], parts.outputs(), api_visibility="private", queue=False)
        refresh.click(show, [language], parts.outputs(), api_visibility="private", queue=False)
        language.input(
            show, [language], parts.outputs(), api_visibility="private", queue=False
        ).then(
            lambda choice: choice,
            [language],
            [saved_language],
            api_visibility="private",
            queue=False,
        )
    return page


def render(report: UsageReport, lang: str, queue_waiting: int) -> list[Any]:
    """Every part of the page in ``lang``, from the figures as they are now."""
    figures = report.figures()
    headers, rows = usage_view.day_table(figures, lang)
    times = usage_view.time_rows(figures, lang)
    refused = usage_view.refusal_rows(figures, lang)
    hourly = pd.DataFrame(usage_view.hourly_rows(figures))
    hourly["hour"] = pd.to_datetime(hourly["hour"])  # a time axis, not 168 names
    return [
        (
            f"<div><h1>{html.escape(text('owner.title', lang))}</h1>"
            f"<p>{html.escape(text('owner.subtitle', lang, app='Kolors Try-On Studio'))}</p></div>"
        ),
        gr.Dropdown(value=lang),
        gr.Button(value=text("owner.refresh", lang)),
        _cards_html(usage_view.cards(figures, lang, queue_waiting)),
        gr.BarPlot(
            hourly,
            title=text("owner.plot_hourly", lang),
            x_title=text("owner.axis_hour", lang),
            y_title=text("owner.axis_tryons", lang),
            x_axis_format="%m-%d %H:00",  # the same in every language
        ),
        gr.BarPlot(
            pd.DataFrame(usage_view.outcome_rows(figures, lang)),
            title=text("owner.plot_outcomes", lang),
            x_title=text("owner.axis_day", lang),
            y_title=text("owner.axis_count", lang),
            color_title=text("owner.axis_outcome", lang),
            color_map=_outcome_colours(lang),
        ),
        gr.BarPlot(
            pd.DataFrame(refused),
            title=text("owner.plot_refusals", lang),
            x_title=text("owner.axis_reason", lang),
            y_title=text("owner.axis_count", lang),
            x_label_angle=-30,
            sort=[row["reason"] for row in refused],
        ),
        gr.BarPlot(
            pd.DataFrame(times),
            title=text("owner.plot_times", lang),
            x_title=text("owner.axis_percentile", lang),
            y_title=text("owner.axis_seconds", lang),
            color_title=text("owner.axis_series", lang),
            x_label_angle=-30,
            sort=[row["label"] for row in times],
        ),
        f"### {text('owner.table_title', lang)}",
        gr.Dataframe(value=pd.DataFrame(rows, columns=headers)),
        (
            '<p class="owner-note">'
            + html.escape(
                text(
                    "owner.note",
                    lang,
                    state_dir="TRYON_STATE_DIR",
                    days=report.settings.usage_days,
                    prices="TRYON_CREDITS_V1, TRYON_CREDITS_V1_5",
                    json="GET /owner/usage.json",
                    metrics="GET /metrics",
                    header="Authorization: Bearer TRYON_OWNER_PASSWORD",
                )
            )
            + " "
            + html.escape(
                text("owner.updated", lang, time=time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
            )
            + "</p>"
        ),
    ]


def _cards_html(cards: list[usage_view.Card]) -> str:
    return (
        '<div class="owner-cards">'
        + "".join(
            f'<div class="owner-card" data-card="{html.escape(card.key)}">'
            f'<div class="title">{html.escape(card.title)}</div>'
            f'<div class="value">{html.escape(card.value)}</div>'
            f'<div class="detail">{html.escape(card.detail)}</div></div>'
            for card in cards
        )
        + "</div>"
    )


def _outcome_colours(lang: str) -> dict[str, str]:
    colours = {"succeed": "#16a34a", "failed": "#f59e0b", "error": "#dc2626"}
    return {usage_view.outcome_name(outcome, lang): colour for outcome, colour in colours.items()}


@dataclass(frozen=True)
class OwnerMount:
    """The owner's page as the server needs it: its route and what starts and stops it."""

    routes: list[BaseRoute]
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]]


def owner_mount(
    report: UsageReport,
    settings: Settings,
    throttle: LoginThrottle,
    queue_waiting: Callable[[], int],
    theme: Any = None,
) -> OwnerMount:
    """The ``/owner`` page as a Gradio app of its own, with Gradio's login (user ``owner``,
    the owner password) and the owner's guard in front of every route of it."""
    assert settings.owner_password, "the owner's page exists only with TRYON_OWNER_PASSWORD"
    page = build_owner_page(report, queue_waiting)
    auth_message = " · ".join(
        text("owner.auth_message", lang, user=OWNER_USER, setting="TRYON_OWNER_PASSWORD")
        for _, lang in language_choices()
    )
    holder = FastAPI()  # mount_gradio_app mounts onto an app: take its route from there
    gr.mount_gradio_app(
        holder,
        page,
        OWNER_PAGE,
        auth=(OWNER_USER, settings.owner_password),
        auth_message=auth_message,
        app_kwargs={
            "middleware": [
                Middleware(
                    OwnerPageGuard,
                    user=OWNER_USER,
                    password=settings.owner_password,
                    trusted_proxies=settings.trusted_proxies,
                    auth_message=auth_message,
                    throttle=throttle,
                )
            ]
        },
        footer_links=[],
        run_history=False,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        theme=theme,
        css=OWNER_CSS,
    )
    mount = holder.routes[-1]
    assert isinstance(mount, Mount)
    gradio_app: Any = mount.app

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        # What mount_gradio_app would run in its parent's lifespan: the page's queue and
        # Gradio's clean-ups, started with the server and stopped with it.
        async with gradio_app.router.lifespan_context(gradio_app):
            blocks = gradio_app.get_blocks()
            blocks.run_startup_events()
            await blocks.run_extra_startup_events()
            gradio_app.startup_events_triggered = True
            yield

    return OwnerMount([mount], lifespan)


@dataclass(frozen=True)
class OwnerOptions:
    """What a launch adds for the owner's view: the guard in front of everything, the routes
    (none without ``TRYON_OWNER_PASSWORD``) and what starts the owner's page."""

    guard: Middleware
    routes: list[BaseRoute]
    lifespan: Callable[[Any], AbstractAsyncContextManager[None]] | None


def owner_options(settings: Settings) -> OwnerOptions:
    """The owner's view for ``settings``: ``/metrics``, ``/owner/usage.json`` and ``/owner``
    with ``TRYON_OWNER_PASSWORD``, every one of them 404 without it."""
    throttle = LoginThrottle()  # the owner's password guesses, at every door of the owner's
    guard = Middleware(
        OwnerGuard,
        password=settings.owner_password,
        trusted_proxies=settings.trusted_proxies,
        throttle=throttle,
    )
    if not settings.owner_password:
        return OwnerOptions(guard, [], None)
    usage = usage_for(settings)
    report = UsageReport(usage, settings)
    theme = gr.themes.Soft(primary_hue="indigo", neutral_hue="slate")
    mount = owner_mount(report, settings, throttle, usage.queue_waiting, theme)
    return OwnerOptions(guard, [*owner_routes(report), *mount.routes], mount.lifespan)
